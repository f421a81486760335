/**
 * A banner about this participant's own connection: "Reconnecting…" while the
 * session mends itself (signaling lost, media interrupted), "Reconnected" for
 * a few seconds after, and, while connected, a warning when the server scores
 * an own producer below 5 of 10 (`producer.score`, the best of its encodings:
 * the ones dynacast turned off score nothing).
 */
import type { SessionState } from './hookTypes';
import type { Signaling } from './signaling';

const RECONNECTED_MS = 3000;
const POOR_BELOW = 5;

export type Banner = { state(state: SessionState): void };

export function wireConnectionBanner(element: HTMLElement, signaling: Signaling): Banner {
	let state: SessionState = 'connecting';
	let away = false;
	let hideAt: ReturnType<typeof setTimeout> | undefined;
	/** Each own producer's best score. */
	const scores = new Map<string, number>();

	const show = (kind: string, text: string): void => {
		clearTimeout(hideAt);
		element.dataset.kind = kind;
		element.textContent = text;
		element.hidden = false;
	};
	const hide = (): void => {
		element.hidden = true;
		delete element.dataset.kind;
	};
	const poor = (): boolean => [...scores.values()].some((score) => score < POOR_BELOW);
	const connected = (): void => {
		if (poor()) {
			show('poor', 'Your connection is poor: others may see you freeze');
		} else if (element.dataset.kind === 'poor') {
			hide();
		}
	};

	signaling.on('producer.score', ({ producerId, scores: list }) => {
		scores.set(producerId, Math.max(0, ...list.map((s) => s.score)));
		if (state === 'connected' && element.dataset.kind !== 'reconnected') {
			connected();
		}
	});
	return {
		state(next) {
			state = next;
			if (next === 'reconnecting') {
				away = true;
				scores.clear();
				show('reconnecting', 'Reconnecting…');
			} else if (next === 'connected' && away) {
				away = false;
				show('reconnected', 'Reconnected');
				hideAt = setTimeout(() => {
					hide();
					connected();
				}, RECONNECTED_MS);
			} else if (next === 'connected') {
				connected();
			} else {
				clearTimeout(hideAt);
				hide();
			}
		},
	};
}

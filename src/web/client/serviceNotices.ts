import type { Source } from '../../signaling/protocol';
import type { Signaling } from './signaling';

const NAMES: Record<Source, string> = { mic: 'microphone', camera: 'camera', screen: 'screen share', screenAudio: 'screen audio' };
/** The longest data message the notice shows; the rest is cut. */
const SHOWN_MAX = 500;

/** How the page shows what the service (the platform's backend, through the server API) says. */
export type ServiceView = {
	/** A notice marked as the service's, never as a participant's. */
	show(text: string): void;
	/** The service muted `source`, or allows to unmute it (controls.ts). */
	hold(source: Source, held: boolean): void;
};

/** What the page says when the user tries to unmute what the service keeps muted. */
export function heldText(source: Source): string {
	return `The service muted your ${NAMES[source]}: you may unmute it once the service allows it.`;
}

/**
 * The service's events (docs/protocol.md): `producer.muted`, `room.permissions`
 * and `room.data`, each as a notice from the service.
 */
export function wireServiceNotices(signaling: Signaling, view: ServiceView): void {
	signaling.on('producer.muted', ({ source, muted }) => {
		view.hold(source, muted);
		view.show(muted ? `The service muted your ${NAMES[source]}.` : `The service allows you to unmute your ${NAMES[source]}.`);
	});
	signaling.on('room.permissions', ({ canPublish, canSubscribe }) => {
		const denied = [...(canPublish ? [] : ['send your microphone and camera']), ...(canSubscribe ? [] : ['receive the others'])];
		view.show(denied.length === 0 ? 'The service lets you send and receive again.' : `The service does not let you ${denied.join(' or ')} for now.`);
	});
	signaling.on('room.data', ({ topic, data }) => {
		const text = data.length > SHOWN_MAX ? `${data.slice(0, SHOWN_MAX)}…` : data;
		view.show(`Message from the service${topic ? ` (${topic})` : ''}: ${text}`);
	});
}

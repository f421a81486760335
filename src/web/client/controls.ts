import type { Source } from '../../signaling/protocol';
import type { CallSession } from './CallSession';
import type { Grid } from './Grid';

type Toggle = { button: HTMLButtonElement; labels: [off: string, on: string]; titles: [off: string, on: string] };

function button(id: string): HTMLButtonElement {
	return document.getElementById(id) as HTMLButtonElement;
}

function set(toggle: Toggle, on: boolean): void {
	toggle.button.setAttribute('aria-pressed', String(on));
	toggle.button.querySelector('.label')!.textContent = toggle.labels[on ? 1 : 0];
	toggle.button.title = toggle.titles[on ? 1 : 0];
}

/** What the page tells the controls. */
export type Controls = {
	/**
	 * The service muted `source` (`held`), or allows to unmute it: muted, the
	 * button shows it and `onHeld` answers a click that would unmute it.
	 */
	hold(source: Source, held: boolean): void;
};

/**
 * Mute, camera, screen share and leave. A control whose device is missing is
 * disabled (no microphone, no camera, no getDisplayMedia on most phones).
 * `onHeld`: the user tried to unmute what the service keeps muted.
 */
export function wireControls(session: CallSession, grid: Grid, stream: MediaStream, onLeft: () => void, onHeld: (source: Source) => void): Controls {
	const mute: Toggle = { button: button('mute'), labels: ['Mute', 'Unmute'], titles: ['Mute microphone', 'Unmute microphone'] };
	const camera: Toggle = { button: button('camera'), labels: ['Cam off', 'Cam on'], titles: ['Turn camera off', 'Turn camera on'] };
	const screen: Toggle = { button: button('screen'), labels: ['Share', 'Stop share'], titles: ['Share your screen', 'Stop sharing your screen'] };
	const leave = button('leave');
	mute.button.disabled = stream.getAudioTracks().length === 0;
	camera.button.disabled = stream.getVideoTracks().length === 0;
	screen.button.disabled = typeof navigator.mediaDevices?.getDisplayMedia !== 'function';

	/** Sources the service keeps muted. */
	const held = new Set<Source>();
	const toggles = { mic: { toggle: mute, local: 'muted' }, camera: { toggle: camera, local: 'cameraOff' } } as const;
	const pause = (source: keyof typeof toggles, paused: boolean): void => {
		set(toggles[source].toggle, paused);
		grid.setLocal({ [toggles[source].local]: paused });
		void session.setPaused(source, paused);
	};
	for (const source of ['mic', 'camera'] as const) {
		// Joined muted or with the camera off (the pre-join choice): the button and the own tile say so from the start.
		if (session.local.get(source)?.paused) {
			set(toggles[source].toggle, true);
			grid.setLocal({ [toggles[source].local]: true });
		}
		toggles[source].toggle.button.addEventListener('click', () => {
			const paused = toggles[source].toggle.button.getAttribute('aria-pressed') !== 'true';
			if (!paused && held.has(source)) {
				onHeld(source);
				return;
			}
			pause(source, paused);
		});
	}
	screen.button.addEventListener('click', async () => {
		if (screen.button.getAttribute('aria-pressed') === 'true') {
			set(screen, false);
			await session.unpublish('screen');
			return;
		}
		let display: MediaStream;
		try {
			display = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
		} catch {
			return; // The user chose not to share.
		}
		const [track] = display.getVideoTracks();
		if (!track) {
			return;
		}
		set(screen, true);
		// The browser's own "stop sharing" button ends the track.
		track.addEventListener('ended', () => {
			set(screen, false);
			void session.unpublish('screen');
		});
		await session.publish('screen', track);
	});
	leave.addEventListener('click', async () => {
		for (const b of [mute.button, camera.button, screen.button, leave]) {
			b.disabled = true;
		}
		await session.leave();
		grid.clear();
		onLeft();
	});
	return {
		hold(source, muted) {
			if (muted) {
				held.add(source);
			} else {
				held.delete(source);
			}
			if (muted && (source === 'mic' || source === 'camera')) {
				pause(source, true);
			}
		},
	};
}

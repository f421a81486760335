/**
 * The pre-join screen of a room page opened without `?name=`: a camera
 * preview, the microphone's level, camera / microphone / speaker pickers,
 * join with the microphone or the camera off, and the name; all of it
 * remembered in this browser (devicePrefs.ts) and prefilled next time.
 * NOTE: nothing here talks to the node (no socket.io, no /api, no token):
 * the room view connects only after Join.
 */
import { capture, type Capture } from '../capture';
import { loadPrefs, savePrefs } from '../devicePrefs';
import { LevelMeter } from './LevelMeter';
import { el, mountPreJoin } from './markup';
import { canChooseSpeaker, fillPicker, listDevices, type DeviceKind } from './pickers';

/** What the person chose: startRoom's name, devices and start-muted options. */
export type PreJoinChoice = {
	name: string;
	devices: { cameraId?: string; micId?: string; speakerId?: string };
	startMuted: { mic: boolean; camera: boolean };
	/** Join without camera and microphone (they were refused, or there are none). */
	watchOnly: boolean;
};

type Problem = 'denied' | 'missing' | 'unavailable';
type State = 'starting' | 'ready' | Problem;

const PROBLEMS: Record<Problem, { title: string; text: string; join: string }> = {
	denied: {
		title: 'Camera and microphone are blocked',
		text: 'The browser does not let this page use them. To allow them, click the icon at the left of the address bar (a lock or a camera), open the site settings, set Camera and Microphone to Allow, then press Try again.',
		join: 'Join without camera and microphone',
	},
	missing: {
		title: 'No camera or microphone found',
		text: 'Plug one in (this page sees it by itself) or press Try again; or join to watch and listen only.',
		join: 'Join to watch only',
	},
	unavailable: { title: 'No camera or microphone here', text: '', join: 'Join to watch only' },
};

/** Shows the pre-join screen; resolves when the person presses Join (the screen is gone by then). */
export function preJoin(roomId: string, size: { width: number; height: number }): Promise<PreJoinChoice> {
	return new Promise((resolve) => void new PreJoin(roomId, size, resolve));
}

class PreJoin {
	readonly #section: HTMLElement;
	readonly #meter: LevelMeter;
	readonly #chosen: PreJoinChoice['devices'];
	#micOff: boolean;
	#cameraOff: boolean;
	#stream = new MediaStream();
	#state: State = 'starting';
	/** Each capture's number: an answer to an older one (the person picked again meanwhile) is dropped. */
	#opening = 0;
	#done = false;

	constructor(
		roomId: string,
		private readonly size: { width: number; height: number },
		private readonly resolve: (choice: PreJoinChoice) => void,
	) {
		this.#section = mountPreJoin(roomId);
		this.#meter = new LevelMeter(el<HTMLMeterElement>('prejoin-level'));
		const prefs = loadPrefs();
		this.#chosen = { cameraId: prefs.cameraId, micId: prefs.micId, speakerId: prefs.speakerId };
		this.#micOff = prefs.micOff ?? false;
		this.#cameraOff = prefs.cameraOff ?? false;
		el<HTMLInputElement>('prejoin-name').value = prefs.name ?? '';
		el('prejoin-speaker-field').hidden = !canChooseSpeaker();
		this.#wire();
		void this.#open();
	}

	#wire(): void {
		el('prejoin-mic').addEventListener('click', () => {
			this.#micOff = !this.#micOff;
			savePrefs({ micOff: this.#micOff });
			this.#applyToggles();
		});
		el('prejoin-cam').addEventListener('click', () => {
			this.#cameraOff = !this.#cameraOff;
			savePrefs({ cameraOff: this.#cameraOff });
			this.#applyToggles();
		});
		const picker = (id: string, key: 'cameraId' | 'micId' | 'speakerId') => {
			const select = el<HTMLSelectElement>(id);
			select.addEventListener('change', () => {
				this.#chosen[key] = select.value || undefined;
				savePrefs({ [key]: this.#chosen[key] });
				if (key !== 'speakerId') {
					void this.#open();
				}
			});
		};
		picker('prejoin-camera-select', 'cameraId');
		picker('prejoin-mic-select', 'micId');
		picker('prejoin-speaker-select', 'speakerId');
		el('prejoin-retry').addEventListener('click', () => void this.#open());
		el('prejoin-form').addEventListener('submit', (event) => {
			event.preventDefault();
			this.#join();
		});
		navigator.mediaDevices?.addEventListener?.('devicechange', this.#deviceChange);
	}

	/** Captures from the chosen devices for the preview and the meter (the one before stops). */
	async #open(): Promise<void> {
		const opening = ++this.#opening;
		this.#stop();
		this.#setState('starting');
		this.#applyToggles();
		const captured = await capture(this.size.width, this.size.height, { cameraId: this.#chosen.cameraId, micId: this.#chosen.micId });
		if (opening !== this.#opening || this.#done) {
			captured.stream.getTracks().forEach((track) => track.stop());
			return;
		}
		this.#stream = captured.stream;
		const [audio] = this.#stream.getAudioTracks();
		const [video] = this.#stream.getVideoTracks();
		el<HTMLVideoElement>('prejoin-video').srcObject = video ? new MediaStream([video]) : null;
		this.#meter.attach(audio);
		const note = el('prejoin-note');
		note.hidden = !captured.problem || (!audio && !video);
		note.textContent = captured.problem ?? '';
		this.#setState(audio || video ? 'ready' : problemOf(captured));
		if (this.#state === 'unavailable') {
			el('prejoin-problem-text').textContent = captured.problem ?? '';
		}
		this.#applyToggles();
		await this.#list();
	}

	/** Fills the pickers; the devices in use are the ones selected. */
	async #list(): Promise<void> {
		const devices = await listDevices();
		if (this.#done) {
			return;
		}
		const inUse = (track: MediaStreamTrack | undefined) => track?.getSettings().deviceId;
		const [audio] = this.#stream.getAudioTracks();
		const [video] = this.#stream.getVideoTracks();
		this.#chosen.cameraId = fillPicker(el('prejoin-camera-select'), devices, 'videoinput', inUse(video) ?? this.#chosen.cameraId) || undefined;
		this.#chosen.micId = fillPicker(el('prejoin-mic-select'), devices, 'audioinput', inUse(audio) ?? this.#chosen.micId) || undefined;
		if (canChooseSpeaker()) {
			this.#chosen.speakerId = fillPicker(el('prejoin-speaker-select'), devices, 'audiooutput', this.#chosen.speakerId) || undefined;
		}
	}

	/**
	 * A device came or went: the pickers list again; a device in use that is
	 * gone falls back to the default, and a screen that found none tries again.
	 */
	readonly #deviceChange = async (): Promise<void> => {
		if (this.#state === 'missing' || this.#state === 'unavailable') {
			await this.#open();
			return;
		}
		const devices = await listDevices();
		const gone = (kind: DeviceKind, track: MediaStreamTrack | undefined) =>
			track !== undefined && (track.readyState === 'ended' || !devices.some((d) => d.kind === kind && d.deviceId === track.getSettings().deviceId));
		const cameraGone = gone('videoinput', this.#stream.getVideoTracks()[0]);
		const micGone = gone('audioinput', this.#stream.getAudioTracks()[0]);
		if (cameraGone) {
			this.#chosen.cameraId = undefined;
		}
		if (micGone) {
			this.#chosen.micId = undefined;
		}
		await (cameraGone || micGone ? this.#open() : this.#list());
	};

	/** The toggles' labels, the tracks enabled or not (the meter rests while muted), the preview's "off". */
	#applyToggles(): void {
		const [audio] = this.#stream.getAudioTracks();
		const [video] = this.#stream.getVideoTracks();
		const toggle = (id: string, off: boolean, present: boolean, what: string) => {
			const button = el<HTMLButtonElement>(id);
			button.setAttribute('aria-pressed', String(off));
			button.textContent = `${what} ${off ? 'off' : 'on'}`;
			button.title = `Join with the ${what.toLowerCase()} ${off ? 'off' : 'on'} (press to turn it ${off ? 'on' : 'off'})`;
			button.disabled = !present;
		};
		toggle('prejoin-mic', this.#micOff, audio !== undefined, 'Microphone');
		toggle('prejoin-cam', this.#cameraOff, video !== undefined, 'Camera');
		if (audio) {
			audio.enabled = !this.#micOff;
		}
		if (video) {
			video.enabled = !this.#cameraOff;
		}
		const preview = el('prejoin-preview');
		preview.dataset.video = !video ? 'none' : this.#cameraOff ? 'off' : 'on';
		el('prejoin-video-off').textContent = video ? 'Camera is off' : this.#state === 'starting' ? 'Starting the camera…' : 'No camera';
	}

	#setState(state: State): void {
		this.#state = state;
		this.#section.dataset.state = state;
		const problem = state === 'starting' || state === 'ready' ? undefined : PROBLEMS[state];
		el('prejoin-problem').hidden = problem === undefined;
		el('prejoin-preview').hidden = problem !== undefined;
		el('prejoin-level-field').hidden = problem !== undefined;
		el('prejoin-devices').hidden = state === 'denied';
		if (problem) {
			el('prejoin-problem-title').textContent = problem.title;
			el('prejoin-problem-text').textContent = problem.text;
		}
		el('prejoin-join').textContent = problem?.join ?? 'Join';
	}

	#join(): void {
		const name = el<HTMLInputElement>('prejoin-name').value.trim().slice(0, 64);
		if (!name || this.#done) {
			return;
		}
		// NOTE: still asking (a permission prompt unanswered): the room view asks again rather than joining without.
		const watchOnly = this.#state !== 'ready' && this.#state !== 'starting';
		savePrefs({ name, micOff: this.#micOff, cameraOff: this.#cameraOff, ...this.#chosen });
		this.#done = true;
		this.#stop();
		this.#meter.close();
		navigator.mediaDevices?.removeEventListener?.('devicechange', this.#deviceChange);
		this.#section.remove();
		document.getElementById('app')!.hidden = false;
		this.resolve({ name, devices: { ...this.#chosen }, startMuted: { mic: this.#micOff, camera: this.#cameraOff }, watchOnly });
	}

	/** Stops the preview's capture (the room view makes its own). */
	#stop(): void {
		this.#stream.getTracks().forEach((track) => track.stop());
		this.#stream = new MediaStream();
		this.#meter.attach(undefined);
	}
}

function problemOf(captured: Capture): Problem {
	return captured.failure === 'denied' ? 'denied' : captured.failure === 'missing' ? 'missing' : 'unavailable';
}

/**
 * The devices panel (in the More panel): camera, microphone and speaker
 * pickers, listed from enumerateDevices and again on `devicechange`. A new
 * camera or microphone is captured (`deviceId: { exact }`) and swapped into
 * its producer (CallSession.replaceTrack: same producer, paused state kept);
 * the speaker is setSinkId on the remote audio (Grid.setSpeaker), where
 * the browser has it. Each choice is remembered (devicePrefs.ts).
 */
import type { CallSession } from './CallSession';
import { loadPrefs, savePrefs } from './devicePrefs';
import type { Grid } from './Grid';
import { canChooseSpeaker, fillPicker, type DeviceKind } from './prejoin/pickers';

type Picker = { select: HTMLSelectElement; kind: DeviceKind; noun: string };

export function wireDevices(session: CallSession, grid: Grid, size: { width: number; height: number }): void {
	const picker = (id: string, kind: DeviceKind, noun: string): Picker => ({ select: document.getElementById(id) as HTMLSelectElement, kind, noun });
	const camera = picker('camera-select', 'videoinput', 'Camera');
	const mic = picker('mic-select', 'audioinput', 'Microphone');
	const speaker = picker('speaker-select', 'audiooutput', 'Speaker');
	const problem = document.getElementById('devices-problem')!;
	const media = navigator.mediaDevices;
	const canSink = canChooseSpeaker();
	if (!media?.enumerateDevices) {
		return;
	}
	const current = (source: 'camera' | 'mic') => session.local.get(source)?.track.getSettings().deviceId ?? '';

	async function list(): Promise<void> {
		const devices = await media.enumerateDevices();
		const chosen = { camera: current('camera'), mic: current('mic'), speaker: loadPrefs().speakerId ?? '' };
		for (const [p, selected, usable] of [[camera, chosen.camera, session.local.has('camera')], [mic, chosen.mic, session.local.has('mic')], [speaker, chosen.speaker, canSink]] as const) {
			fillPicker(p.select, devices, p.kind, selected);
			p.select.disabled ||= !usable;
			p.select.title = usable ? '' : p.kind === 'audiooutput' ? 'This browser cannot choose the speaker' : `No ${p.noun.toLowerCase()} in this call`;
		}
	}

	async function switchTo(source: 'camera' | 'mic', deviceId: string): Promise<void> {
		const constraints: MediaStreamConstraints = source === 'camera'
			? { video: { deviceId: { exact: deviceId }, width: { ideal: size.width }, height: { ideal: size.height }, frameRate: { ideal: 30 } } }
			: { audio: { deviceId: { exact: deviceId } } };
		let stream: MediaStream;
		try {
			stream = await media.getUserMedia(constraints);
		} catch (error) {
			// NOTE: some phones open one camera at a time: free the old one, then try again.
			if ((error as DOMException).name !== 'NotReadableError') {
				throw error;
			}
			session.local.get(source)?.track.stop();
			stream = await media.getUserMedia(constraints);
		}
		const [track] = source === 'camera' ? stream.getVideoTracks() : stream.getAudioTracks();
		if (!track || !(await session.replaceTrack(source, track))) {
			track?.stop();
			return;
		}
		if (source === 'camera') {
			grid.setLocalVideo(track);
		}
		savePrefs(source === 'camera' ? { cameraId: deviceId } : { micId: deviceId });
	}

	for (const [p, source] of [[camera, 'camera'], [mic, 'mic']] as const) {
		p.select.addEventListener('change', () => {
			problem.hidden = true;
			switchTo(source, p.select.value).catch((error: Error) => {
				problem.textContent = `Could not switch the ${p.noun.toLowerCase()}: ${error.message || (error as DOMException).name}`;
				problem.hidden = false;
			}).finally(() => void list());
		});
	}
	speaker.select.addEventListener('change', () => {
		grid.setSpeaker(speaker.select.value);
		savePrefs({ speakerId: speaker.select.value });
	});
	const remembered = loadPrefs().speakerId;
	if (canSink && remembered) {
		grid.setSpeaker(remembered);
	}
	media.addEventListener('devicechange', () => void list());
	void list();
}

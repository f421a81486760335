/** What the room page captures: camera and microphone, or whatever of them the device allows. */
export type Capture = { stream: MediaStream; problem?: string };

/**
 * Microphone and camera at `width` x `height` (ideal, not exact). A device
 * without a camera (or a refused one) still joins with what is left, down to
 * receiving only, with `problem` saying why. `video: false` (an audio call)
 * asks for the microphone only.
 */
export async function capture(width: number, height: number, { video: wantVideo = true } = {}): Promise<Capture> {
	if (!navigator.mediaDevices?.getUserMedia) {
		return { stream: new MediaStream(), problem: 'This page is not on a secure origin (https), so the browser offers no camera or microphone.' };
	}
	const video: MediaTrackConstraints = { width: { ideal: width }, height: { ideal: height }, frameRate: { ideal: 30 } };
	let last: unknown;
	const attempts: MediaStreamConstraints[] = wantVideo ? [{ audio: true, video }, { audio: true }, { video }] : [{ audio: true }];
	for (const constraints of attempts) {
		try {
			const stream = await navigator.mediaDevices.getUserMedia(constraints);
			const missing = constraints.video ? (constraints.audio ? undefined : 'microphone') : wantVideo ? 'camera' : undefined;
			return missing ? { stream, problem: `No ${missing}: ${describe(last)}` } : { stream };
		} catch (error) {
			last ??= error;
		}
	}
	return { stream: new MediaStream(), problem: `No camera or microphone, you can only watch: ${describe(last)}` };
}

function describe(error: unknown): string {
	const name = (error as DOMException | undefined)?.name;
	return name === 'NotAllowedError' ? 'permission refused' : name === 'NotFoundError' ? 'none found' : String((error as Error | undefined)?.message ?? error);
}

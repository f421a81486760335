/**
 * What the room page captures: camera and microphone, or whatever of them the
 * device allows. `failure`: why the first thing asked for was refused
 * (`denied`: the browser or the person refused; `missing`: no such device), so
 * that the pre-join screen can say how to fix it.
 */
export type Capture = { stream: MediaStream; problem?: string; failure?: 'denied' | 'missing' | 'other' };

/** The devices to capture from; a device that is gone (unplugged) falls back to any other. */
export type CaptureDevices = { cameraId?: string; micId?: string };

/**
 * Microphone and camera at `width` x `height` (ideal, not exact). A device
 * without a camera (or a refused one) still joins with what is left, down to
 * receiving only, with `problem` saying why. `video: false` (an audio call)
 * asks for the microphone only. `cameraId` / `micId`: that device, or any
 * when it is not there.
 */
export async function capture(width: number, height: number, { video: wantVideo = true, cameraId, micId }: { video?: boolean } & CaptureDevices = {}): Promise<Capture> {
	if (!navigator.mediaDevices?.getUserMedia) {
		return { stream: new MediaStream(), problem: 'This page is not on a secure origin (https), so the browser offers no camera or microphone.', failure: 'other' };
	}
	const video: MediaTrackConstraints = { width: { ideal: width }, height: { ideal: height }, frameRate: { ideal: 30 }, ...exact(cameraId) };
	const audio: MediaTrackConstraints | true = micId ? exact(micId) : true;
	let last: unknown;
	const attempts: MediaStreamConstraints[] = wantVideo ? [{ audio, video }, { audio }, { video }] : [{ audio }];
	for (const constraints of attempts) {
		try {
			const stream = await getUserMedia(constraints);
			const missing = constraints.video ? (constraints.audio ? undefined : 'microphone') : wantVideo ? 'camera' : undefined;
			return missing ? { stream, problem: `No ${missing}: ${describe(last)}`, failure: failureOf(last) } : { stream };
		} catch (error) {
			last ??= error;
		}
	}
	return { stream: new MediaStream(), problem: `No camera or microphone, you can only watch: ${describe(last)}`, failure: failureOf(last) };
}

function exact(deviceId: string | undefined): MediaTrackConstraints {
	return deviceId ? { deviceId: { exact: deviceId } } : {};
}

/** getUserMedia; a device asked for by id that is gone (OverconstrainedError, NotFoundError) is asked for again as any device. */
async function getUserMedia(constraints: MediaStreamConstraints): Promise<MediaStream> {
	try {
		return await navigator.mediaDevices.getUserMedia(constraints);
	} catch (error) {
		const name = (error as DOMException).name;
		const anyDevice = (c: MediaStreamConstraints['audio']) => {
			if (typeof c !== 'object') {
				return c;
			}
			const { deviceId: _, ...rest } = c;
			return Object.keys(rest).length > 0 ? rest : true;
		};
		const byId = [constraints.audio, constraints.video].some((c) => typeof c === 'object' && c.deviceId !== undefined);
		if (!byId || (name !== 'OverconstrainedError' && name !== 'NotFoundError')) {
			throw error;
		}
		return navigator.mediaDevices.getUserMedia({ audio: anyDevice(constraints.audio), video: anyDevice(constraints.video) });
	}
}

function failureOf(error: unknown): Capture['failure'] {
	const name = (error as DOMException | undefined)?.name;
	return name === 'NotAllowedError' || name === 'SecurityError' ? 'denied' : name === 'NotFoundError' || name === 'OverconstrainedError' ? 'missing' : 'other';
}

function describe(error: unknown): string {
	const name = (error as DOMException | undefined)?.name;
	return name === 'NotAllowedError' ? 'permission refused' : name === 'NotFoundError' ? 'none found' : String((error as Error | undefined)?.message ?? error);
}

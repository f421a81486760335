/** The pre-join screen's device pickers: <select>s filled from enumerateDevices. */

export type DeviceKind = 'videoinput' | 'audioinput' | 'audiooutput';

const NOUN: Record<DeviceKind, string> = { videoinput: 'Camera', audioinput: 'Microphone', audiooutput: 'Speaker' };

/** The browser can play a media element on a chosen speaker (HTMLMediaElement.setSinkId; not Firefox for Android, not Safari on iOS). */
export function canChooseSpeaker(): boolean {
	return typeof (HTMLMediaElement.prototype as { setSinkId?: unknown }).setSinkId === 'function';
}

/**
 * Lists the devices of `kind` in `select` and selects `chosen`, or, when it
 * is not there (unplugged, or never chosen), the first one: the browser's
 * default. Returns the device id selected ('' for none listed).
 */
export function fillPicker(select: HTMLSelectElement, devices: readonly MediaDeviceInfo[], kind: DeviceKind, chosen: string | undefined): string {
	const ofKind = devices.filter((d) => d.kind === kind && d.deviceId !== '');
	select.replaceChildren(...ofKind.map((device, i) => {
		const option = document.createElement('option');
		option.value = device.deviceId;
		// NOTE: labels are empty until the page may capture; a number tells them apart meanwhile.
		option.textContent = device.label || `${NOUN[kind]} ${i + 1}`;
		return option;
	}));
	const value = ofKind.some((d) => d.deviceId === chosen) ? chosen! : (ofKind[0]?.deviceId ?? '');
	select.value = value;
	select.disabled = ofKind.length === 0;
	return value;
}

/** The devices, or none when the browser cannot list them. */
export async function listDevices(): Promise<MediaDeviceInfo[]> {
	try {
		return (await navigator.mediaDevices?.enumerateDevices?.()) ?? [];
	} catch {
		return [];
	}
}

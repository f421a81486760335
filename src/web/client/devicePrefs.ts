/**
 * What this browser remembers of the last call: the name, the chosen camera,
 * microphone and speaker, and whether camera and microphone start off. Kept
 * in localStorage (never sent anywhere): the pre-join screen fills itself
 * from it, the in-call pickers update it, and accepting an account call
 * joins with it at once.
 */
const KEY = 'switchyard.devices';

export type DevicePrefs = {
	name?: string;
	cameraId?: string;
	micId?: string;
	speakerId?: string;
	cameraOff?: boolean;
	micOff?: boolean;
};

const TEXT = ['name', 'cameraId', 'micId', 'speakerId'] as const;
const FLAGS = ['cameraOff', 'micOff'] as const;

/** The remembered choices; anything stored that does not fit is left out. */
export function loadPrefs(): DevicePrefs {
	let stored: unknown;
	try {
		stored = JSON.parse(localStorage.getItem(KEY) ?? '{}');
	} catch {
		return {};
	}
	if (typeof stored !== 'object' || stored === null) {
		return {};
	}
	const record = stored as Record<string, unknown>;
	const prefs: DevicePrefs = {};
	for (const key of TEXT) {
		const value = record[key];
		if (typeof value === 'string' && value.length > 0 && value.length <= 256) {
			prefs[key] = value;
		}
	}
	for (const key of FLAGS) {
		if (typeof record[key] === 'boolean') {
			prefs[key] = record[key] as boolean;
		}
	}
	return prefs;
}

/** Remembers `change` on top of what is remembered already (`undefined` forgets a key). */
export function savePrefs(change: DevicePrefs): DevicePrefs {
	const prefs = { ...loadPrefs(), ...change };
	try {
		localStorage.setItem(KEY, JSON.stringify(prefs));
	} catch {
		// NOTE: storage full or refused (a private window): the choice lasts for this page only.
	}
	return prefs;
}

/** The remembered devices and start-muted choices as startRoom takes them (RoomOptions `devices`, `startMuted`). */
export function joinChoices(prefs: DevicePrefs = loadPrefs()): {
	devices: { cameraId?: string; micId?: string; speakerId?: string };
	startMuted: { mic?: boolean; camera?: boolean };
} {
	return {
		devices: { cameraId: prefs.cameraId, micId: prefs.micId, speakerId: prefs.speakerId },
		startMuted: { mic: prefs.micOff, camera: prefs.cameraOff },
	};
}

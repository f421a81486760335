/**
 * The end-to-end secrets of the call links this browser made, by link id,
 * in localStorage: the server never has them (they ride in the links'
 * fragments), so the links page shows the whole link only where it was made.
 */
const KEY = 'switchyard.linkSecrets';

function all(): Record<string, string> {
	try {
		const stored = JSON.parse(localStorage.getItem(KEY) ?? '{}') as unknown;
		return stored && typeof stored === 'object' ? stored as Record<string, string> : {};
	} catch {
		return {};
	}
}

export function rememberSecret(linkId: string, secret: string): void {
	localStorage.setItem(KEY, JSON.stringify({ ...all(), [linkId]: secret }));
}

export function secretFor(linkId: string): string | undefined {
	const secret = all()[linkId];
	return typeof secret === 'string' ? secret : undefined;
}

/** Forgets the secrets of links that are gone (revoked, expired): `live` are the ids still listed. */
export function keepSecrets(live: string[]): void {
	const kept = Object.fromEntries(Object.entries(all()).filter(([id]) => live.includes(id)));
	localStorage.setItem(KEY, JSON.stringify(kept));
}

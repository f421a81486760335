/**
 * A guest room's end-to-end encryption secret rides in its link's fragment,
 * `/room/<id>#e2ee=<secret>`: browsers never send the fragment to the server
 * (nor in a Referer), so the node that hosts the room never has it.
 */

/** A secret shorter than this is refused: the server holds the ciphertext and could guess a short one offline. */
export const MIN_SECRET_LENGTH = 16;
const MAX_SECRET_LENGTH = 256;

export type LinkSecret = { secret: string } | { problem: string } | undefined;

/** The secret in a location's fragment (`#e2ee=...`); undefined when the link has none. */
export function secretOf(hash: string): LinkSecret {
	const params = new URLSearchParams(hash.replace(/^#/, ''));
	const secret = params.get('e2ee');
	if (secret === null) {
		return undefined;
	}
	if (secret.length < MIN_SECRET_LENGTH || secret.length > MAX_SECRET_LENGTH) {
		return { problem: `the encryption secret in this link must be ${MIN_SECRET_LENGTH} to ${MAX_SECRET_LENGTH} characters long` };
	}
	return { secret };
}

/** A new secret: 128 random bits in base64url (22 characters). */
export function newSecret(): string {
	const bytes = crypto.getRandomValues(new Uint8Array(16));
	return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The fragment that carries `secret`. */
export function secretFragment(secret: string): string {
	return `#${new URLSearchParams({ e2ee: secret }).toString()}`;
}

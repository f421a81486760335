/**
 * A call's safety code (docs/e2ee.md): 30 digits from the identity keys of
 * every device in the call, the same on each of them. People who read it
 * to each other (or compare screens) know that no one, the server included,
 * swapped a key: a swapped key gives another code.
 */

/** A device in the call, as its peer shows it: the account's handle, the device id and its public key. */
export type Party = { handle: string; deviceId: string; key: string };

const GROUPS = 6;
const BYTES_PER_GROUP = 5;

/** The code of `parties` (in any order), as six groups of five digits. */
export async function safetyCode(parties: Party[]): Promise<string> {
	const sorted = [...parties].sort((a, b) => (a.handle + '\0' + a.deviceId < b.handle + '\0' + b.deviceId ? -1 : 1));
	const text = JSON.stringify(['Switchyard safety code v1', ...sorted.map((p) => [p.handle, p.deviceId, p.key])]);
	const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
	const groups: string[] = [];
	for (let g = 0; g < GROUPS; g++) {
		// NOTE: as Signal's safety numbers: 5 bytes (40 bits) per group, modulo 100000.
		let value = 0;
		for (let i = 0; i < BYTES_PER_GROUP; i++) {
			value = value * 256 + digest[g * BYTES_PER_GROUP + i]!;
		}
		groups.push(String(value % 100_000).padStart(5, '0'));
	}
	return groups.join(' ');
}

/**
 * SFrame (RFC 9605) as the web client's end-to-end encryption uses it: the
 * header (key id and counter), the AES_128_GCM_SHA256_128 cipher suite
 * through WebCrypto, and the derivation of each key id's key and salt.
 *
 * A frame on the wire is `[clear prefix][SFrame header][ciphertext + tag]`:
 * the prefix is what the SFU must read (clearPrefix), and it is
 * authenticated with the header as the associated data (the RFC's metadata).
 * Pure functions over WebCrypto, shared by the page and the transform worker,
 * and run by Node in the unit tests.
 */

/** AES_128_GCM_SHA256_128 (RFC 9605, section 4.5): Nk 16, Nn 12, Nt 16. */
export const CIPHER_SUITE = 0x0004;
const KEY_BYTES = 16;
const NONCE_BYTES = 12;
export const TAG_BYTES = 16;

/** A key id's AEAD key and salt (RFC 9605, section 4.4.2). */
export type FrameKey = { readonly key: WebKey; readonly salt: Bytes };

export type Header = { kid: bigint; ctr: bigint; /** Its length in bytes. */ length: number };

const encoder = new TextEncoder();

/** A WebCrypto key (named so for the browser's lib and Node's alike). */
export type WebKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

/** Bytes on an ArrayBuffer (what WebCrypto takes). */
type Bytes = Uint8Array<ArrayBuffer>;

/**
 * The frame bytes left in the clear, of `length`: VP8's payload header, 10
 * bytes on a key frame (frame tag, start code, size) and 3 on a delta frame
 * (the frame tag), so that the SFU and the receiver's depacketizer find key
 * frames and sizes (as LiveKit and Jitsi leave them); nothing of Opus.
 */
export function clearPrefix(kind: 'audio' | 'video', keyFrame: boolean, length: number): number {
	return kind === 'audio' ? 0 : Math.min(length, keyFrame ? 10 : 3);
}

/** The bytes of `value` after the config byte: none below 8, else its shortest big-endian form. */
function extension(value: bigint): number {
	if (value < 8n) {
		return 0;
	}
	let bytes = 0;
	for (let v = value; v > 0n; v >>= 8n) {
		bytes++;
	}
	return bytes;
}

function writeBigEndian(out: Bytes, at: number, value: bigint, bytes: number): void {
	for (let i = bytes - 1, v = value; i >= 0; i--, v >>= 8n) {
		out[at + i] = Number(v & 0xffn);
	}
}

function readBigEndian(data: Bytes, at: number, bytes: number): bigint {
	let value = 0n;
	for (let i = 0; i < bytes; i++) {
		value = (value << 8n) | BigInt(data[at + i]!);
	}
	return value;
}

/**
 * The header `X|K|Y|C` then KID then CTR: a value below 8 sits in its
 * nibble (X or Y clear), a larger one follows in its shortest big-endian
 * form, the nibble holding the flag and the length minus one.
 */
export function encodeHeader(kid: bigint, ctr: bigint): Bytes {
	if (kid < 0n || kid >= 1n << 64n || ctr < 0n || ctr >= 1n << 64n) {
		throw new RangeError('SFrame key ids and counters are 64-bit unsigned integers');
	}
	const kidBytes = extension(kid);
	const ctrBytes = extension(ctr);
	const out = new Uint8Array(1 + kidBytes + ctrBytes);
	const k = kidBytes === 0 ? Number(kid) : 0x8 | (kidBytes - 1);
	const c = ctrBytes === 0 ? Number(ctr) : 0x8 | (ctrBytes - 1);
	out[0] = (k << 4) | c;
	writeBigEndian(out, 1, kid, kidBytes);
	writeBigEndian(out, 1 + kidBytes, ctr, ctrBytes);
	return out;
}

/** The header at `at`, or undefined when the bytes are too few or not in the shortest form (RFC 9605, 4.3). */
export function parseHeader(data: Bytes, at = 0): Header | undefined {
	const config = data[at];
	if (config === undefined) {
		return undefined;
	}
	const field = (nibble: number, from: number): { value: bigint; bytes: number } | undefined => {
		if ((nibble & 0x8) === 0) {
			return { value: BigInt(nibble), bytes: 0 };
		}
		const bytes = (nibble & 0x7) + 1;
		if (from + bytes > data.length) {
			return undefined;
		}
		const value = readBigEndian(data, from, bytes);
		return extension(value) === bytes ? { value, bytes } : undefined;
	};
	const kid = field(config >> 4, at + 1);
	const ctr = kid && field(config & 0xf, at + 1 + kid.bytes);
	if (!kid || !ctr) {
		return undefined;
	}
	return { kid: kid.value, ctr: ctr.value, length: 1 + kid.bytes + ctr.bytes };
}

function concat(...parts: Bytes[]): Bytes {
	const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
	let at = 0;
	for (const part of parts) {
		out.set(part, at);
		at += part.length;
	}
	return out;
}

function bigEndian(value: bigint, bytes: number): Bytes {
	const out = new Uint8Array(bytes);
	writeBigEndian(out, 0, value, bytes);
	return out;
}

/**
 * A key id's key and salt from a base key (an HKDF key):
 * HKDF-Expand(HKDF-Extract("", base_key), "SFrame 1.0 Secret key " + KID + cipher_suite, Nk),
 * and the salt likewise with "salt" and Nn; KID in 8 bytes, the suite in 2.
 * Another `scheme` (the chat's) gives other keys from the same base key.
 */
export async function deriveFrameKey(baseKey: WebKey, kid: bigint, scheme = 'SFrame 1.0'): Promise<FrameKey> {
	const label = (what: 'key' | 'salt') => concat(encoder.encode(`${scheme} Secret ${what} `), bigEndian(kid, 8), bigEndian(BigInt(CIPHER_SUITE), 2));
	const expand = (what: 'key' | 'salt', bytes: number) =>
		crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: label(what) }, baseKey, bytes * 8);
	const [keyBits, saltBits] = await Promise.all([expand('key', KEY_BYTES), expand('salt', NONCE_BYTES)]);
	const key = await crypto.subtle.importKey('raw', keyBits, 'AES-GCM', false, ['encrypt', 'decrypt']);
	return { key, salt: new Uint8Array(saltBits) };
}

/** An HKDF base key from raw key material (the next issue's sender keys come this way). */
export function importBaseKey(material: Bytes): Promise<WebKey> {
	return crypto.subtle.importKey('raw', material, 'HKDF', false, ['deriveBits']);
}

/**
 * A guest room's base key from its link's shared secret, bound to the room:
 * the same secret in another room gives other keys.
 */
export async function roomBaseKey(secret: string, roomId: string): Promise<WebKey> {
	const material = await importBaseKey(encoder.encode(secret));
	const bits = await crypto.subtle.deriveBits(
		{ name: 'HKDF', hash: 'SHA-256', salt: encoder.encode(`Switchyard E2EE room ${roomId}`), info: encoder.encode('base key') },
		material, 128,
	);
	return importBaseKey(new Uint8Array(bits));
}

/** The nonce: the salt XOR the counter in Nn big-endian bytes. */
function nonce(salt: Bytes, ctr: bigint): Bytes {
	const out = bigEndian(ctr, NONCE_BYTES);
	for (let i = 0; i < NONCE_BYTES; i++) {
		out[i]! ^= salt[i]!;
	}
	return out;
}

/** `prefix`, the header, then `plaintext` encrypted with the header and the prefix as associated data. */
export async function seal(frameKey: FrameKey, kid: bigint, ctr: bigint, prefix: Bytes, plaintext: Bytes): Promise<Bytes> {
	const header = encodeHeader(kid, ctr);
	const ciphertext = await crypto.subtle.encrypt(
		{ name: 'AES-GCM', iv: nonce(frameKey.salt, ctr), additionalData: concat(header, prefix), tagLength: TAG_BYTES * 8 },
		frameKey.key, plaintext,
	);
	return concat(prefix, header, new Uint8Array(ciphertext));
}

/**
 * A sealed frame's plaintext (`prefix` bytes of `data` in the clear, the
 * header after them); rejects when the key is not the sender's or anything
 * was changed.
 */
export async function open(frameKey: FrameKey, data: Bytes, prefix: number, header: Header): Promise<Bytes> {
	const headerEnd = prefix + header.length;
	const plaintext = await crypto.subtle.decrypt(
		{
			name: 'AES-GCM', iv: nonce(frameKey.salt, header.ctr), tagLength: TAG_BYTES * 8,
			additionalData: concat(data.subarray(prefix, headerEnd), data.subarray(0, prefix)),
		},
		frameKey.key, data.subarray(headerEnd),
	);
	return concat(data.subarray(0, prefix), new Uint8Array(plaintext));
}

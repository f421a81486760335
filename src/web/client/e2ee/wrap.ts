/**
 * A sender key, wrapped for one device (docs/e2ee.md, calls between
 * accounts). The sender's page seals its new sender key for each other
 * participant's device; the server relays the bytes and cannot open them.
 *
 *   wrapped = ephemeral public key (65) || nonce (12) || AES-256-GCM(flags (1) || kid (6) || sender key (16))
 *
 * The wrapping key is HKDF-SHA256 over two P-256 ECDH secrets: the
 * ephemeral key with the recipient's identity key (only that device opens
 * it), and the sender's identity key with the recipient's (only the sender's
 * device could have made it). The context (room, both peers and both
 * devices) is HKDF's info and the associated data, so a wrapped key moved to
 * another room, peer or device does not open. Pure WebCrypto: the page and
 * Node's unit tests run it alike.
 */
import type { WebKey } from './sframe';

/** The raw bytes of a sender key: an SFrame base key (HKDF input). */
export const SENDER_KEY_BYTES = 16;
const KID_BYTES = 6;
const POINT_BYTES = 65;
const NONCE_BYTES = 12;
const LABEL = 'Switchyard sender key v1';

type Bytes = Uint8Array<ArrayBuffer>;

/** What a wrapped sender key says: its key id, the key, and whether the sender asks for the recipient's key back. */
export type SenderKey = { kid: bigint; key: Bytes; askBack: boolean };

/** Who wraps for whom: the call's room, and each side's peer id and device id. */
export type WrapContext = { roomId: string; from: { peerId: string; deviceId: string }; to: { peerId: string; deviceId: string } };

const encoder = new TextEncoder();

export function toBase64url(bytes: Uint8Array): string {
	let text = '';
	for (const byte of bytes) {
		text += String.fromCharCode(byte);
	}
	return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** @throws on anything that is not base64url */
export function fromBase64url(text: string): Bytes {
	if (!/^[A-Za-z0-9_-]*$/.test(text)) {
		throw new Error('not base64url');
	}
	const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
	return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** A device's public key (raw P-256 point, base64url) as an ECDH key. */
export function importPublicKey(raw: string): Promise<WebKey> {
	return crypto.subtle.importKey('raw', fromBase64url(raw), { name: 'ECDH', namedCurve: 'P-256' }, true, []);
}

function contextBytes({ roomId, from, to }: WrapContext): Bytes {
	return encoder.encode(JSON.stringify([LABEL, roomId, from.peerId, from.deviceId, to.peerId, to.deviceId]));
}

async function ecdh(privateKey: WebKey, publicKey: WebKey): Promise<Bytes> {
	return new Uint8Array(await crypto.subtle.deriveBits({ name: 'ECDH', public: publicKey }, privateKey, 256));
}

async function wrappingKey(ephemeralSecret: Bytes, staticSecret: Bytes, ephemeralPublic: Bytes, context: Bytes): Promise<WebKey> {
	const ikm = new Uint8Array(ephemeralSecret.length + staticSecret.length);
	ikm.set(ephemeralSecret);
	ikm.set(staticSecret, ephemeralSecret.length);
	const material = await crypto.subtle.importKey('raw', ikm, 'HKDF', false, ['deriveKey']);
	return crypto.subtle.deriveKey(
		{ name: 'HKDF', hash: 'SHA-256', salt: ephemeralPublic, info: context },
		material, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'],
	);
}

/** `senderKey` sealed for the device whose public key is `recipient`, from the device whose private key is `sender`. */
export async function wrapSenderKey(senderKey: SenderKey, sender: WebKey, recipient: WebKey, context: WrapContext): Promise<string> {
	const ephemeral = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']) as { publicKey: WebKey; privateKey: WebKey };
	const ephemeralPublic = new Uint8Array(await crypto.subtle.exportKey('raw', ephemeral.publicKey));
	const info = contextBytes(context);
	const key = await wrappingKey(await ecdh(ephemeral.privateKey, recipient), await ecdh(sender, recipient), ephemeralPublic, info);
	const plaintext = new Uint8Array(1 + KID_BYTES + SENDER_KEY_BYTES);
	plaintext[0] = senderKey.askBack ? 1 : 0;
	for (let i = KID_BYTES, kid = senderKey.kid; i >= 1; i--, kid >>= 8n) {
		plaintext[i] = Number(kid & 0xffn);
	}
	plaintext.set(senderKey.key, 1 + KID_BYTES);
	const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
	const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: info }, key, plaintext));
	const out = new Uint8Array(POINT_BYTES + NONCE_BYTES + sealed.length);
	out.set(ephemeralPublic);
	out.set(nonce, POINT_BYTES);
	out.set(sealed, POINT_BYTES + NONCE_BYTES);
	return toBase64url(out);
}

/**
 * The sender key in `wrapped`, opened with this device's private key
 * (`recipient`) and the sender device's public key (`sender`).
 * @throws when it was not made by that device for this one, in this context
 */
export async function unwrapSenderKey(wrapped: string, recipient: WebKey, sender: WebKey, context: WrapContext): Promise<SenderKey> {
	const bytes = fromBase64url(wrapped);
	if (bytes.length !== POINT_BYTES + NONCE_BYTES + 1 + KID_BYTES + SENDER_KEY_BYTES + 16) {
		throw new Error('a wrapped sender key of the wrong length');
	}
	const ephemeralPublic = bytes.slice(0, POINT_BYTES);
	const ephemeral = await crypto.subtle.importKey('raw', ephemeralPublic, { name: 'ECDH', namedCurve: 'P-256' }, false, []);
	const info = contextBytes(context);
	const key = await wrappingKey(await ecdh(recipient, ephemeral), await ecdh(recipient, sender), ephemeralPublic, info);
	const plaintext = new Uint8Array(await crypto.subtle.decrypt(
		{ name: 'AES-GCM', iv: bytes.slice(POINT_BYTES, POINT_BYTES + NONCE_BYTES), additionalData: info },
		key, bytes.slice(POINT_BYTES + NONCE_BYTES),
	));
	let kid = 0n;
	for (let i = 1; i <= KID_BYTES; i++) {
		kid = (kid << 8n) | BigInt(plaintext[i]!);
	}
	return { kid, key: plaintext.slice(1 + KID_BYTES), askBack: plaintext[0] === 1 };
}

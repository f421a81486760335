import { webcrypto } from 'node:crypto';
import { ValidationError } from '../errors';

/** An uncompressed P-256 point: 0x04, then x and y of 32 bytes each. */
const POINT_BYTES = 65;

/**
 * Checks that `publicKey` is what a browser's WebCrypto exports for an ECDH
 * P-256 public key (`exportKey('raw')`), as base64url without padding: the
 * bytes of an uncompressed point that lies on the curve. The HTTP schema has
 * checked the alphabet and length already; this decodes and imports it, so
 * that no call participant is ever handed a key its browser cannot import
 * (or a point off the curve, the start of an invalid-curve attack).
 * @throws validation_failed naming `publicKey`, in the shape of the HTTP schemas' errors
 */
export async function checkDevicePublicKey(publicKey: string): Promise<void> {
	const bytes = Buffer.from(publicKey, 'base64url');
	// NOTE: Node's decoder skips characters it does not know and ignores stray bits in the last one:
	// encoding the bytes again must give the text back, or another decoder could read other bytes.
	if (bytes.length !== POINT_BYTES || bytes[0] !== 0x04 || bytes.toString('base64url') !== publicKey) {
		throw new ValidationError('publicKey: expected an uncompressed P-256 point: 65 bytes starting with 0x04, as base64url without padding');
	}
	try {
		await webcrypto.subtle.importKey('raw', bytes, { name: 'ECDH', namedCurve: 'P-256' }, true, []);
	} catch {
		throw new ValidationError('publicKey: not a point on the P-256 curve');
	}
}

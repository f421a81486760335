import { webcrypto } from 'node:crypto';
import { safetyCode } from '../../src/web/client/e2ee/safetyCode';
import { fromBase64url, importPublicKey, toBase64url, unwrapSenderKey, wrapSenderKey, type WrapContext } from '../../src/web/client/e2ee/wrap';

/** A device: its ECDH key pair, the public key as published (raw, base64url). */
async function device() {
	const pair = await webcrypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']) as { publicKey: webcrypto.CryptoKey; privateKey: webcrypto.CryptoKey };
	const raw = toBase64url(new Uint8Array(await webcrypto.subtle.exportKey('raw', pair.publicKey)));
	return { privateKey: pair.privateKey, publicKey: await importPublicKey(raw), raw };
}

const context: WrapContext = { roomId: 'call-1', from: { peerId: 'peer-a', deviceId: 'device-a-0123456789' }, to: { peerId: 'peer-b', deviceId: 'device-b-0123456789' } };
const senderKey = { kid: 0xa1b2c3d4e5f6n, key: Uint8Array.from({ length: 16 }, (_, i) => i), askBack: true };

describe('sender keys wrapped for a device (ECDH P-256, HKDF-SHA256, AES-GCM)', () => {
	test('the recipient device opens what the sender device wrapped for it: the key id, the key and the ask-back flag', async () => {
		const [a, b] = await Promise.all([device(), device()]);
		const wrapped = await wrapSenderKey(senderKey, a.privateKey, b.publicKey, context);
		expect(wrapped).toMatch(/^[A-Za-z0-9_-]+$/);
		expect(wrapped.length).toBeLessThanOrEqual(512);
		await expect(unwrapSenderKey(wrapped, b.privateKey, a.publicKey, context)).resolves.toEqual(senderKey);
		// Each wrap is fresh (an ephemeral key and a nonce each time).
		expect(await wrapSenderKey(senderKey, a.privateKey, b.publicKey, context)).not.toBe(wrapped);
	});

	test('nothing else opens it: another device, another claimed sender, another room or peer, a changed byte', async () => {
		const [a, b, mallory] = await Promise.all([device(), device(), device()]);
		const wrapped = await wrapSenderKey(senderKey, a.privateKey, b.publicKey, context);
		const tampered = fromBase64url(wrapped);
		tampered[tampered.length - 20]! ^= 1;
		const attempts: [string, Promise<unknown>][] = [
			['another recipient', unwrapSenderKey(wrapped, mallory.privateKey, a.publicKey, context)],
			// A key the server made itself, sent as A's: it has no A private key.
			['a forged sender', wrapSenderKey(senderKey, mallory.privateKey, b.publicKey, context).then((forged) => unwrapSenderKey(forged, b.privateKey, a.publicKey, context))],
			['another room', unwrapSenderKey(wrapped, b.privateKey, a.publicKey, { ...context, roomId: 'call-2' })],
			['another sending peer', unwrapSenderKey(wrapped, b.privateKey, a.publicKey, { ...context, from: { ...context.from, peerId: 'peer-c' } })],
			['another device id', unwrapSenderKey(wrapped, b.privateKey, a.publicKey, { ...context, to: { ...context.to, deviceId: 'device-x-0123456789' } })],
			['a changed byte', unwrapSenderKey(toBase64url(tampered), b.privateKey, a.publicKey, context)],
			['too short', unwrapSenderKey(wrapped.slice(0, 40), b.privateKey, a.publicKey, context)],
			['not base64url', unwrapSenderKey(`${wrapped.slice(1)}!`, b.privateKey, a.publicKey, context)],
		];
		const results = await Promise.all(attempts.map(async ([what, attempt]) => [what, await attempt.then(() => 'opened', () => 'refused')]));
		expect(results).toEqual(attempts.map(([what]) => [what, 'refused']));
	});
});

describe('the safety code', () => {
	const ada = { handle: 'ada', deviceId: 'ada-device-0123456', key: 'AAAA' };
	const bob = { handle: 'bob', deviceId: 'bob-device-0123456', key: 'BBBB' };

	test('six groups of five digits, the same whatever the order, another for another key or another party', async () => {
		const code = await safetyCode([ada, bob]);
		expect(code).toMatch(/^\d{5}( \d{5}){5}$/);
		expect(await safetyCode([bob, ada])).toBe(code);
		expect(await safetyCode([ada, { ...bob, key: 'CCCC' }])).not.toBe(code);
		expect(await safetyCode([ada, { ...bob, deviceId: 'bob-device-other00' }])).not.toBe(code);
		expect(await safetyCode([ada, bob, { handle: 'cy', deviceId: 'cy-device-01234567', key: 'DDDD' }])).not.toBe(code);
	});
});

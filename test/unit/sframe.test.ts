import { clearPrefix, deriveFrameKey, encodeHeader, importBaseKey, open, parseHeader, seal } from '../../src/web/client/e2ee/sframe';

const hex = (text: string) => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
const toHex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('SFrame (RFC 9605) in the web client', () => {
	// RFC 9605, appendix C.1: header encodings.
	test.each([
		[0x0n, 0x0n, '00'],
		[0x7n, 0x7n, '77'],
		[0x0n, 0xffn, '08ff'],
		[0x123n, 0x4567n, '9901234567'],
		[0x00ffffffffffffffn, 0x0n, 'e0ffffffffffffff'],
		[0x00ffffffffffffffn, 0x100n, 'e9ffffffffffffff0100'],
		[0x0100000000000000n, 0xffn, 'f80100000000000000ff'],
		[0xffffffffffffffffn, 0xffffffffffffffffn, 'ffffffffffffffffffffffffffffffffff'],
	])('kid %s, ctr %s: header %s, and back', (kid, ctr, expected) => {
		const header = encodeHeader(kid, ctr);
		expect(toHex(header)).toBe(expected);
		expect(parseHeader(header)).toEqual({ kid, ctr, length: header.length });
	});

	test('a header that is cut short or not in its shortest form is refused', () => {
		expect(parseHeader(new Uint8Array(0))).toBeUndefined();
		expect(parseHeader(hex('9901'))).toBeUndefined();
		// KID 5 written out in a byte where the nibble would do, and KID 0x01 in two bytes.
		expect(parseHeader(hex('8005'))).toBeUndefined();
		expect(parseHeader(hex('900001'))).toBeUndefined();
		expect(() => encodeHeader(-1n, 0n)).toThrow(RangeError);
	});

	// RFC 9605, appendix C.3, cipher suite 0x0004 (AES_128_GCM_SHA256_128).
	const vector = {
		kid: 0x123n,
		ctr: 0x4567n,
		baseKey: hex('000102030405060708090a0b0c0d0e0f'),
		salt: '75234edefe07819026751816',
		metadata: hex('4945544620534672616d65205747'),
		pt: hex('64726166742d696574662d736672616d652d656e63'),
		ct: '9901234567b7412c2513a1b66dbb48841bbaf17f598751176ad847681a69c6d0b091c07018ce4adb34eb',
	};

	test("the RFC's vector: key and salt, and the ciphertext after the clear prefix (the metadata)", async () => {
		const frameKey = await deriveFrameKey(await importBaseKey(vector.baseKey), vector.kid);
		expect(toHex(frameKey.salt)).toBe(vector.salt);
		const sealed = await seal(frameKey, vector.kid, vector.ctr, vector.metadata, vector.pt);
		expect(toHex(sealed.subarray(0, vector.metadata.length))).toBe(toHex(vector.metadata));
		expect(toHex(sealed.subarray(vector.metadata.length))).toBe(vector.ct);

		const header = parseHeader(sealed, vector.metadata.length)!;
		expect(toHex(await open(frameKey, sealed, vector.metadata.length, header))).toBe(toHex(vector.metadata) + toHex(vector.pt));
	});

	test('a changed prefix, header or ciphertext, or another key, does not open', async () => {
		const frameKey = await deriveFrameKey(await importBaseKey(vector.baseKey), vector.kid);
		const other = await deriveFrameKey(await importBaseKey(vector.baseKey), vector.kid + 1n);
		const sealed = await seal(frameKey, vector.kid, vector.ctr, vector.metadata, vector.pt);
		const prefix = vector.metadata.length;
		const header = parseHeader(sealed, prefix)!;
		await expect(open(other, sealed, prefix, header)).rejects.toThrow();
		for (const at of [0, prefix + 2, sealed.length - 1]) {
			const changed = sealed.slice();
			changed[at]! ^= 1;
			await expect(open(frameKey, changed, prefix, parseHeader(changed, prefix) ?? header)).rejects.toThrow();
		}
	});

	test('the clear prefix: VP8 10 bytes on a key frame, 3 on a delta frame, none of Opus', () => {
		expect(clearPrefix('video', true, 5000)).toBe(10);
		expect(clearPrefix('video', false, 5000)).toBe(3);
		expect(clearPrefix('video', true, 6)).toBe(6);
		expect(clearPrefix('audio', false, 120)).toBe(0);
	});
});

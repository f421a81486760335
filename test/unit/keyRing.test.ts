import { KeyRing, PREVIOUS_KEY_MS, ReplayWindow } from '../../src/web/client/e2ee/KeyRing';
import { importBaseKey, open, parseHeader, seal } from '../../src/web/client/e2ee/sframe';

const baseKey = (byte: number) => importBaseKey(new Uint8Array(16).fill(byte));

/** Seals one frame as `ring` does for a sender, and whether `receiver` opens it. */
async function opens(sender: KeyRing, receiver: KeyRing): Promise<boolean> {
	const send = sender.nextSend()!;
	const sealed = await seal(send.frameKey, send.kid, send.ctr, new Uint8Array(3), new Uint8Array([1, 2, 3, 4]));
	const header = parseHeader(sealed, 3)!;
	for (const frameKey of await receiver.candidates(header.kid)) {
		if (await open(frameKey, sealed, 3, header).then(() => true, () => false)) {
			return true;
		}
	}
	return false;
}

describe("the web client's key ring (end-to-end encryption)", () => {
	test('one key id and one counter per base key for all of a page\'s senders; a new base key draws a new key id', async () => {
		const ring = new KeyRing();
		expect(ring.nextSend()).toBeUndefined();
		await ring.setBaseKey(await baseKey(1));
		const a = ring.nextSend()!;
		const b = ring.nextSend()!;
		expect(b.kid).toBe(a.kid);
		expect(b.ctr).toBe(a.ctr + 1n);
		expect(a.kid).toBeLessThan(1n << 48n);
		await ring.setBaseKey(await baseKey(1));
		const c = ring.nextSend()!;
		// Two pages with the same secret never share a key id, so never a nonce.
		expect(c.kid).not.toBe(a.kid);
		expect(c.ctr).toBe(0n);
	});

	test('a receiver opens frames of the current key, and of the previous one for PREVIOUS_KEY_MS only', async () => {
		let now = 0;
		const sender = new KeyRing(() => now);
		const receiver = new KeyRing(() => now);
		await sender.setBaseKey(await baseKey(1));
		await receiver.setBaseKey(await baseKey(1));
		expect(await opens(sender, receiver)).toBe(true);

		await receiver.setBaseKey(await baseKey(2));
		// The sender is a little behind: its frames under the old key still open.
		now += PREVIOUS_KEY_MS - 1;
		expect(await opens(sender, receiver)).toBe(true);
		now += 2;
		expect(await opens(sender, receiver)).toBe(false);
		await sender.setBaseKey(await baseKey(2));
		expect(await opens(sender, receiver)).toBe(true);

		const stranger = new KeyRing(() => now);
		await stranger.setBaseKey(await baseKey(3));
		expect(await opens(stranger, receiver)).toBe(false);
	});

	test('the replay window refuses a counter opened before, or too far behind the newest', () => {
		const window = new ReplayWindow();
		expect(window.fresh(7n, 5n)).toBe(true);
		window.record(7n, 5n);
		expect(window.fresh(7n, 5n)).toBe(false);
		expect(window.fresh(7n, 4n)).toBe(true);
		expect(window.fresh(8n, 5n)).toBe(true);
		window.record(7n, 5000n);
		expect(window.fresh(7n, 5000n - 1023n)).toBe(true);
		expect(window.fresh(7n, 5000n - 1024n)).toBe(false);
		for (let ctr = 5001n; ctr < 8000n; ctr++) {
			window.record(7n, ctr);
		}
		expect(window.fresh(7n, 7999n)).toBe(false);
		expect(window.fresh(7n, 8000n)).toBe(true);
	});
});

describe('the key ring in a call (sender keys)', () => {
	test('a page seals with its own key id; a receiver opens only the senders whose keys it has, a sender\'s key before its newest for PREVIOUS_KEY_MS, and none of one who left', async () => {
		let now = 0;
		const ada = new KeyRing(() => now);
		const bob = new KeyRing(() => now);
		const receiver = new KeyRing(() => now);
		await ada.setSendKey(await baseKey(1), 0x111n);
		await bob.setSendKey(await baseKey(2), 0x222n);
		expect(ada.nextSend()!.kid).toBe(0x111n);
		expect(await opens(ada, receiver)).toBe(false);

		receiver.addReceiveKey('ada', 0x111n, await baseKey(1));
		expect([await opens(ada, receiver), await opens(bob, receiver)]).toEqual([true, false]);
		receiver.addReceiveKey('bob', 0x222n, await baseKey(2));
		expect(await opens(bob, receiver)).toBe(true);

		// Ada's next key: her frames of the one before still open for a while (in flight), then not.
		const before = new KeyRing(() => now);
		await before.setSendKey(await baseKey(1), 0x111n);
		await ada.setSendKey(await baseKey(3), 0x333n);
		receiver.addReceiveKey('ada', 0x333n, await baseKey(3));
		expect([await opens(ada, receiver), await opens(before, receiver)]).toEqual([true, true]);
		now += PREVIOUS_KEY_MS;
		expect([await opens(ada, receiver), await opens(before, receiver), await opens(bob, receiver)]).toEqual([true, false, true]);

		receiver.forgetSender('bob');
		expect(await opens(bob, receiver)).toBe(false);
	});
});

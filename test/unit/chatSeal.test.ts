import { ChatSeal } from '../../src/web/client/e2ee/chatSeal';
import { randomKid } from '../../src/web/client/e2ee/KeyRing';
import { importBaseKey, roomBaseKey } from '../../src/web/client/e2ee/sframe';

const senderKey = (byte: number) => importBaseKey(new Uint8Array(16).fill(byte));

describe('sealed chat messages', () => {
	test('a shared secret: the same secret opens, another does not, nor the same message passed off as another peer\'s', async () => {
		const ada = new ChatSeal('room', () => 'ada');
		const bob = new ChatSeal('room', () => 'bob');
		const eve = new ChatSeal('room', () => 'eve');
		ada.take({ type: 'key', baseKey: await roomBaseKey('the-secret-0123456', 'room'), generation: 1 });
		bob.take({ type: 'key', baseKey: await roomBaseKey('the-secret-0123456', 'room'), generation: 1 });
		eve.take({ type: 'key', baseKey: await roomBaseKey('another-secret-9876', 'room'), generation: 1 });
		const sealed = await ada.seal('hello ünïcode ✓');
		expect(sealed).toMatch(/^[A-Za-z0-9_-]+$/);
		expect(await bob.open('ada', sealed)).toBe('hello ünïcode ✓');
		expect(await eve.open('ada', sealed)).toBeUndefined();
		expect(await bob.open('eve', await ada.seal('relabelled'))).toBeUndefined();
		// Replayed: refused the second time.
		expect(await bob.open('ada', sealed)).toBeUndefined();
		// The same secret in another room gives other keys.
		const elsewhere = new ChatSeal('other-room', () => 'bob');
		elsewhere.take({ type: 'key', baseKey: await roomBaseKey('the-secret-0123456', 'other-room'), generation: 1 });
		expect(await elsewhere.open('ada', await ada.seal('x'))).toBeUndefined();
	});

	test('sender keys: the receiver opens with the sender\'s key by its key id, also just after a rotation; not once the sender is forgotten', async () => {
		const ada = new ChatSeal('call', () => 'ada');
		const bob = new ChatSeal('call', () => 'bob');
		const [kid1, kid2] = [randomKid(), randomKid()];
		bob.take({ type: 'receiveKey', sender: 'ada', kid: kid1, baseKey: await senderKey(1) });
		ada.take({ type: 'sendKey', baseKey: await senderKey(1), kid: kid1, generation: 1 });
		const first = await ada.seal('under the first key');
		expect(await bob.open('ada', first)).toBe('under the first key');
		const late = await ada.seal('sealed before the switch');
		bob.take({ type: 'receiveKey', sender: 'ada', kid: kid2, baseKey: await senderKey(2) });
		ada.take({ type: 'sendKey', baseKey: await senderKey(2), kid: kid2, generation: 2 });
		expect(await bob.open('ada', late)).toBe('sealed before the switch');
		expect(await bob.open('ada', await ada.seal('under the second'))).toBe('under the second');
		// Without the key (a device the sender did not give it to): nothing.
		expect(await new ChatSeal('call', () => 'cy').open('ada', await ada.seal('not for cy'))).toBeUndefined();
		bob.take({ type: 'forget', sender: 'ada' });
		expect(await bob.open('ada', await ada.seal('after leaving'))).toBeUndefined();
	});

	test('no key yet: sealing fails, nothing goes out in the clear; garbage does not open', async () => {
		await expect(new ChatSeal('room', () => 'ada').seal('too early')).rejects.toThrow(/no key/);
		const bob = new ChatSeal('room', () => 'bob');
		bob.take({ type: 'key', baseKey: await roomBaseKey('the-secret-0123456', 'room'), generation: 1 });
		for (const garbage of ['', 'not base64!', 'AAAA', 'x'.repeat(8192)]) {
			expect(await bob.open('ada', garbage)).toBeUndefined();
		}
	});
});

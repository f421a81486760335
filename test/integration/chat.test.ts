import { startTestNode, type TestNode } from '../helpers/node';
import { pollUntil } from '../helpers/poll';
import { SignalingClient } from '../helpers/signalingClient';

// Chat in a room (docs/protocol.md, chat.send): to the other peers only, kept nowhere, limited per
// peer, and only sealed (opaque to the node) in an end-to-end encrypted room.
describe('chat', () => {
	let node: TestNode;
	const clients: SignalingClient[] = [];
	beforeAll(async () => {
		node = await startTestNode({ media: { workers: 1 }, signaling: { chatMessagesPerMinute: 5 } });
	});
	afterEach(() => clients.splice(0).forEach((c) => c.disconnect()));
	afterAll(() => node.close());

	async function connected(roomId: string, name: string): Promise<SignalingClient> {
		const res = await fetch(`${node.url}/api/dev/token`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name, room: roomId }) });
		const client = await SignalingClient.connect(node.url, { token: (await res.json() as { token: string }).token });
		clients.push(client);
		return client;
	}
	async function joined(roomId: string, name: string, { e2ee = false } = {}): Promise<SignalingClient> {
		const client = await connected(roomId, name);
		await client.request('room.join', { roomId, e2ee, rtpCapabilities: node.pool.routerRtpCapabilities as never });
		return client;
	}
	const chats = (client: SignalingClient) => client.events.filter((e) => e.name === 'chat.message').map((e) => e.data);

	test('a message reaches the room\'s other peers, not the sender nor another room; a late joiner sees none of the earlier ones', async () => {
		const [ada, bob, cy] = [await joined('chat-a', 'Ada'), await joined('chat-a', 'Bob'), await joined('chat-a', 'Cy')];
		const elsewhere = await joined('chat-b', 'Dee');
		const sent = await ada.request('chat.send', { text: '  hello <b>all</b>  ' });
		expect(sent).toEqual({ id: expect.any(String), at: expect.any(Number) });
		for (const other of [bob, cy]) {
			expect(await other.waitFor('chat.message')).toEqual({ id: sent.id, from: expect.any(String), name: 'Ada', text: 'hello <b>all</b>', at: sent.at });
		}
		const late = await joined('chat-a', 'Eve');
		const second = await bob.request('chat.send', { text: 'second' });
		await pollUntil('Eve has the second', () => chats(late).length === 1);
		expect(chats(late)).toEqual([expect.objectContaining({ id: second.id, name: 'Bob' })]);
		await pollUntil('Ada has the second', () => chats(ada).length === 1);
		expect(chats(ada).map((m) => (m as { id: string }).id)).toEqual([second.id]);
		expect(chats(elsewhere)).toEqual([]);
	});

	test('bad payloads, no room, a flood: typed errors; a refused message goes nowhere', async () => {
		const alone = await connected('chat-c', 'X');
		expect(await alone.requestRaw('chat.send', { text: 'hi' })).toMatchObject({ ok: false, error: { code: 'invalid_state' } });
		const [ada, bob] = [await joined('chat-c', 'Ada'), await joined('chat-c', 'Bob')];
		for (const bad of [{ text: '' }, { text: '\u0000\u0007' }, { text: 'x'.repeat(2001) }, { text: 'a', sealed: 'b' }, {}, { text: 5 }, { sealed: 'not base64url!' }]) {
			expect(await ada.requestRaw('chat.send', bad)).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
		}
		expect(await ada.requestRaw('chat.send', { sealed: 'c2VhbGVk' })).toMatchObject({ ok: false, error: { code: 'validation_failed', message: 'sealed: only in an end-to-end encrypted room' } });
		for (let i = 0; i < 5; i++) {
			await ada.request('chat.send', { text: `m${i}` });
		}
		expect(await ada.requestRaw('chat.send', { text: 'one too many' })).toEqual({ ok: false, error: { code: 'rate_limited', message: 'at most 5 chat messages a minute' } });
		await pollUntil('Bob has the five', () => chats(bob).length === 5);
		// The sixth never arrives: Bob's next message comes back around after it would have.
		await bob.request('chat.send', { text: 'ping' });
		await ada.waitFor('chat.message');
		expect(chats(bob).map((m) => (m as { text: string }).text)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
	});

	test('a raised hand: the others are told, a later joiner sees it in the peer list, lowered it goes', async () => {
		const alone = await connected('hands', 'X');
		expect(await alone.requestRaw('hand.set', { raised: true })).toMatchObject({ ok: false, error: { code: 'invalid_state' } });
		const [ada, bob] = [await joined('hands', 'Ada'), await joined('hands', 'Bob')];
		expect(await ada.requestRaw('hand.set', { raised: 'yes' })).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
		const adaId = (ada.replies.find((r) => r.name === 'room.join')!.reply as { data: { peerId: string } }).data.peerId;
		expect(await ada.request('hand.set', { raised: true })).toEqual({});
		expect(await bob.waitFor('peer.hand')).toEqual({ peerId: adaId, raised: true });
		const peersSeenBy = async (name: string) => {
			const client = await connected('hands', name);
			const reply = await client.request('room.join', { roomId: 'hands', rtpCapabilities: node.pool.routerRtpCapabilities as never });
			return reply.peers.find((p) => p.id === adaId);
		};
		expect(await peersSeenBy('Cy')).toMatchObject({ handRaised: true });
		await ada.request('hand.set', { raised: false });
		await bob.waitFor('peer.hand', (data) => !data.raised);
		expect(await peersSeenBy('Dee')).not.toHaveProperty('handRaised');
		expect(ada.events.filter((e) => e.name === 'peer.hand')).toEqual([]);
	});

	test('an end-to-end encrypted room passes sealed messages only', async () => {
		const [ada, bob] = [await joined('chat-e2ee', 'Ada', { e2ee: true }), await joined('chat-e2ee', 'Bob', { e2ee: true })];
		expect(await ada.requestRaw('chat.send', { text: 'in the clear' })).toMatchObject({ ok: false, error: { code: 'e2ee_mismatch' } });
		const sent = await ada.request('chat.send', { sealed: 'AAEC-_xyz' });
		expect(await bob.waitFor('chat.message')).toEqual({ id: sent.id, from: expect.any(String), name: 'Ada', sealed: 'AAEC-_xyz', at: sent.at });
	});
});

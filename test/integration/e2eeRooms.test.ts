import { KEY_FRAME_REQUEST_INTERVAL_MS } from '../../src/signaling/mediaHandlers';
import { MediaClient } from '../helpers/mediaClient';
import { startTestNode, type TestNode } from '../helpers/node';
import { pollUntil } from '../helpers/poll';
import { SignalingClient, SignalingRequestError } from '../helpers/signalingClient';

// What the node does for end-to-end encrypted rooms (docs/e2ee.md): it never
// holds a key, but it keeps encrypted and plain peers apart, caps encrypted
// rooms, and passes key-frame requests on to the sender, coalesced.
describe('end-to-end encrypted rooms on the node', () => {
	let node: TestNode;
	const clients: SignalingClient[] = [];
	const media: MediaClient[] = [];

	beforeAll(async () => {
		node = await startTestNode({ media: { workers: 1 }, rooms: { e2eeMaxPeers: 2 } });
	});
	afterAll(async () => {
		for (const m of media.splice(0)) {
			await m.close();
		}
		for (const c of clients.splice(0)) {
			c.disconnect();
		}
		await node.close();
	});

	async function client(name: string): Promise<SignalingClient> {
		const c = await SignalingClient.connect(node.url, { token: await node.tokens.issue({ sub: name, name, rooms: ['*'] }) });
		clients.push(c);
		return c;
	}

	async function join(c: SignalingClient, roomId: string, e2ee?: boolean) {
		const { routerRtpCapabilities } = await c.request('media.capabilities', {});
		return c.request('room.join', { roomId, rtpCapabilities: routerRtpCapabilities as never, ...(e2ee === undefined ? {} : { e2ee }) });
	}

	async function refusal(promise: Promise<unknown>): Promise<SignalingRequestError> {
		const error = await promise.then(() => undefined, (e: unknown) => e);
		expect(error).toBeInstanceOf(SignalingRequestError);
		return error as SignalingRequestError;
	}

	test('an encrypted room takes only encrypted peers, and says so in PeerInfo', async () => {
		await join(await client('ada'), 'sealed', true);
		const grace = await client('grace');
		const plain = await refusal(join(grace, 'sealed'));
		expect(plain.code).toBe('e2ee_mismatch');
		expect(plain.details).toEqual({ e2ee: true });
		expect(plain.message).toContain('open it with its full link, including the part after #');
		// The refused client can still join as it should.
		const joined = await join(grace, 'sealed', true);
		expect(joined.peers).toEqual([expect.objectContaining({ displayName: 'ada', e2ee: true })]);
	});

	test('a plain room refuses an encrypted peer', async () => {
		await join(await client('linus'), 'open');
		const error = await refusal(join(await client('ken'), 'open', true));
		expect(error.code).toBe('e2ee_mismatch');
		expect(error.details).toEqual({ e2ee: false });
		expect(error.message).toContain('an encrypted link needs a room of its own');
	});

	test('rooms.e2eeMaxPeers caps an encrypted room (a plain one takes more)', async () => {
		await join(await client('e1'), 'capped', true);
		await join(await client('e2'), 'capped', true);
		const error = await refusal(join(await client('e3'), 'capped', true));
		expect(error.code).toBe('room_full');
		expect(error.message).toBe('an end-to-end encrypted room takes at most 2 participants');
		for (const name of ['p1', 'p2', 'p3']) {
			await join(await client(name), 'uncapped', false);
		}
		expect(node.registry.get('uncapped')!.size).toBe(3);
	});

	test('consumer.requestKeyFrame: validated, only for your consumers, passed on to the sender at most once per interval', async () => {
		const alice = await client('alice');
		const bob = await client('bob');
		const aliceMedia = await MediaClient.create(alice);
		const bobMedia = await MediaClient.create(bob);
		media.push(aliceMedia, bobMedia);
		await aliceMedia.join('keyframes');
		await bobMedia.join('keyframes');
		const { video } = await aliceMedia.produceSynthetic({ video: { width: 320, height: 180 } });

		for (const bad of [{}, { consumerId: 'x'.repeat(200) }, { consumerId: 'a', extra: 1 }]) {
			expect((await refusal(bob.request('consumer.requestKeyFrame', bad as never))).code).toBe('validation_failed');
		}
		expect((await refusal(bob.request('consumer.requestKeyFrame', { consumerId: 'no-such-consumer' }))).code).toBe('not_found');

		const room = node.registry.get('keyframes')!;
		const bobPeer = [...room.peers.values()].find((p) => p.displayName === 'bob')!;
		const consumer = await pollUntil('bob consumes alice\'s video', () => [...bobPeer.consumers.values()].find((c) => c.kind === 'video'), { timeoutMs: 10_000 });
		// Not alice's to ask for: bob's consumer is not one of hers.
		expect((await refusal(alice.request('consumer.requestKeyFrame', { consumerId: consumer.id }))).code).toBe('not_found');

		const producer = [...room.peers.values()].find((p) => p.displayName === 'alice')!.producers.get(video!.id)!;
		const asked = async () => (await producer.getStats()).reduce((n, s) => n + (s.pliCount ?? 0) + (s.firCount ?? 0), 0);
		// NOTE: mediasoup itself sends one PLI while a key frame is pending; the node's coalescing is seen at
		// the call into mediasoup (a spy that calls through), the request reaching the sender at its PLI count.
		const forwarded = jest.spyOn(consumer, 'requestKeyFrame');
		await new Promise((resolve) => setTimeout(resolve, KEY_FRAME_REQUEST_INTERVAL_MS));
		const before = await asked();
		await Promise.all(Array.from({ length: 10 }, () => bob.request('consumer.requestKeyFrame', { consumerId: consumer.id })));
		expect(forwarded).toHaveBeenCalledTimes(1);
		await pollUntil('the request reaches the sender', async () => (await asked()) > before, { timeoutMs: 3000, intervalMs: 50 });

		await new Promise((resolve) => setTimeout(resolve, KEY_FRAME_REQUEST_INTERVAL_MS + 100));
		await bob.request('consumer.requestKeyFrame', { consumerId: consumer.id });
		expect(forwarded).toHaveBeenCalledTimes(2);
	});
});

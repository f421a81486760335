import { api } from '../helpers/accounts';
import { apiToken } from '../helpers/apiToken';
import { startTestNode, type TestNode } from '../helpers/node';
import { pollUntil } from '../helpers/poll';
import { opusParameters, vp8Parameters } from '../helpers/rtp';
import { SignalingClient } from '../helpers/signalingClient';

const SECRET = 'backend-secret-of-the-server-api-0123456789';
const READER = 'reader-secret-of-the-server-api-0123456789';

// The server API's controls of participants (docs/server-api.md): mute, metadata, permissions, data messages.
describe('the server API controls participants', () => {
	let node: TestNode;
	const clients: SignalingClient[] = [];
	beforeAll(async () => {
		node = await startTestNode({
			media: { workers: 1 },
			auth: { secret: 'the-node-own-auth-secret-0123456789abcdef', apiKeys: [`backend:${SECRET}`, `reader:${READER}:read`] as never },
		}, { dev: false });
	});
	afterEach(() => clients.splice(0).forEach((c) => c.disconnect()));
	afterAll(() => node.close());

	const call = async (method: string, path: string, body?: unknown) => api(node, await apiToken('backend', SECRET), method, path, body);

	/** `identity` in `roomId`, with a receive transport; with `produce`, a send transport and a mic and a camera. */
	async function join(roomId: string, identity: string, { produce = false } = {}) {
		const client = await SignalingClient.connect(node.url, { token: await node.tokens.issue({ sub: identity, name: identity, rooms: ['*'] }) });
		clients.push(client);
		client.onConsumerNew(() => undefined);
		const joined = await client.request('room.join', { roomId, rtpCapabilities: node.pool.routerRtpCapabilities as never });
		await client.request('transport.create', { direction: 'recv' });
		const send = produce ? await client.request('transport.create', { direction: 'send' }) : undefined;
		const mic = send && await client.request('producer.create', { transportId: send.id, kind: 'audio', rtpParameters: opusParameters(1000 + clients.length) as never, source: 'mic' });
		const cam = send && await client.request('producer.create', { transportId: send.id, kind: 'video', rtpParameters: vp8Parameters(2000 + clients.length) as never, source: 'camera' });
		return { client, peerId: joined.peerId, peers: joined.peers, send, mic: mic?.id, cam: cam?.id, peer: () => node.registry.get(roomId)!.peers.get(joined.peerId)! };
	}

	/** The consumer `client` has of `producerId`. */
	const consumerOf = (client: SignalingClient, producerId: string) => pollUntil(`a consumer of ${producerId}`, () =>
		client.events.find((e) => e.name === 'consumer.new' && e.data.producerId === producerId)?.data as { consumerId: string } | undefined);

	test('a muted track is paused, the participant is told and may not resume it; allowed, it may, and the server resumes nothing', async () => {
		const eve = await join('mute', 'eve', { produce: true });
		const ann = await join('mute', 'ann');
		const { consumerId } = await consumerOf(ann.client, eve.mic!);

		expect(await call('POST', '/api/v1/rooms/mute/participants/eve/mute', { kind: 'audio', muted: true }))
			.toEqual({ status: 200, body: { participants: 1, tracks: 1 } });
		expect(await eve.client.waitFor('producer.muted')).toEqual({ producerId: eve.mic, source: 'mic', muted: true, by: 'service' });
		expect(eve.peer().producerOf(eve.mic!).paused).toBe(true);
		expect(eve.peer().producerOf(eve.cam!).paused).toBe(false);
		// The others see it paused as with the participant's own pause: its media stops.
		await ann.client.waitFor('consumer.paused', (data) => data.consumerId === consumerId);
		await expect(eve.client.request('producer.resume', { producerId: eve.mic! })).rejects.toMatchObject({ code: 'muted_by_service' });
		// Nor does a new microphone come unpaused.
		await eve.client.request('producer.close', { producerId: eve.mic! });
		await expect(eve.client.request('producer.create', { transportId: eve.send!.id, kind: 'audio', rtpParameters: opusParameters(7777) as never, source: 'mic' }))
			.rejects.toMatchObject({ code: 'muted_by_service' });
		const mic = await eve.client.request('producer.create', { transportId: eve.send!.id, kind: 'audio', rtpParameters: opusParameters(7778) as never, source: 'mic', paused: true });
		// Pausing is always allowed.
		await eve.client.request('producer.pause', { producerId: mic.id });

		expect(await call('POST', '/api/v1/rooms/mute/participants/eve/mute', { producerId: mic.id, muted: false }))
			.toEqual({ status: 200, body: { participants: 1, tracks: 1 } });
		expect(await eve.client.waitFor('producer.muted', (data) => !data.muted)).toEqual({ producerId: mic.id, source: 'mic', muted: false, by: 'service' });
		expect(eve.peer().producerOf(mic.id).paused).toBe(true);
		await eve.client.request('producer.resume', { producerId: mic.id });
		expect(eve.peer().producerOf(mic.id).paused).toBe(false);

		// The camera by its id: the microphone is no matter.
		expect((await call('POST', '/api/v1/rooms/mute/participants/eve/mute', { producerId: eve.cam, muted: true })).body).toEqual({ participants: 1, tracks: 1 });
		await pollUntil('the camera paused', () => eve.peer().producerOf(eve.cam!).paused);
		expect(eve.peer().producerOf(mic.id).paused).toBe(false);
		await expect(eve.client.request('producer.resume', { producerId: eve.cam! })).rejects.toMatchObject({ code: 'muted_by_service' });
	});

	test('bad bodies get 400, an unknown participant or track 404, a key without the rooms scope 403', async () => {
		const eve = await join('mute-bad', 'eve', { produce: true });
		for (const body of [
			{}, { muted: true }, { kind: 'audio' }, { kind: 'screen', muted: true }, { kind: 'audio', muted: 'yes' },
			{ producerId: eve.mic, kind: 'audio', muted: true }, { kind: 'audio', muted: true, extra: 1 }, { producerId: 'has space', muted: true },
		]) {
			expect([body, await call('POST', '/api/v1/rooms/mute-bad/participants/eve/mute', body)])
				.toEqual([body, { status: 400, body: { error: { code: 'validation_failed', message: expect.any(String) } } }]);
		}
		expect(await call('POST', '/api/v1/rooms/mute-bad/participants/nobody/mute', { kind: 'audio', muted: true }))
			.toEqual({ status: 404, body: { error: { code: 'not_found', message: 'no such participant in the room' } } });
		expect(await call('POST', '/api/v1/rooms/elsewhere/participants/eve/mute', { kind: 'audio', muted: true })).toMatchObject({ status: 404 });
		expect(await call('POST', '/api/v1/rooms/mute-bad/participants/eve/mute', { producerId: 'not-hers', muted: true }))
			.toEqual({ status: 404, body: { error: { code: 'not_found', message: 'the participant has no such track' } } });
		expect((await api(node, await apiToken('reader', READER), 'POST', '/api/v1/rooms/mute-bad/participants/eve/mute', { kind: 'audio', muted: true })).status).toBe(403);
		for (const body of [{}, { metadata: 'é'.repeat(513) }, { metadata: 5 }, { permissions: { canPublish: 'no' } }, { permissions: { canMute: true } }, { name: 'x' }]) {
			expect([body, (await call('PATCH', '/api/v1/rooms/mute-bad/participants/eve', body)).status]).toEqual([body, 400]);
		}
		expect((await call('PATCH', '/api/v1/rooms/mute-bad/participants/nobody', { metadata: 'x' })).status).toBe(404);
		for (const body of [{}, { data: 'é'.repeat(8193) }, { data: 'x', identities: [] }, { data: 'x', identities: Array(101).fill('a') }, { data: 'x', topic: '' }, { data: 'x', to: 'a' }]) {
			expect([body, (await call('POST', '/api/v1/rooms/mute-bad/data', body)).status]).toEqual([body, 400]);
		}
		// Nothing of it reached her.
		expect(eve.client.events.map((e) => e.name).filter((name) => ['producer.muted', 'peer.updated', 'room.data', 'room.permissions'].includes(name))).toEqual([]);
	});

	test('without canPublish its producers close and producing is refused; without canSubscribe its consumers close; permitted again, both work', async () => {
		const eve = await join('permits', 'eve', { produce: true });
		const ann = await join('permits', 'ann');
		const { consumerId } = await consumerOf(ann.client, eve.cam!);

		expect(await call('PATCH', '/api/v1/rooms/permits/participants/eve', { permissions: { canPublish: false } })).toEqual({ status: 200, body: { participants: 1 } });
		expect(await eve.client.waitFor('room.permissions')).toEqual({ canPublish: false, canSubscribe: true });
		await eve.client.waitFor('producer.closed', (data) => data.producerId === eve.cam);
		expect(eve.client.events.filter((e) => e.name === 'producer.closed').map((e) => e.data).sort((a, b) => (a.producerId < b.producerId ? -1 : 1)))
			.toEqual([eve.mic, eve.cam].sort().map((producerId) => ({ producerId, reason: 'notPermitted' })));
		expect(eve.peer().producers.size).toBe(0);
		await ann.client.waitFor('consumer.closed', (data) => data.consumerId === consumerId);
		await expect(eve.client.request('producer.create', { transportId: eve.send!.id, kind: 'audio', rtpParameters: opusParameters(5555) as never, source: 'mic' }))
			.rejects.toMatchObject({ code: 'not_permitted' });

		// Ann may not subscribe: what eve publishes once permitted again reaches her only when she may.
		expect((await call('PATCH', '/api/v1/rooms/permits/participants/ann', { permissions: { canSubscribe: false } })).status).toBe(200);
		expect(await ann.client.waitFor('room.permissions')).toEqual({ canPublish: true, canSubscribe: false });
		expect((await call('PATCH', '/api/v1/rooms/permits/participants/eve', { permissions: { canPublish: true } })).status).toBe(200);
		await eve.client.waitFor('room.permissions', (data) => data.canPublish);
		const mic = await eve.client.request('producer.create', { transportId: eve.send!.id, kind: 'audio', rtpParameters: opusParameters(5556) as never, source: 'mic' });
		await new Promise((resolve) => setTimeout(resolve, 300));
		expect(ann.client.events.filter((e) => e.name === 'consumer.new' && e.data.producerId === mic.id)).toEqual([]);
		expect(ann.peer().consumers.size).toBe(0);
		expect((await call('PATCH', '/api/v1/rooms/permits/participants/ann', { permissions: { canSubscribe: true } })).status).toBe(200);
		await consumerOf(ann.client, mic.id);
	});

	test('a participant\'s metadata reaches everyone in the room, and peers who join later see it', async () => {
		const eve = await join('metadata', 'eve');
		const ann = await join('metadata', 'ann');
		expect(await call('PATCH', '/api/v1/rooms/metadata/participants/eve', { metadata: '{"role":"host"}' })).toEqual({ status: 200, body: { participants: 1 } });
		for (const client of [eve.client, ann.client]) {
			expect(await client.waitFor('peer.updated')).toEqual({ peerId: eve.peerId, metadata: '{"role":"host"}' });
		}
		const bob = await join('metadata', 'bob');
		expect(bob.peers.find((p) => p.id === eve.peerId)).toMatchObject({ metadata: '{"role":"host"}' });
		expect(bob.peers.find((p) => p.id === ann.peerId)).not.toHaveProperty('metadata');
	});

	test('a data message goes to the whole room, or to the identities listed only, as from the service', async () => {
		const eve = await join('data', 'eve');
		const ann = await join('data', 'ann');
		await join('other-room', 'ann');
		expect(await call('POST', '/api/v1/rooms/data/data', { data: 'hello all', topic: 'news' })).toEqual({ status: 200, body: { delivered: 2 } });
		for (const client of [eve.client, ann.client]) {
			expect(await client.waitFor('room.data')).toEqual({ from: 'service', topic: 'news', data: 'hello all' });
		}
		// 16 KiB of data fits, whatever the JSON around it.
		const big = 'x'.repeat(16 * 1024);
		expect(await call('POST', '/api/v1/rooms/data/data', { data: big, identities: ['ann', 'nobody'] })).toEqual({ status: 200, body: { delivered: 1 } });
		expect(await ann.client.waitFor('room.data', (data) => data.data === big)).toEqual({ from: 'service', data: big });
		await new Promise((resolve) => setTimeout(resolve, 200));
		expect(eve.client.events.filter((e) => e.name === 'room.data')).toHaveLength(1);
		// A room with nobody in it: nothing delivered, no error.
		expect(await call('POST', '/api/v1/rooms/empty/data', { data: 'x' })).toEqual({ status: 200, body: { delivered: 0 } });
	});
});

import { metricValue } from '../helpers/metrics';
import { startTestNode, type TestNode } from '../helpers/node';
import { pollUntil } from '../helpers/poll';
import { opusParameters, vp8Parameters } from '../helpers/rtp';
import { SignalingClient } from '../helpers/signalingClient';

// Each abuse limit: cross it and see its code, while another client (from
// another loopback address where the limit is per address) is unaffected.
describe('abuse limits', () => {
	let node: TestNode;
	const clients: SignalingClient[] = [];

	beforeAll(async () => {
		node = await startTestNode({
			media: { workers: 1 },
			signaling: { messagesPerSecond: 10, connectionsPerIp: 3, maxPayloadBytes: 8192 },
			rooms: { maxRooms: 2, maxTransportsPerPeer: 2, maxProducersPerPeer: 1, maxConsumersPerPeer: 2, emptyCloseGraceMs: 100 },
		});
	});
	afterEach(() => clients.splice(0).forEach((c) => c.disconnect()));
	afterAll(() => node.close());

	// NOTE: each client from its own loopback address unless a test says otherwise,
	// so that connectionsPerIp (3 here) bites only where a test means it to.
	let next = 0;
	async function connect(name: string, localAddress = `127.0.2.${++next}`): Promise<SignalingClient> {
		const client = await SignalingClient.connect(node.url, { token: await node.tokens.issue({ sub: name, rooms: ['*'] }), localAddress });
		client.onConsumerNew(() => undefined);
		clients.push(client);
		return client;
	}

	async function join(client: SignalingClient, roomId: string) {
		const { routerRtpCapabilities } = await client.request('media.capabilities', {});
		return client.request('room.join', { roomId, rtpCapabilities: routerRtpCapabilities as never });
	}

	async function metric(series: string): Promise<number | undefined> {
		return metricValue(await (await fetch(`${node.url}/metrics`)).text(), series);
	}

	test('messages per second per connection: rate_limited; another connection is unaffected', async () => {
		const flooder = await connect('flooder');
		const calm = await connect('calm');
		const replies = await Promise.all(Array.from({ length: 40 }, () => flooder.requestRaw('media.capabilities', {}) as Promise<{ ok: boolean; error?: { code: string } }>));
		expect(replies.filter((r) => r.ok).length).toBeLessThanOrEqual(21);
		expect(replies.filter((r) => !r.ok).every((r) => r.error?.code === 'rate_limited')).toBe(true);
		expect(replies.some((r) => !r.ok)).toBe(true);
		await expect(calm.request('media.capabilities', {})).resolves.toHaveProperty('routerRtpCapabilities');
		expect(await metric('switchyard_limit_hits_total{limit="messagesPerSecond"}')).toBeGreaterThan(0);
	});

	test('payload size: payload_too_large; the connection keeps serving', async () => {
		const client = await connect('big');
		expect(await client.requestRaw('room.join', { roomId: 'x'.repeat(10000), rtpCapabilities: {} })).toMatchObject({ ok: false, error: { code: 'payload_too_large' } });
		await expect(client.request('media.capabilities', {})).resolves.toHaveProperty('routerRtpCapabilities');
	});

	test('connections per IP: limit_exceeded; a client from another address is unaffected', async () => {
		for (let i = 0; i < 3; i++) {
			await connect(`same-ip-${i}`, '127.0.0.5');
		}
		await expect(connect('one-too-many', '127.0.0.5')).rejects.toMatchObject({ code: 'limit_exceeded' });
		await expect(connect('elsewhere', '127.0.0.6')).resolves.toBeInstanceOf(SignalingClient);
		// A slot frees when a connection closes.
		clients.find((c) => c.connected)!.disconnect();
		clients.splice(0, 1);
		await new Promise((resolve) => setTimeout(resolve, 100));
		await expect(connect('now-fits', '127.0.0.5')).resolves.toBeInstanceOf(SignalingClient);
	});

	test('transports and producers per peer: limit_exceeded; the peer next to it is unaffected', async () => {
		const greedy = await connect('greedy');
		const modest = await connect('modest');
		await join(greedy, 'limits');
		await join(modest, 'limits');
		const send = await greedy.request('transport.create', { direction: 'send' });
		await greedy.request('transport.create', { direction: 'recv' });
		expect(await greedy.requestRaw('transport.create', { direction: 'recv' })).toMatchObject({ ok: false, error: { code: 'limit_exceeded' } });
		await greedy.request('producer.create', { transportId: send.id, kind: 'audio', rtpParameters: opusParameters(1) as never, source: 'mic' });
		expect(await greedy.requestRaw('producer.create', { transportId: send.id, kind: 'video', rtpParameters: vp8Parameters(2) as never, source: 'camera' }))
			.toMatchObject({ ok: false, error: { code: 'limit_exceeded' } });
		const modestSend = await modest.request('transport.create', { direction: 'send' });
		await expect(modest.request('producer.create', { transportId: modestSend.id, kind: 'audio', rtpParameters: opusParameters(3) as never, source: 'mic' }))
			.resolves.toHaveProperty('id');
	});

	test('consumers per peer: the node creates no more than the limit for a peer', async () => {
		const viewer = await connect('viewer');
		await join(viewer, 'crowd');
		await viewer.request('transport.create', { direction: 'recv' });
		const producers: { publisher: SignalingClient; id: string }[] = [];
		for (let i = 0; i < 3; i++) {
			const publisher = await connect(`publisher-${i}`);
			await join(publisher, 'crowd');
			const send = await publisher.request('transport.create', { direction: 'send' });
			const { id } = await publisher.request('producer.create', { transportId: send.id, kind: 'audio', rtpParameters: opusParameters(100 + i) as never, source: 'mic' });
			producers.push({ publisher, id });
		}
		const peer = [...node.registry.get('crowd')!.peers.values()].find((p) => p.claims.sub === 'viewer')!;
		await new Promise((resolve) => setTimeout(resolve, 300));
		expect(peer.consumers.size).toBe(2);
		expect(viewer.events.filter((e) => e.name === 'limit.exceeded').map((e) => e.data)).toEqual([{ code: 'limit_exceeded', limit: 'consumersPerPeer', max: 2 }]);
		expect(await metric('switchyard_limit_hits_total{limit="consumersPerPeer"}')).toBeGreaterThan(0);

		// A consumed producer goes: the one the limit skipped is offered in its place.
		const consumed = new Set([...peer.consumers.values()].map((c) => c.producerId));
		const skipped = producers.find((p) => !consumed.has(p.id))!;
		const gone = producers.find((p) => consumed.has(p.id))!;
		await gone.publisher.request('producer.close', { producerId: gone.id });
		await pollUntil('the skipped producer consumed', () => [...peer.consumers.values()].some((c) => c.producerId === skipped.id));
		expect(peer.consumers.size).toBe(2);
	});

	test('rooms per node: limit_exceeded for a join that would open another; joining an open room still works', async () => {
		await Promise.all([...node.registry.rooms()].map((room) => room.close('shutdown')));
		const a = await connect('room-a');
		const b = await connect('room-b');
		const c = await connect('room-c');
		const d = await connect('room-d');
		await join(a, 'r1');
		await join(b, 'r2');
		await expect(join(c, 'r3')).rejects.toMatchObject({ code: 'limit_exceeded' });
		await expect(join(d, 'r1')).resolves.toHaveProperty('peerId');
	});
});

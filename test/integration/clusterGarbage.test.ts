import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { api, device, signup } from '../helpers/accounts';
import { startTestNode, type TestNode } from '../helpers/node';
import { freshRedisPrefix, testRedis } from '../helpers/redis';
import { SignalingClient } from '../helpers/signalingClient';

/**
 * What a cluster node reads of the others in Redis, and what they send it
 * over the bus, is validated like a client's request (docs/cluster.md): a
 * call entry, a room directory entry, a presence entry or a room's part that
 * no node of this release would write is refused, as are pipe requests
 * from no node of the fleet, and the node answers as for no such thing and
 * goes on serving.
 */

let node: TestNode;
let redis: Redis;
const keyPrefix = freshRedisPrefix();
const clients: SignalingClient[] = [];

beforeAll(async () => {
	node = await startTestNode({
		media: { workers: 1 },
		auth: { secret: 'cluster-garbage-test-secret-0123456789abcdef' },
		accounts: { signupsPerHour: 100 },
		cluster: { redisUrl: testRedis().url, keyPrefix, nodeId: 'node-g', heartbeatMs: 200 },
	}, { dev: true });
	redis = new Redis(testRedis().url);
});
afterEach(() => clients.splice(0).forEach((c) => c.disconnect()));
afterAll(async () => {
	redis.disconnect();
	await node.close();
});

test('a call entry that does not parse: call requests for it answer not_found, the refusal is logged, and calls go on', async () => {
	const caller = await signup(node, 'garbage_caller');
	const callee = await signup(node, 'garbage_callee');
	await api(node, callee.token, 'PUT', `/api/me/contacts/${caller.handle}`);
	const callerDevice = await device(node, caller, clients);
	const calleeDevice = await device(node, callee, clients);
	for (const call of ['not json', JSON.stringify({ v: 99, id: 'x' }), JSON.stringify({ v: 1, id: randomUUID(), legs: 'none' })]) {
		const callId = randomUUID();
		await redis.hset(`${keyPrefix}call:${callId}`, 'owner', 'node-x@1', 'call', call);
		expect(await calleeDevice.requestRaw('call.accept', { callId })).toMatchObject({ ok: false, error: { code: 'not_found' } });
		expect(await callerDevice.requestRaw('call.cancel', { callId })).toMatchObject({ ok: false, error: { code: 'not_found' } });
	}
	expect(node.logLines().filter((l) => l.message === 'cluster call entry refused')).toHaveLength(6);
	// A real call on the same node still rings and is answered.
	const { callId } = await callerDevice.request('call.invite', { to: [callee.handle], media: 'audio' });
	await calleeDevice.waitFor('call.incoming');
	await expect(calleeDevice.request('call.accept', { callId })).resolves.toMatchObject({ callId });
});

test('a room directory entry or a presence entry that is not a node\'s run is taken for gone', async () => {
	// The room's entry names nothing: the room is placed afresh (here, the fleet's one node).
	await redis.set(`${keyPrefix}room:junk-room`, 'no run here');
	const token = (await api(node, undefined, 'POST', '/api/dev/token', { name: 'G', room: 'junk-room' })).body.token as string;
	const client = await SignalingClient.connect(node.url, { token });
	clients.push(client);
	const { routerRtpCapabilities } = await client.request('media.capabilities', {});
	await expect(client.request('room.join', { roomId: 'junk-room', rtpCapabilities: routerRtpCapabilities as never })).resolves.toMatchObject({ roomId: 'junk-room' });
	// A callee "online" only through garbage presence is not online: unavailable, as for anyone offline.
	const caller = await signup(node, 'presence_caller');
	const callee = await signup(node, 'presence_callee');
	await api(node, callee.token, 'PUT', `/api/me/contacts/${caller.handle}`);
	await redis.hset(`${keyPrefix}presence:${callee.id}`, 'sock', 'garbage', 'sock2', 'node-g@not-a-time');
	const callerDevice = await device(node, caller, clients);
	expect(await callerDevice.requestRaw('call.invite', { to: [callee.handle], media: 'audio' })).toMatchObject({ ok: false, error: { code: 'unavailable' } });
});

/** Joins `room` on the node with a fresh signaling client. */
async function joinRoom(room: string): Promise<SignalingClient> {
	const token = (await api(node, undefined, 'POST', '/api/dev/token', { name: 'G', room })).body.token as string;
	const client = await SignalingClient.connect(node.url, { token });
	clients.push(client);
	const { routerRtpCapabilities } = await client.request('media.capabilities', {});
	await client.request('room.join', { roomId: room, rtpCapabilities: routerRtpCapabilities as never });
	return client;
}

test('a room\'s parts that do not parse are refused: the room runs with the peers here, and no stranger appears', async () => {
	const alive = `node-g@${Date.now()}`;
	await redis.hset(`${keyPrefix}room:junk-parts:parts`, 'node-x@1', 'not json', alive, JSON.stringify({ v: 1, node: 'node-x', run: 'other@1', seq: 1, peers: [], needs: {} }),
		'node-y@1', JSON.stringify({ v: 1, node: 'node-y', run: 'node-y@1', seq: 1, peers: [{ id: 'p1', displayName: '\u202eevil', producers: [] }], needs: {} }));
	const client = await joinRoom('junk-parts');
	await new Promise((resolve) => setTimeout(resolve, 500));
	expect(client.events.filter((e) => e.name === 'peer.joined')).toEqual([]);
	expect(node.logLines().filter((l) => l.message === 'room part refused').length).toBeGreaterThanOrEqual(3);
});

test('the bus: a part sent for another node, and pipe requests from no node of the fleet or that do not parse, are refused', async () => {
	const client = await joinRoom('bus-room');
	const listener = new Redis(testRedis().url);
	const replies = new Map<string, { ok: boolean; error?: { code: string } }>();
	try {
		await listener.subscribe(`${keyPrefix}bus:node-stranger`);
		listener.on('message', (_channel, text: string) => {
			const reply = JSON.parse(text) as { id: string; ok: boolean; error?: { code: string } };
			replies.set(reply.id, reply);
		});
		const asked: string[] = [];
		const ask = async (method: string, body: unknown) => {
			const id = randomUUID();
			asked.push(id);
			await redis.publish(`${keyPrefix}bus:node-g`, JSON.stringify({ v: 1, kind: 'request', id, from: 'node-stranger', to: 'node-g', method, body }));
		};
		const part = { v: 1, node: 'node-other', run: 'node-other@1', seq: 1, peers: [{ id: 'intruder', displayName: 'Intruder', producers: [] }], needs: {} };
		await ask('room.part', { roomId: 'bus-room', part });
		const end = { ip: '127.0.0.1', port: 45001, srtpParameters: { cryptoSuite: 'AEAD_AES_256_GCM', keyBase64: 'a'.repeat(58) + '==' } };
		await ask('pipe.open', { roomId: 'bus-room', routerId: 'r', pipeId: 'p', end });
		await ask('pipe.open', { roomId: 'bus-room', routerId: 'r', pipeId: 'p', end: { ...end, ip: 'bad host; rm' } });
		await ask('pipe.consume', { roomId: 'bus-room', pipeId: 'p', producerId: 'x' });
		const deadline = Date.now() + 5000;
		while (replies.size < asked.length && Date.now() < deadline) {
			await new Promise((resolve) => setTimeout(resolve, 50));
		}
		expect(asked.map((id) => replies.get(id)?.error?.code ?? replies.get(id)?.ok)).toEqual([true, 'not_found', 'validation_failed', 'not_found']);
		// The part named another node than its sender: nobody joined.
		expect(client.events.filter((e) => e.name === 'peer.joined')).toEqual([]);
	} finally {
		listener.disconnect();
	}
	// The node goes on serving.
	await joinRoom('bus-room-after');
});

test('the server API\'s orders over the bus that do not parse are refused; casts that do not parse change nothing', async () => {
	const client = await joinRoom('api-bus-room');
	const listener = new Redis(testRedis().url);
	const replies = new Map<string, { ok: boolean; error?: { code: string } }>();
	try {
		await listener.subscribe(`${keyPrefix}bus:node-stranger`);
		listener.on('message', (_channel, text: string) => {
			const reply = JSON.parse(text) as { id: string; ok: boolean; error?: { code: string } };
			replies.set(reply.id, reply);
		});
		const asked: string[] = [];
		const ask = async (method: string, body: unknown) => {
			const id = randomUUID();
			asked.push(id);
			await redis.publish(`${keyPrefix}bus:node-g`, JSON.stringify({ v: 1, kind: 'request', id, from: 'node-stranger', to: 'node-g', method, body }));
		};
		const cast = (method: string, body: unknown) => redis.publish(`${keyPrefix}bus`, JSON.stringify({ v: 1, kind: 'cast', from: 'node-stranger', method, body }));
		await cast('rooms.putOut', { roomId: 'api-bus-room', reason: 'because' });
		await cast('rooms.peersUpdated', { roomId: 'api-bus-room', peers: 'all', metadata: 'x' });
		// A good one after them: once it arrives, the node has read the bad ones.
		const peerId = [...node.registry.get('api-bus-room')!.peers.keys()][0]!;
		await cast('rooms.peersUpdated', { roomId: 'api-bus-room', peers: [peerId], metadata: 'good' });
		await ask('rooms.mute', { roomId: 'api-bus-room', identity: 'x', muted: 'yes' });
		await ask('rooms.update', { roomId: 'api-bus-room', identity: 'x'.repeat(129) });
		await ask('rooms.data', { roomId: 'api-bus-room', data: 'x'.repeat(16 * 1024 + 1) });
		await ask('rooms.list', { extra: [1, 2] });
		const deadline = Date.now() + 5000;
		while (replies.size < asked.length && Date.now() < deadline) {
			await new Promise((resolve) => setTimeout(resolve, 50));
		}
		expect(asked.map((id) => replies.get(id)?.error?.code ?? replies.get(id)?.ok)).toEqual(['validation_failed', 'validation_failed', 'validation_failed', true]);
		// The bad casts put nobody out and told nobody anything; the good one came through.
		await client.waitFor('peer.updated');
		expect(client.events.filter((e) => ['room.removed', 'peer.updated', 'room.data'].includes(e.name)))
			.toEqual([{ name: 'peer.updated', data: { peerId, metadata: 'good' } }]);
		expect(node.registry.get('api-bus-room')!.peers.size).toBe(1);
	} finally {
		listener.disconnect();
	}
	await joinRoom('api-bus-room-after');
});

test('a created room\'s settings in Redis that do not parse are no settings: the room opens as a plain one', async () => {
	await redis.set(`${keyPrefix}roomSettings:settings-junk`, 'not json');
	await redis.set(`${keyPrefix}roomSettings:settings-wrong`, JSON.stringify({ e2ee: 'yes', emptyTimeoutSeconds: -1, maxParticipants: 1 }));
	for (const room of ['settings-junk', 'settings-wrong']) {
		await joinRoom(room);
		await joinRoom(room);
		expect(node.registry.get(room)!.peers.size).toBe(2);
	}
});

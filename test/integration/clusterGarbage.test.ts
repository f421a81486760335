import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { api, device, signup } from '../helpers/accounts';
import { startTestNode, type TestNode } from '../helpers/node';
import { freshRedisPrefix, testRedis } from '../helpers/redis';
import { SignalingClient } from '../helpers/signalingClient';

/**
 * What a cluster node reads of the others in Redis is validated like a
 * client's request (docs/cluster.md): a call entry, a room directory entry
 * or a presence entry that no node of this release would write is refused,
 * and the node answers as for no such thing and goes on serving.
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

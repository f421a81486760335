import { Redis } from 'ioredis';
import { NODE_RECORD_VERSION } from '../../src/cluster';
import { api } from '../helpers/accounts';
import { metricValue } from '../helpers/metrics';
import { startTestNode, type TestNode } from '../helpers/node';
import { pollUntil } from '../helpers/poll';
import { freshRedisPrefix, startRedis, testRedis, type RedisServer } from '../helpers/redis';

/**
 * The node registry on a real Redis (docs/cluster.md): nodes of one fleet see
 * each other, a silent node drops out within two heartbeats, records from
 * another node are validated, and a node cut off from Redis says
 * `cluster_unavailable` on /readyz until it is back and registered again.
 */

const SECRET = 'cluster-registry-test-secret-0123456789abcdef';
const ADMIN = 'cluster-registry-test-admin-token-0123456789';
const HEARTBEAT_MS = 200;
const nodes: TestNode[] = [];
let ownRedis: RedisServer | undefined;

afterEach(async () => {
	for (const node of nodes.splice(0)) {
		await node.close();
	}
	await ownRedis?.destroy();
	ownRedis = undefined;
});

async function clusterNode(redisUrl: string, keyPrefix: string, nodeId: string): Promise<TestNode> {
	const node = await startTestNode({
		media: { workers: 1 },
		auth: { secret: SECRET, adminToken: ADMIN },
		cluster: { redisUrl, keyPrefix, nodeId, nodeUrl: `https://${nodeId}.media.example.org`, heartbeatMs: HEARTBEAT_MS },
	}, { dev: false });
	nodes.push(node);
	return node;
}

const listed = async (node: TestNode) => (await api(node, ADMIN, 'GET', '/api/admin/cluster')).body as { self: string; available: boolean; nodes: { id: string }[] };
const ids = async (node: TestNode) => (await listed(node)).nodes.map((n) => n.id);

test('two nodes of one fleet list each other; one that leaves is gone; a silent one drops out within two heartbeats; bad records are refused', async () => {
	const { url } = testRedis();
	const prefix = freshRedisPrefix();
	const a = await clusterNode(url, prefix, 'node-a');
	const b = await clusterNode(url, prefix, 'node-b');
	await pollUntil('each node lists both', async () => (await ids(a)).join() === 'node-a,node-b' && (await ids(b)).join() === 'node-a,node-b', { timeoutMs: 5000, intervalMs: 50 });
	const record = (await listed(a)).nodes.find((n) => n.id === 'node-b');
	expect(record).toMatchObject({ v: NODE_RECORD_VERSION, id: 'node-b', url: 'https://node-b.media.example.org', state: 'ready', rooms: 0, peers: 0 });
	expect((await listed(a)).self).toBe('node-a');
	expect(metricValue(await (await fetch(`${a.url}/metrics`)).text(), 'switchyard_cluster_nodes')).toBe(2);
	// Only the admin token lists the fleet.
	expect((await api(a, undefined, 'GET', '/api/admin/cluster')).status).toBe(401);

	// A node that closes leaves at once.
	await b.close();
	nodes.splice(nodes.indexOf(b), 1);
	await pollUntil('node-b gone from node-a\'s list', async () => (await ids(a)).join() === 'node-a', { timeoutMs: 3 * HEARTBEAT_MS + 1000, intervalMs: 50 });

	// Records straight in Redis: a silent node (no heartbeat after this one), one of a newer version, and garbage.
	const redis = new Redis(url, { lazyConnect: true });
	await redis.connect();
	try {
		const now = Date.now();
		const ghost = { v: NODE_RECORD_VERSION, id: 'ghost', url: null, state: 'ready', rooms: 1, peers: 2, headroom: 300, release: '0.0.1', startedAt: now, at: now };
		await redis.multi()
			.set(`${prefix}node:ghost`, JSON.stringify(ghost), 'PX', 2 * HEARTBEAT_MS).zadd(`${prefix}nodes`, now, 'ghost')
			.set(`${prefix}node:newer`, JSON.stringify({ ...ghost, id: 'newer', v: NODE_RECORD_VERSION + 1 }), 'PX', 60_000).zadd(`${prefix}nodes`, now + 60_000, 'newer')
			.set(`${prefix}node:garbage`, '{"v":1,"id":"garbage","rooms":"lots"}', 'PX', 60_000).zadd(`${prefix}nodes`, now + 60_000, 'garbage')
			.exec();
		const seenGhost = await pollUntil('node-a sees the ghost', async () => {
			const found = (await listed(a)).nodes.find((n) => n.id === 'ghost');
			return found ? Date.now() : undefined;
		}, { timeoutMs: 3 * HEARTBEAT_MS + 1000, intervalMs: 20 });
		await pollUntil('the silent ghost drops out', async () => !(await ids(a)).includes('ghost'), { timeoutMs: 5000, intervalMs: 20 });
		// Within two heartbeats of its last one (plus one heartbeat for node-a to look again).
		expect(Date.now() - now).toBeLessThan(3 * HEARTBEAT_MS + 500);
		expect(seenGhost).toBeGreaterThan(0);
		expect(await ids(a)).toEqual(['node-a']);
		expect(a.logLines().filter((l) => l.message === 'cluster node record refused').map((l) => l.nodeId)).toEqual(expect.arrayContaining(['newer', 'garbage']));
		expect(metricValue(await (await fetch(`${a.url}/metrics`)).text(), 'switchyard_cluster_node_headroom{node="ghost"}')).toBeUndefined();
	} finally {
		redis.disconnect();
	}
});

test('Redis stopped: /readyz 503 cluster_unavailable and the node goes on serving; Redis back: ready and registered again, with no restart', async () => {
	ownRedis = await startRedis();
	const node = await clusterNode(ownRedis.url, freshRedisPrefix(), 'node-c');
	await pollUntil('ready', async () => (await fetch(`${node.url}/readyz`)).status === 200, { timeoutMs: 5000, intervalMs: 50 });

	await ownRedis.stop();
	const down = await pollUntil('readyz says cluster_unavailable', async () => {
		const res = await fetch(`${node.url}/readyz`);
		const body = await res.json() as { reason?: string };
		return res.status === 503 && body.reason === 'cluster_unavailable' ? body : undefined;
	}, { timeoutMs: 5000, intervalMs: 50 });
	expect(down).toMatchObject({ status: 'not_ready', reason: 'cluster_unavailable' });
	expect((await fetch(`${node.url}/healthz`)).status).toBe(200);
	expect(await listed(node)).toEqual({ self: 'node-c', available: false, nodes: [] });
	expect(metricValue(await (await fetch(`${node.url}/metrics`)).text(), 'switchyard_cluster_available')).toBe(0);

	await ownRedis.start();
	await pollUntil('ready again', async () => (await fetch(`${node.url}/readyz`)).status === 200, { timeoutMs: 10_000, intervalMs: 100 });
	expect(await ids(node)).toEqual(['node-c']);
	expect(node.logLines().some((l) => l.message === 'cluster node registered')).toBe(true);
});

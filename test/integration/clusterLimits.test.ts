import { api, signup } from '../helpers/accounts';
import { SignalingClient } from '../helpers/signalingClient';
import { startTestNode, type TestNode } from '../helpers/node';
import { pollUntil } from '../helpers/poll';
import { freshDatabase } from '../helpers/postgres';
import { freshRedisPrefix, startRedis, testRedis, type RedisServer } from '../helpers/redis';

/**
 * Limits on a cluster count in the fleet's Redis (src/cluster/limiters.ts):
 * requests spread over two nodes trip a limit at the same count as on one
 * node. While Redis is away each node falls back to counting in its memory.
 */

const SECRET = 'cluster-limits-test-secret-0123456789abcdef';
const nodes: TestNode[] = [];
const drops: (() => Promise<void>)[] = [];
let ownRedis: RedisServer | undefined;

afterEach(async () => {
	for (const node of nodes.splice(0)) {
		await node.close();
	}
	for (const drop of drops.splice(0)) {
		await drop();
	}
	await ownRedis?.destroy();
	ownRedis = undefined;
});

/** A node of the fleet that shares `storeUrl` and Redis under `keyPrefix`, with small limits. */
async function fleetNode(redisUrl: string, keyPrefix: string, storeUrl: string): Promise<TestNode> {
	const node = await startTestNode({
		media: { workers: 1 },
		store: { url: storeUrl },
		auth: { secret: SECRET },
		accounts: { signupsPerHour: 4, loginFailuresPerAccount: 3, loginFailureWindowSeconds: 600 },
		calls: { invitesPerMinute: 3, coolDownSeconds: 60 },
		signaling: { connectionsPerIp: 3 },
		cluster: { redisUrl, keyPrefix, heartbeatMs: 500 },
	}, { dev: false });
	nodes.push(node);
	return node;
}

async function sharedStore(): Promise<string> {
	const database = await freshDatabase();
	drops.push(database.drop);
	return database.url;
}

const signUp = (node: TestNode, handle: string) =>
	api(node, undefined, 'POST', '/api/auth/signup', { handle, password: `pw-${handle}-secret`, displayName: handle }).then((r) => [handle, r.status] as const);

test('sign-ups from one address over two nodes trip at the same count as on one; so do failed logins for one handle', async () => {
	const { url } = testRedis();
	const prefix = freshRedisPrefix();
	const store = await sharedStore();
	const [a, b] = [await fleetNode(url, prefix, store), await fleetNode(url, prefix, store)];

	const answers = [];
	for (const [i, node] of [a, b, a, b, a, b].entries()) {
		answers.push(await signUp(node, `spread_${i}`));
	}
	expect(answers.map(([, status]) => status)).toEqual([201, 201, 201, 201, 429, 429]);

	// Three wrong passwords for one handle, over both nodes: the fourth attempt is refused on either, the right password too.
	const login = (node: TestNode, password: string) => api(node, undefined, 'POST', '/api/auth/login', { handle: 'spread_0', password }).then((r) => r.status);
	expect([await login(a, 'wrong one'), await login(b, 'wrong two'), await login(a, 'wrong three')]).toEqual([401, 401, 401]);
	expect(await login(b, 'pw-spread_0-secret')).toBe(429);
	expect(await login(a, 'pw-spread_0-secret')).toBe(429);
});

test('invites from one caller spread over two nodes trip the per-minute limit at the same count as on one node', async () => {
	const { url } = testRedis();
	const prefix = freshRedisPrefix();
	const store = await sharedStore();
	const [a, b] = [await fleetNode(url, prefix, store), await fleetNode(url, prefix, store)];
	const caller = await signup(a, 'inviting_caller');
	await signup(a, 'offline_callee');
	// One device of the caller on each node (one account store, one auth.secret: the token works on both).
	const devices = [await SignalingClient.connect(a.url, { token: caller.token }), await SignalingClient.connect(b.url, { token: caller.token })];
	try {
		const codes = [];
		for (const device of [devices[0]!, devices[1]!, devices[0]!, devices[1]!, devices[0]!]) {
			const reply = await device.requestRaw('call.invite', { to: ['offline_callee'], media: 'audio' }) as { ok: boolean; error?: { code: string } };
			codes.push(reply.ok ? 'ok' : reply.error!.code);
		}
		// Each invite counts (an offline callee rings nobody: unavailable); the fourth is over the limit
		// wherever it is placed, and the cool-down holds on the other node too.
		expect(codes).toEqual(['unavailable', 'unavailable', 'unavailable', 'rate_limited', 'rate_limited']);
	} finally {
		devices.forEach((d) => d.disconnect());
	}
});

test('connections from one address over two nodes trip connectionsPerIp at the same count as on one; closing one lets one more in', async () => {
	const { url } = testRedis();
	const prefix = freshRedisPrefix();
	const store = await sharedStore();
	const [a, b] = [await fleetNode(url, prefix, store), await fleetNode(url, prefix, store)];
	const open: SignalingClient[] = [];
	let clients = 0;
	const connect = async (node: TestNode, localAddress = '127.0.3.1') => {
		const client = await SignalingClient.connect(node.url, { token: await node.tokens.issue({ sub: `conn_${++clients}`, rooms: ['*'] }), localAddress });
		open.push(client);
		return client;
	};
	try {
		await connect(a);
		await connect(b);
		await connect(a);
		// The fourth is refused on either node, as on one node with three open; another address is not.
		await expect(connect(b)).rejects.toMatchObject({ code: 'limit_exceeded' });
		await expect(connect(a)).rejects.toMatchObject({ code: 'limit_exceeded' });
		await expect(connect(b, '127.0.3.2')).resolves.toBeInstanceOf(SignalingClient);

		// One on a closes: once a has counted it down, one more gets in on b, and only one.
		open.shift()!.disconnect();
		await pollUntil('a place for one more connection', () => connect(b));
		await expect(connect(a)).rejects.toMatchObject({ code: 'limit_exceeded' });
		await expect(connect(b)).rejects.toMatchObject({ code: 'limit_exceeded' });
	} finally {
		open.forEach((client) => client.disconnect());
	}
});

test('Redis away: each node goes on limiting in its own memory (no 500, no free pass); back, the fleet counts again', async () => {
	ownRedis = await startRedis();
	const store = await sharedStore();
	const node = await fleetNode(ownRedis.url, freshRedisPrefix(), store);
	expect([await signUp(node, 'before_1')]).toEqual([['before_1', 201]]);

	await ownRedis.stop();
	// The insurance limiter counts from zero, in this node: four more, then 429.
	const during = [];
	for (let i = 0; i < 5; i++) {
		during.push((await signUp(node, `during_${i}`))[1]);
	}
	expect(during).toEqual([201, 201, 201, 201, 429]);

	await ownRedis.start();
	// An empty Redis (no persistence in the test server): the fleet's count starts again.
	const after = await (async () => {
		for (let tries = 0; tries < 50; tries++) {
			const [, status] = await signUp(node, `after_${tries}`);
			if (status === 201) {
				return status;
			}
			await new Promise((resolve) => setTimeout(resolve, 100));
		}
		return 'still refused';
	})();
	expect(after).toBe(201);
});

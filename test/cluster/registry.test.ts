import { metricValue } from '../helpers/metrics';
import { pollUntil } from '../helpers/poll';
import { showingOutput, startFleet, type Fleet, type FleetNode } from './fleet';

/**
 * Three real node processes (dist/main.js) of one fleet (docs/cluster.md):
 * they find each other in the Redis registry, share their accounts through
 * one PostgreSQL database and their tokens through one auth.secret, a node
 * killed with SIGKILL drops out of the others' lists within two heartbeats,
 * and comes back when it starts again.
 */

let fleet: Fleet | undefined;

beforeAll(async () => {
	fleet = await startFleet({ size: 3 });
}, 100_000);
afterAll(async () => {
	await fleet?.close();
});

type Listing = { self: string; available: boolean; nodes: { id: string; url: string | null; state: string }[] };

async function listing(node: FleetNode): Promise<Listing> {
	const res = await node.api('GET', '/api/admin/cluster', { token: fleet!.adminToken });
	if (res.status !== 200) {
		throw new Error(`${node.id} GET /api/admin/cluster: ${res.status} ${JSON.stringify(res.body)}`);
	}
	return res.body as Listing;
}

const ids = async (node: FleetNode) => (await listing(node)).nodes.map((n) => n.id).join();

async function clusterNodesMetric(node: FleetNode): Promise<number | undefined> {
	return metricValue((await node.api('GET', '/metrics')).body as string, 'switchyard_cluster_nodes');
}

const credentials = { handle: 'fleet_ada', password: 'pw-fleet_ada-secret' };

test('each node lists all three, with their URLs, ready; only the admin token lists them', showingOutput(() => fleet, async () => {
	const { nodes, heartbeatMs } = fleet!;
	for (const node of nodes) {
		await pollUntil(`${node.id} to list all three`, async () => (await ids(node)) === 'node-1,node-2,node-3',
			{ timeoutMs: 3 * heartbeatMs + 2000, intervalMs: 50 });
	}
	for (const node of nodes) {
		const seen = await listing(node);
		expect(seen.self).toBe(node.id);
		expect(seen.available).toBe(true);
		expect(seen.nodes.map(({ id, url, state }) => ({ id, url, state })))
			.toEqual(nodes.map(({ id, url }) => ({ id, url, state: 'ready' })));
		expect(await clusterNodesMetric(node)).toBe(3);
	}
	expect((await nodes[0]!.api('GET', '/api/admin/cluster')).status).toBe(401);
	expect((await nodes[0]!.api('GET', '/api/admin/cluster', { token: 'x'.repeat(48) })).status).toBe(401);
}));

test('an account signed up on node-1 logs in on node-2 and node-3, and a token from node-2 works on node-3', showingOutput(() => fleet, async () => {
	const [one, two, three] = fleet!.nodes as [FleetNode, FleetNode, FleetNode];
	const signup = await one.api('POST', '/api/auth/signup', { body: { ...credentials, displayName: 'Ada of the fleet' } });
	expect(signup.status).toBe(201);
	// One store: the handle is taken on every node.
	const again = await three.api('POST', '/api/auth/signup', { body: { ...credentials, displayName: 'Another Ada' } });
	expect([again.status, again.body?.error?.code]).toEqual([409, 'conflict']);

	for (const node of [two, three]) {
		const login = await node.api('POST', '/api/auth/login', { body: credentials });
		expect([node.id, login.status]).toEqual([node.id, 200]);
		const wrong = await node.api('POST', '/api/auth/login', { body: { ...credentials, password: 'not the password' } });
		expect([node.id, wrong.status]).toEqual([node.id, 401]);
	}

	// One auth.secret: a token node-2 issued is good on node-3 (and node-1).
	const { token } = (await two.api('POST', '/api/auth/login', { body: credentials })).body as { token: string };
	for (const node of [three, one]) {
		const me = await node.api('GET', '/api/me', { token });
		expect([node.id, me.status, me.body?.handle]).toEqual([node.id, 200, 'fleet_ada']);
	}
	expect((await three.api('GET', '/api/me', { token: `${token.slice(0, -4)}AAAA` })).status).toBe(401);
}));

test('kill -9 node-3: node-1 and node-2 stop listing it within two heartbeats; started again, it is listed again', showingOutput(() => fleet, async () => {
	const { nodes, heartbeatMs } = fleet!;
	const [one, two, three] = nodes as [FleetNode, FleetNode, FleetNode];
	expect(await ids(one)).toBe('node-1,node-2,node-3');

	// Two heartbeats for its record to expire, one for a node to look again, and slack for the HTTP polling.
	const bound = 3 * heartbeatMs + 1000;
	const killedAt = Date.now();
	const killing = three.kill('SIGKILL');
	const dropped = await Promise.all([one, two].map((node) => pollUntil(`${node.id} to stop listing node-3`,
		async () => (await ids(node)) === 'node-1,node-2' ? Date.now() - killedAt : undefined, { timeoutMs: 10_000, intervalMs: 20 })));
	await killing;
	process.stdout.write(`[registry.test] node-3 killed: dropped from node-1's list after ${dropped[0]} ms, node-2's after ${dropped[1]} ms `
		+ `(heartbeat ${heartbeatMs} ms, bound ${bound} ms)\n`);
	expect(three.process.signalCode).toBe('SIGKILL');
	expect(Math.max(...dropped)).toBeLessThanOrEqual(bound);
	expect(await clusterNodesMetric(one)).toBe(2);
	// The others go on serving.
	for (const node of [one, two]) {
		expect([node.id, (await fetch(`${node.url}/readyz`)).status]).toEqual([node.id, 200]);
	}

	await fleet!.restart(2);
	expect(three.running).toBe(true);
	for (const node of nodes) {
		await pollUntil(`${node.id} to list all three again`, async () => (await ids(node)) === 'node-1,node-2,node-3',
			{ timeoutMs: 3 * heartbeatMs + 2000, intervalMs: 50 });
	}
	expect((await listing(one)).nodes.find((n) => n.id === 'node-3')).toMatchObject({ url: three.url, state: 'ready' });
	expect(await clusterNodesMetric(one)).toBe(3);
	// The same store after the restart.
	expect((await three.api('POST', '/api/auth/login', { body: credentials })).status).toBe(200);
	expect(three.output()).toContain('--- node-3 started');
}));

import { createRedis, NodeRegistry, type NodeStatus } from '../../src/cluster';
import { FleetRooms } from '../../src/rooms';
import { systemClock } from '../../src/util';
import { testLogger } from '../helpers/logger';
import { pollUntil } from '../helpers/poll';
import { freshRedisPrefix, testRedis } from '../helpers/redis';

/**
 * The room directory's placement on a real Redis (src/rooms/FleetRooms.ts):
 * three node registries heartbeat there as three nodes would, each with the
 * status a test gives it, and node a's directory places rooms among them.
 */

const HEARTBEAT_MS = 100;
type FakeNode = { registry: NodeRegistry; status: NodeStatus; hosted: string[]; draining: boolean; rooms: FleetRooms; cutOff(): void; close(): Promise<void> };
const opened: FakeNode[] = [];

afterEach(async () => {
	for (const node of opened.splice(0)) {
		await node.close();
	}
});

async function fakeNode(keyPrefix: string, id: string, status: Partial<NodeStatus> = {}): Promise<FakeNode> {
	const { logger } = testLogger();
	const redis = createRedis(testRedis().url, logger, id);
	await redis.connect();
	const node = { status: { state: 'ready', rooms: 0, peers: 0, headroom: null, ...status }, hosted: [] as string[], draining: false } as FakeNode;
	node.registry = new NodeRegistry({
		redis, nodeId: id, url: `http://${id}.test:8080`, heartbeatMs: HEARTBEAT_MS, keyPrefix, release: 'test', status: () => node.status, clock: systemClock, logger,
	});
	node.rooms = new FleetRooms({ redis, registry: node.registry, keyPrefix, heartbeatMs: HEARTBEAT_MS, hosted: () => node.hosted, draining: () => node.draining, logger });
	node.cutOff = () => redis.disconnect();
	node.close = async () => {
		node.rooms.close();
		await node.registry.close();
		redis.disconnect();
	};
	await node.registry.start();
	opened.push(node);
	return node;
}

async function fleetOf(statuses: Record<string, Partial<NodeStatus>>): Promise<FakeNode[]> {
	const keyPrefix = freshRedisPrefix();
	const nodes = await Promise.all(Object.entries(statuses).map(([id, status]) => fakeNode(keyPrefix, id, status)));
	await pollUntil('every node to list all', async () => nodes.every((n) => n.registry.nodes.length === nodes.length) || undefined, { timeoutMs: 3000, intervalMs: 20 });
	return nodes;
}

test('a new room goes to the ready node with the most headroom, never to a draining one; then it stays where it is', async () => {
	const [a, b, c] = await fleetOf({ a: { headroom: 100 }, b: { headroom: 900 }, c: { headroom: 5000, state: 'draining' } });
	expect(await a!.rooms.place('r1')).toEqual({ here: false, nodeId: 'b', url: 'http://b.test:8080' });
	// Asked again, or through another node: the same node, whatever the headroom says now.
	b!.status.headroom = 0;
	await pollUntil('a to see b full', async () => a!.registry.nodes.find((n) => n.id === 'b')?.headroom === 0 || undefined, { timeoutMs: 2000, intervalMs: 20 });
	expect(await a!.rooms.place('r1')).toMatchObject({ nodeId: 'b' });
	expect(await c!.rooms.place('r1')).toMatchObject({ nodeId: 'b' });
	// The next new room goes to a (b has none left); c drains and takes none.
	expect(await c!.rooms.place('r2')).toEqual({ here: false, nodeId: 'a', url: 'http://a.test:8080' });
	expect(await a!.rooms.place('r2')).toEqual({ here: true });
});

test('a node that has not measured its headroom counts as having the most; ties go to fewer rooms, then the lower id', async () => {
	const [a] = await fleetOf({ a: { headroom: 10_000 }, b: { headroom: null, rooms: 3 }, c: { headroom: null, rooms: 1 } });
	expect(await a!.rooms.place('fresh')).toMatchObject({ nodeId: 'c' });
	const [d] = await fleetOf({ d: { headroom: 50 }, e: { headroom: 50 }, f: { headroom: 50 } });
	expect(await d!.rooms.place('tie')).toEqual({ here: true });
});

test('a room whose node is gone is placed again; a draining node keeps the rooms it hosts and sends the others on', async () => {
	const [a, b] = await fleetOf({ a: { headroom: 10 }, b: { headroom: 20 } });
	expect(await a!.rooms.place('kept')).toMatchObject({ nodeId: 'b' });
	b!.hosted.push('kept');
	// b drains: its own running room still comes to it; a new one goes to a.
	b!.draining = true;
	b!.status.state = 'draining';
	expect(await b!.rooms.place('kept')).toEqual({ here: true });
	expect(await b!.rooms.place('new')).toMatchObject({ nodeId: 'a' });
	// b closes (as a killed node would, its record goes): the room comes back on a.
	await b!.close();
	opened.splice(opened.indexOf(b!), 1);
	await pollUntil('a to stop listing b', async () => a!.registry.nodes.every((n) => n.id !== 'b') || undefined, { timeoutMs: 2000, intervalMs: 20 });
	expect(await a!.rooms.place('kept')).toEqual({ here: true });
});

test('Redis away: a room open on this node still takes its joins here; any other room waits for Redis (service_unavailable)', async () => {
	const [a] = await fleetOf({ a: { headroom: 10 }, b: { headroom: 20 } });
	a!.hosted.push('open-here');
	a!.cutOff();
	expect(await a!.rooms.place('open-here')).toEqual({ here: true });
	await expect(a!.rooms.place('somewhere')).rejects.toMatchObject({ code: 'service_unavailable' });
});

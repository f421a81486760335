import { createRedis, NodeRegistry, type NodeStatus } from '../../src/cluster';
import { FleetRooms, type FleetRoomsDeps } from '../../src/rooms';
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

async function fakeNode(keyPrefix: string, id: string, status: Partial<NodeStatus> = {}, options: Partial<FleetRoomsDeps> = {}): Promise<FakeNode> {
	const { logger } = testLogger();
	const redis = createRedis(testRedis().url, logger, id);
	await redis.connect();
	const node = { status: { state: 'ready', rooms: 0, peers: 0, headroom: null, ...status }, hosted: [] as string[], draining: false } as FakeNode;
	node.registry = new NodeRegistry({
		redis, nodeId: id, url: `http://${id}.test:8080`, heartbeatMs: HEARTBEAT_MS, keyPrefix, release: 'test', status: () => node.status, clock: systemClock, logger,
	});
	node.rooms = new FleetRooms({ redis, registry: node.registry, keyPrefix, heartbeatMs: HEARTBEAT_MS, hosted: () => node.hosted, draining: () => node.draining, logger, ...options });
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

/** Fake nodes with these statuses; `options`: their directories' placement and members. */
async function fleetOf(statuses: Record<string, Partial<NodeStatus>>, options: Partial<FleetRoomsDeps> = {}): Promise<FakeNode[]> {
	const keyPrefix = freshRedisPrefix();
	const nodes = await Promise.all(Object.entries(statuses).map(([id, status]) => fakeNode(keyPrefix, id, status, options)));
	await pollUntil('every node to list all', async () => nodes.every((n) => n.registry.nodes.length === nodes.length) || undefined, { timeoutMs: 3000, intervalMs: 20 });
	return nodes;
}

test('a new room goes to the ready node with the most headroom, never to a draining one; then it stays there until that node is full', async () => {
	const [a, b, c] = await fleetOf({ a: { headroom: 100 }, b: { headroom: 900 }, c: { headroom: 5000, state: 'draining' } });
	expect(await a!.rooms.place('r1')).toEqual({ here: false, nodeId: 'b', url: 'http://b.test:8080' });
	// Asked again, or through another node: its home, while it has headroom.
	b!.status.headroom = 10;
	await pollUntil('a to see b nearly full', async () => a!.registry.nodes.find((n) => n.id === 'b')?.headroom === 10 || undefined, { timeoutMs: 2000, intervalMs: 20 });
	expect(await a!.rooms.place('r1')).toMatchObject({ nodeId: 'b' });
	expect(await c!.rooms.place('r1')).toMatchObject({ nodeId: 'b' });
	// b full: the room's next peers join it on the next node (the room spans both), never on draining c.
	b!.status.headroom = 0;
	await pollUntil('a and c to see b full', async () => [a!, c!].every((n) => n.registry.nodes.find((r) => r.id === 'b')?.headroom === 0) || undefined, { timeoutMs: 2000, intervalMs: 20 });
	expect(await a!.rooms.place('r1')).toEqual({ here: true });
	expect(await c!.rooms.place('r1')).toMatchObject({ nodeId: 'a' });
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

test('a room whose node is gone is placed again; a draining node takes no new peer, not even of its own rooms', async () => {
	const [a, b] = await fleetOf({ a: { headroom: 10 }, b: { headroom: 20 } });
	expect(await a!.rooms.place('kept')).toMatchObject({ nodeId: 'b' });
	b!.hosted.push('kept');
	// b drains: its own running room's next peer joins it on a (b stays its home); a new room goes to a.
	b!.draining = true;
	b!.status.state = 'draining';
	expect(await b!.rooms.place('kept')).toMatchObject({ nodeId: 'a' });
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

test('home placement: the home until it hosts cluster.nodeMaxPeers of the room, then the room\'s other nodes, then the node asked, then the node with the most headroom', async () => {
	const members = new Map<string, number>();
	const [a, b, c] = await fleetOf({ a: { headroom: 100 }, b: { headroom: 900 }, c: { headroom: 500 } }, {
		placement: { placement: 'home', nodeMaxPeers: 2 }, members: async () => members,
	});
	expect(await a!.rooms.place('big')).toMatchObject({ nodeId: 'b' });
	members.set('b', 1);
	expect(await c!.rooms.place('big')).toMatchObject({ nodeId: 'b' });
	// b has two of the room's peers: the next stays on the node it connected to (a, no second hop), then the room's nodes come first.
	members.set('b', 2);
	expect(await a!.rooms.place('big')).toEqual({ here: true });
	members.set('a', 1);
	expect(await c!.rooms.place('big')).toMatchObject({ nodeId: 'a' });
	members.set('a', 2);
	expect(await c!.rooms.place('big')).toEqual({ here: true });
	members.set('c', 2);
	// Every node full: the one with the most headroom anyway.
	expect(await a!.rooms.place('big')).toMatchObject({ nodeId: 'b' });
});

test('nearest placement: a peer joins where it connected; a draining node sends it to the room\'s home', async () => {
	const [a, b] = await fleetOf({ a: { headroom: 100 }, b: { headroom: 900 } }, { placement: { placement: 'nearest', nodeMaxPeers: null } });
	expect(await a!.rooms.place('near')).toEqual({ here: true });
	expect(await b!.rooms.place('near')).toEqual({ here: true });
	expect(await a!.rooms.claimHome('near')).toBe(true);
	expect(await b!.rooms.claimHome('near')).toBe(false);
	b!.draining = true;
	expect(await b!.rooms.place('near')).toMatchObject({ nodeId: 'a' });
});

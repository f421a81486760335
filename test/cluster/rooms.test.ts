import { apiToken as backendToken } from '../helpers/apiToken';
import { metricValue } from '../helpers/metrics';
import { pollUntil } from '../helpers/poll';
import { opusParameters } from '../helpers/rtp';
import { SignalingClient, SignalingRequestError } from '../helpers/signalingClient';
import { showingOutput, startFleet, type Fleet, type FleetNode } from './fleet';

/**
 * Rooms across a fleet of three real node processes (docs/cluster.md, "Rooms
 * across the fleet"): a room lives on one node, a join that reaches another
 * is told where (`room_elsewhere`), a new room goes to a ready node and never
 * to a draining one, a draining node keeps its running rooms, and a room whose
 * node was killed comes back on a surviving node.
 */

const API_SECRET = 'the-fleet-api-secret-0123456789abcdefgh';
let fleet: Fleet | undefined;
const clients: SignalingClient[] = [];

beforeAll(async () => {
	fleet = await startFleet({ size: 3, env: { SWITCHYARD_AUTH_DEV: 'true', SWITCHYARD_AUTH_DEV_TOKENS_PER_MINUTE: '1000', SWITCHYARD_DRAIN_TIMEOUT_SECONDS: '8', SWITCHYARD_AUTH_API_KEYS: `backend:${API_SECRET}` } });
}, 100_000);
afterEach(() => clients.splice(0).forEach((client) => client.disconnect()));
afterAll(async () => {
	await fleet?.close();
});

function nodes(): [FleetNode, FleetNode, FleetNode] {
	return fleet!.nodes as [FleetNode, FleetNode, FleetNode];
}

async function devToken(node: FleetNode, room: string, name: string): Promise<string> {
	const res = await node.api('POST', '/api/dev/token', { body: { name, room } });
	expect(res.status).toBe(200);
	return res.body.token as string;
}

type Joined = { client: SignalingClient; token: string; node: string; url: string; peerId: string; peers: string[]; hops: string[] };

/** A client that joins `room` through `entry`, following `room_elsewhere` as the web client does. */
async function join(entry: FleetNode, room: string, name: string): Promise<Joined> {
	const token = await devToken(entry, room, name);
	let url = entry.url;
	const hops: string[] = [];
	for (let hop = 0; hop < 4; hop++) {
		const client = await SignalingClient.connect(url, { token });
		clients.push(client);
		const { routerRtpCapabilities } = await client.request('media.capabilities', {});
		try {
			const joined = await client.request('room.join', { roomId: room, rtpCapabilities: routerRtpCapabilities as never });
			const node = fleet!.nodes.find((n) => n.url === url)!.id;
			return { client, token, node, url, peerId: joined.peerId, peers: joined.peers.map((p) => p.displayName), hops };
		} catch (error) {
			if (!(error instanceof SignalingRequestError) || error.code !== 'room_elsewhere') {
				throw error;
			}
			client.disconnect();
			url = error.details!.url as string;
			hops.push(error.details!.node as string);
		}
	}
	throw new Error(`no node took ${room}`);
}

/** A fresh server API token of the fleet's key. */
const apiToken = () => backendToken('backend', API_SECRET, { seconds: 60 });

/** The server API's room list, asked of `node`. */
async function apiRooms(node: FleetNode): Promise<{ rooms: { roomId: string; nodes: string[]; participants: { name: string; node: string; identity: string }[] }[]; unreachable: string[] }> {
	const res = await node.api('GET', '/api/v1/rooms', { token: await apiToken() });
	expect(res.status).toBe(200);
	return res.body;
}

async function roomsOf(node: FleetNode): Promise<Record<string, number>> {
	const res = await node.api('GET', '/api/admin/cluster', { token: fleet!.adminToken });
	return Object.fromEntries((res.body.nodes as { id: string; rooms: number }[]).map((n) => [n.id, n.rooms]));
}

test('joins through three nodes end up in one room on one node; the others say where it is', showingOutput(() => fleet, async () => {
	const [one, two, three] = nodes();
	const a = await join(one, 'fleet-room', 'A');
	const b = await join(two, 'fleet-room', 'B');
	const c = await join(three, 'fleet-room', 'C');
	expect([a, b, c].map((j) => [j.node, j.hops])).toEqual([[a.node, a.hops], [a.node, b.hops], [a.node, c.hops]]);
	expect(c.peers.sort()).toEqual(['A', 'B']);
	// Entering elsewhere than the room's node costs one hop to it, no more.
	for (const joined of [a, b, c]) {
		expect(joined.hops.length).toBeLessThanOrEqual(1);
	}
	await a.client.waitFor('peer.joined', (e) => e.peer.displayName === 'C');
	// The admin API and the registry say where it is.
	await pollUntil('every node to list the room on its node', async () => {
		const listed = await Promise.all([one, two, three].map(roomsOf));
		return listed.every((rooms) => rooms[a.node] === 1 && Object.keys(rooms).length === 3) || undefined;
	}, { timeoutMs: 5000, intervalMs: 100 });
	// So do the metrics the overview dashboard's cluster panel plots.
	for (const node of [one, two, three]) {
		const text = (await node.api('GET', '/metrics')).body as string;
		expect([node.id, metricValue(text, `switchyard_cluster_node_rooms{node="${a.node}"}`)]).toEqual([node.id, 1]);
	}
	// Without a grant for the room, no node says where it is.
	const stranger = await SignalingClient.connect(two.url, { token: await devToken(two, 'another-room', 'S') });
	clients.push(stranger);
	const { routerRtpCapabilities } = await stranger.request('media.capabilities', {});
	expect(await stranger.requestRaw('room.join', { roomId: 'fleet-room', rtpCapabilities: routerRtpCapabilities })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
}));

test('kill -9 of the node hosting a room: its peers join again through another node, and the room comes back on a surviving node', showingOutput(() => fleet, async () => {
	const all = nodes();
	const first = await join(all[0], 'phoenix', 'A');
	const host = fleet!.nodes.find((n) => n.id === first.node)!;
	const others = all.filter((n) => n !== host);
	await host.kill('SIGKILL');
	// Two heartbeats for the registry to drop it; the join before that is sent to the dead node, and comes back.
	const again = await pollUntil('the room to come back on a surviving node', async () => {
		try {
			return await join(others[0]!, 'phoenix', 'A again');
		} catch {
			return undefined;
		}
	}, { timeoutMs: 10_000, intervalMs: 200 });
	expect(others.map((n) => n.id)).toContain(again.node);
	// The dead node's peer leaves the room once the fleet is sure the node is gone (a few heartbeats).
	if (again.peers.includes('A')) {
		await again.client.waitFor('peer.left', (e) => e.peerId === first.peerId, 10_000);
	}
	const b = await join(others[1]!, 'phoenix', 'B');
	expect(b.node).toBe(again.node);
	expect(b.peers).toEqual(['A again']);
	await fleet!.restart(all.indexOf(host));
}));

test('a draining node (SIGTERM) keeps its running room\'s peers; a new peer of that room joins it on another node, and a new room goes to another node', showingOutput(() => fleet, async () => {
	const all = nodes();
	const running = await join(all[0], 'running-call', 'A');
	const host = fleet!.nodes.find((n) => n.id === running.node)!;
	const stopping = host.stop();
	const others = all.filter((n) => n !== host);
	await pollUntil(`${host.id} to be listed draining`, async () => {
		const res = await others[0]!.api('GET', '/api/admin/cluster', { token: fleet!.adminToken });
		return (res.body.nodes as { id: string; state: string }[]).some((n) => n.id === host.id && n.state === 'draining') || undefined;
	}, { timeoutMs: 5000, intervalMs: 50 });
	// The room spans nodes: B joins it on another node and is told of A.
	const late = await join(others[0]!, 'running-call', 'B');
	expect(late.node).not.toBe(host.id);
	expect(late.peers).toEqual(['A']);
	const fresh = await join(host, 'new-room', 'C');
	expect(fresh.node).not.toBe(host.id);
	expect(fresh.hops).toEqual([fresh.node]);
	// The running room ends when its last peer leaves: then the node stops.
	await running.client.request('room.leave', {});
	await late.client.request('room.leave', {});
	expect(await stopping).toBe(0);
	await fleet!.restart(all.indexOf(host));
}));

test('a drain that runs out of time moves the room: its peers get session.reconnect roomMoved and join again on another node', showingOutput(() => fleet, async () => {
	const all = nodes();
	const a = await join(all[0], 'moving-room', 'A');
	const host = fleet!.nodes.find((n) => n.id === a.node)!;
	const stopping = host.stop();
	// SWITCHYARD_DRAIN_TIMEOUT_SECONDS is 8 here: A is still in the room when it runs out.
	expect(await a.client.waitFor('session.reconnect', () => true, 15_000)).toEqual({ reason: 'roomMoved' });
	// As the web client does: leave, and join again through the node it is connected to, which says where the room went.
	await a.client.request('room.leave', {});
	const { routerRtpCapabilities } = await a.client.request('media.capabilities', {});
	const moved = await a.client.requestRaw('room.join', { roomId: 'moving-room', rtpCapabilities: routerRtpCapabilities }) as { ok: boolean; error?: { code: string; details?: { node: string } } };
	expect(moved).toMatchObject({ ok: false, error: { code: 'room_elsewhere' } });
	expect(moved.error!.details!.node).not.toBe(host.id);
	const again = await join(host, 'moving-room', 'A again');
	expect(again.node).toBe(moved.error!.details!.node);
	expect(await stopping).toBe(0);
	await fleet!.restart(all.indexOf(host));
}));

test('issue 27: the server API lists the rooms of every node, with their participants, asked of any node', showingOutput(() => fleet, async () => {
	const [one, two, three] = nodes();
	const joined = [await join(one, 'listed-a', 'Ann'), await join(two, 'listed-b', 'Ben'), await join(three, 'listed-c', 'Cy')];
	const expected = joined.map((j, i) => ({ roomId: `listed-${'abc'[i]}`, nodes: [j.node], participants: [{ name: j.peerId && ['Ann', 'Ben', 'Cy'][i], node: j.node }] }));
	for (const node of [one, two, three]) {
		const listed = await apiRooms(node);
		expect(listed.unreachable).toEqual([]);
		const ours = listed.rooms.filter((r) => r.roomId.startsWith('listed-'))
			.map((r) => ({ roomId: r.roomId, nodes: r.nodes, participants: r.participants.map((p) => ({ name: p.name, node: p.node })) }));
		expect(ours).toEqual(expected);
	}
	// Some node was asked that does not host some of these rooms: the list is the fleet's, not the asked node's.
	expect([one, two, three].some((node) => joined.some((j) => j.node !== node.id))).toBe(true);
}));

test('issue 27: a room created through one node holds its settings on every node (Redis): a plain join is refused anywhere', showingOutput(() => fleet, async () => {
	const [one, two, three] = nodes();
	const created = await one.api('POST', '/api/v1/rooms', { token: await apiToken(), body: { roomId: 'made-fleet', e2ee: true, metadata: 'board' } });
	expect(created).toMatchObject({ status: 201, body: { roomId: 'made-fleet', settings: { e2ee: true, metadata: 'board' } } });
	for (const node of [two, three]) {
		const client = await SignalingClient.connect(node.url, { token: await devToken(node, 'made-fleet', 'Pat') });
		clients.push(client);
		const { routerRtpCapabilities } = await client.request('media.capabilities', {});
		expect(await client.requestRaw('room.join', { roomId: 'made-fleet', rtpCapabilities: routerRtpCapabilities as never }))
			.toMatchObject({ ok: false, error: { code: 'e2ee_mismatch' } });
	}
}));

test('issue 27: a participant removed through one node is put out on the node of its room, and its token joins on no node', showingOutput(() => fleet, async () => {
	const [one, two, three] = nodes();
	const eve = await join(one, 'removal-fleet', 'Eve');
	const identity = (await fleet!.nodes.find((n) => n.id === eve.node)!.api('GET', '/api/v1/rooms', { token: await apiToken() })).body.rooms
		.find((r: { roomId: string }) => r.roomId === 'removal-fleet').participants[0].identity as string;
	const asker = [one, two, three].find((n) => n.id !== eve.node)!;
	expect((await asker.api('DELETE', `/api/v1/rooms/removal-fleet/participants/${encodeURIComponent(identity)}`, { token: await apiToken() })).status).toBe(204);
	expect(await eve.client.waitFor('room.removed')).toEqual({ reason: 'removed' });
	for (const node of [one, two, three]) {
		const again = await SignalingClient.connect(node.url, { token: eve.token });
		clients.push(again);
		const { routerRtpCapabilities } = await again.request('media.capabilities', {});
		expect(await again.requestRaw('room.join', { roomId: 'removal-fleet', rtpCapabilities: routerRtpCapabilities as never }))
			.toEqual({ ok: false, error: { code: 'forbidden', message: 'the token does not grant this room' } });
	}
}));

test('issue 27: a participant muted, updated and messaged through another node hears it on the node of its room; a node without it finds nothing', showingOutput(() => fleet, async () => {
	const [one, two, three] = nodes();
	const eve = await join(one, 'controls-fleet', 'Eve');
	const ann = await join(one, 'controls-fleet', 'Ann');
	ann.client.onConsumerNew(() => undefined);
	await ann.client.request('transport.create', { direction: 'recv' });
	const send = await eve.client.request('transport.create', { direction: 'send' });
	const mic = await eve.client.request('producer.create', { transportId: send.id, kind: 'audio', rtpParameters: opusParameters(4242) as never, source: 'mic' });
	const { consumerId } = await ann.client.waitFor('consumer.new', (data) => data.producerId === mic.id);
	const identity = (await apiRooms(one)).rooms.find((r) => r.roomId === 'controls-fleet')!.participants.find((p) => p.name === 'Eve')!.identity;
	const asker = [one, two, three].find((n) => n.id !== eve.node)!;
	const call = async (method: string, path: string, body: unknown) =>
		asker.api(method, `/api/v1/rooms/controls-fleet${path}`, { token: await apiToken(), body });

	expect(await call('POST', `/participants/${encodeURIComponent(identity)}/mute`, { kind: 'audio', muted: true })).toMatchObject({ status: 200, body: { participants: 1, tracks: 1 } });
	expect(await eve.client.waitFor('producer.muted')).toEqual({ producerId: mic.id, source: 'mic', muted: true, by: 'service' });
	await ann.client.waitFor('consumer.paused', (data) => data.consumerId === consumerId);
	await expect(eve.client.request('producer.resume', { producerId: mic.id })).rejects.toMatchObject({ code: 'muted_by_service' });
	expect(await call('POST', `/participants/${encodeURIComponent(identity)}/mute`, { kind: 'audio', muted: false })).toMatchObject({ status: 200 });
	await eve.client.waitFor('producer.muted', (data) => !data.muted);
	await eve.client.request('producer.resume', { producerId: mic.id });
	await ann.client.waitFor('consumer.resumed', (data) => data.consumerId === consumerId);

	expect(await call('PATCH', `/participants/${encodeURIComponent(identity)}`, { metadata: 'host' })).toMatchObject({ status: 200, body: { participants: 1 } });
	for (const client of [eve.client, ann.client]) {
		expect(await client.waitFor('peer.updated')).toEqual({ peerId: eve.peerId, metadata: 'host' });
	}
	expect(await call('POST', '/data', { data: 'hello', identities: [identity] })).toMatchObject({ status: 200, body: { delivered: 1 } });
	expect(await eve.client.waitFor('room.data')).toEqual({ from: 'service', data: 'hello' });
	expect(ann.client.events.filter((e) => e.name === 'room.data')).toEqual([]);
	expect(await call('POST', '/participants/nobody/mute', { kind: 'audio', muted: true })).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
}));

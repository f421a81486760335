import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { MediaClient } from '../helpers/mediaClient';
import { pollUntil } from '../helpers/poll';
import { SignalingClient } from '../helpers/signalingClient';
import { WebhookReceiver } from '../helpers/webhookReceiver';
import { fleetAccount, fleetDevice } from './accounts';
import { showingOutput, startFleet, type Fleet, type FleetNode } from './fleet';

/**
 * One room across nodes, with signaling clients and synthetic media (the
 * test helpers' wrtc media client): peers on different nodes of a fleet
 * (cluster.placement nearest) see each other, decode each other's audio and
 * video through the pipes between the nodes, and hear who speaks; a peer
 * that leaves is gone everywhere, and its node's pipes with it.
 */

let fleet: Fleet | undefined;
const clients: SignalingClient[] = [];
const media: MediaClient[] = [];
/** Every node's webhooks (issue 27). */
const receiver = new WebhookReceiver();

beforeAll(async () => {
	await receiver.start();
	fleet = await startFleet({ size: 3, env: {
		SWITCHYARD_WEBHOOKS_URLS: receiver.url, SWITCHYARD_WEBHOOKS_SECRET: 'the-fleet-webhook-secret-0123456789abcdef', SWITCHYARD_WEBHOOKS_RETRY_MAX_SECONDS: '1',
		SWITCHYARD_AUTH_DEV: 'true', SWITCHYARD_AUTH_DEV_TOKENS_PER_MINUTE: '1000', SWITCHYARD_CLUSTER_PLACEMENT: 'nearest', SWITCHYARD_ROOMS_EMPTY_CLOSE_GRACE_MS: '500', SWITCHYARD_ROOMS_RECONNECT_GRACE_MS: '1000',
		// NOTE: a downlink estimate that starts high, so that the top layer does not wait for it to climb on a loaded machine.
		SWITCHYARD_MEDIA_INITIAL_AVAILABLE_OUTGOING_BITRATE: '5000000',
		// NOTE: the last test's encrypted room (issue 24) fills at two across nodes.
		SWITCHYARD_ROOMS_E2EE_MAX_PEERS: '2',
	} });
}, 120_000);
afterEach(async () => {
	for (const client of media.splice(0)) {
		await client.close();
	}
	clients.splice(0).forEach((client) => client.disconnect());
});
afterAll(async () => {
	await fleet?.close();
	await receiver.stop();
});

/** A media client joined to `room` through `node`, publishing small synthetic audio and video. */
async function joinAt(node: FleetNode, room: string, name: string): Promise<{ client: MediaClient; peerId: string; signaling: SignalingClient }> {
	const token = (await node.api('POST', '/api/dev/token', { body: { name, room } })).body.token as string;
	const signaling = await SignalingClient.connect(node.url, { token });
	clients.push(signaling);
	const client = await MediaClient.create(signaling);
	media.push(client);
	const joined = await client.join(room, name);
	await client.produceSynthetic({ audio: true, video: { width: 160, height: 120 } });
	return { client, peerId: joined.peerId, signaling };
}

async function decodes(client: MediaClient, producerPeers: string[]): Promise<void> {
	await pollUntil(`media from ${producerPeers.join(', ')}`, async () => {
		const stats = await client.inboundStats();
		return producerPeers.every((peerId) => ['audio', 'video'].every((kind) => stats.some((s) => s.kind === kind && s.packetsReceived > 20
			&& [...client.consumers.values()].some((c) => c.id === s.consumerId && (c.appData as { peerId?: string }).peerId === peerId)))) || undefined;
	}, { timeoutMs: 20_000, intervalMs: 250 });
}

/** A gauge's value in a node's /metrics (summed over its series). */
async function gauge(node: FleetNode, name: string): Promise<number> {
	const text = (await node.api('GET', '/metrics')).body as string;
	return text.split('\n').filter((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`))
		.reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

/** The run (`NODE@STARTED`) the room's directory entry names: its home. */
async function homeOf(room: string): Promise<string | null> {
	const redis = new Redis(fleet!.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
	try {
		await redis.connect();
		return await redis.get(`${fleet!.keyPrefix}room:${room}`);
	} finally {
		redis.disconnect();
	}
}

test('two peers on two nodes of one room decode each other, through pipes between the nodes', showingOutput(() => fleet, async () => {
	const [one, two] = fleet!.nodes as [FleetNode, FleetNode];
	const a = await joinAt(one, 'span-two', 'Ana');
	const b = await joinAt(two, 'span-two', 'Ben');
	await decodes(a.client, [b.peerId]);
	await decodes(b.client, [a.peerId]);
}));

test('issue 28: chat and raised hands cross nodes: a message and a hand from node-1 reach the peer on node-2, and back; a late joiner on node-3 sees the hand', showingOutput(() => fleet, async () => {
	const [one, two] = fleet!.nodes as [FleetNode, FleetNode];
	const ana = await joinAt(one, 'span-chat', 'Ana');
	const ben = await joinAt(two, 'span-chat', 'Ben');
	const toBen = ben.signaling.waitFor('chat.message');
	const sent = await ana.signaling.request('chat.send', { text: 'hello from node-1' });
	expect(await toBen).toEqual({ id: sent.id, from: ana.peerId, name: 'Ana', text: 'hello from node-1', at: sent.at });
	const toAna = ana.signaling.waitFor('chat.message');
	await ben.signaling.request('chat.send', { text: 'and back' });
	expect(await toAna).toMatchObject({ from: ben.peerId, text: 'and back' });
	const hand = ben.signaling.waitFor('peer.hand');
	await ana.signaling.request('hand.set', { raised: true });
	expect(await hand).toEqual({ peerId: ana.peerId, raised: true });

	// One who joins later on a node that hosted nobody of the room sees the hand too: node-1's part says it.
	const three = fleet!.nodes[2]!;
	const token = (await three.api('POST', '/api/dev/token', { body: { name: 'Cy', room: 'span-chat' } })).body.token as string;
	const cy = await SignalingClient.connect(three.url, { token });
	clients.push(cy);
	const { routerRtpCapabilities } = await cy.request('media.capabilities', {});
	await pollUntil('a late joiner on node-3 to see Ana\'s hand', async () => {
		const { peers } = await cy.request('room.join', { roomId: 'span-chat', rtpCapabilities: routerRtpCapabilities as never });
		await cy.request('room.leave', {});
		return peers.some((p) => p.id === ana.peerId && p.handRaised === true) || undefined;
	}, { timeoutMs: 10_000, intervalMs: 250 });
}));

test('issue 27: a room on two nodes sends its webhooks from both: one room_started, one room_finished, one seq across them', showingOutput(() => fleet, async () => {
	const [one, two] = fleet!.nodes;
	const ann = await joinAt(one!, 'hooks-span', 'Ann');
	const ben = await joinAt(two!, 'hooks-span', 'Ben');
	await decodes(ann.client, [ben.peerId]);
	for (const { client, signaling } of [ann, ben]) {
		await client.close();
		await signaling.request('room.leave', {});
	}
	const ofRoom = () => receiver.unique().filter((e) => e.room.id === 'hooks-span').sort((a, b) => a.seq - b.seq);
	await pollUntil('room_finished', () => ofRoom().some((e) => e.event === 'room_finished'), { timeoutMs: 20_000 });
	const events = ofRoom();
	const count = (name: string) => events.filter((e) => e.event === name).length;
	expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
	expect([events[0]!.event, events.at(-1)!.event]).toEqual(['room_started', 'room_finished']);
	expect([count('room_started'), count('room_finished'), count('participant_joined'), count('participant_left'), count('track_published')]).toEqual([1, 1, 2, 2, 4]);
	// Each node sent its own participant's events.
	expect(events.filter((e) => e.event === 'participant_joined').map((e) => (e.participant as { peerId: string }).peerId).sort()).toEqual([ann.peerId, ben.peerId].sort());
}));

test('three peers on three nodes: each is told of the others, decodes them and hears one speaker; a paused producer pauses everywhere; leaving closes every pipe', showingOutput(() => fleet, async () => {
	const [one, two, three] = fleet!.nodes as [FleetNode, FleetNode, FleetNode];
	const a = await joinAt(one, 'span-three', 'Ana');
	const b = await joinAt(two, 'span-three', 'Ben');
	const token = (await three.api('POST', '/api/dev/token', { body: { name: 'Cy', room: 'span-three' } })).body.token as string;
	const signaling = await SignalingClient.connect(three.url, { token });
	clients.push(signaling);
	const client = await MediaClient.create(signaling);
	media.push(client);
	const joined = await client.join('span-three', 'Cy');
	// The join's answer lists the peers on the other nodes.
	expect(joined.peers.map((p) => p.displayName).sort()).toEqual(['Ana', 'Ben']);
	await client.produceSynthetic({ audio: true, video: { width: 160, height: 120 } });
	const c = { client, peerId: joined.peerId, signaling };
	await a.signaling.waitFor('peer.joined', (e) => e.peer.id === c.peerId, 10_000);
	for (const [me, others] of [[a, [b, c]], [b, [a, c]], [c, [a, b]]] as const) {
		await decodes(me.client, others.map((o) => o.peerId));
	}
	// Each node hosts one of them (the earlier test's peers gone within their 1 s reconnect grace).
	for (const node of [one, two, three]) {
		await pollUntil(`${node.id} to host one peer`, async () => (await gauge(node, 'switchyard_peers')) === 1 || undefined, { timeoutMs: 5000, intervalMs: 100 });
	}
	// One speaker for the room, whichever node its home is: every peer hears of it.
	const speakerSeen = (who: typeof a) => pollUntil(`a speaker on ${who.signaling === a.signaling ? 'node-1' : 'node-3'}`, () =>
		who.signaling.events.find((e) => e.name === 'room.activeSpeaker' && (e.data as { peerId: string | null }).peerId !== null)?.data as { peerId: string } | undefined, { timeoutMs: 15_000 });
	const speaker = await speakerSeen(a);
	await speakerSeen(c);
	expect([a.peerId, b.peerId, c.peerId]).toContain(speaker.peerId);

	// Ana pauses her camera on node 1: Cy's consumer of it on node 3 is paused, then resumed.
	const camera = [...a.client.producers.values()].find((p) => p.kind === 'video')!;
	const cyConsumer = [...c.client.consumers.values()].find((x) => x.producerId === camera.id)!;
	await a.signaling.request('producer.pause', { producerId: camera.id });
	await c.signaling.waitFor('consumer.paused', (e) => e.consumerId === cyConsumer.id, 10_000);
	await a.signaling.request('producer.resume', { producerId: camera.id });
	await c.signaling.waitFor('consumer.resumed', (e) => e.consumerId === cyConsumer.id, 10_000);

	// Ben leaves: the others are told, and no node keeps a transport once everyone has left.
	await b.signaling.request('room.leave', {});
	await a.signaling.waitFor('peer.left', (e) => e.peerId === b.peerId, 10_000);
	await c.signaling.waitFor('peer.left', (e) => e.peerId === b.peerId, 10_000);
	await a.signaling.request('room.leave', {});
	await c.signaling.request('room.leave', {});
	for (const node of [one, two, three]) {
		await pollUntil(`${node.id} to have no transport, producer or consumer left`, async () => {
			const left = await Promise.all(['switchyard_transports', 'switchyard_producers', 'switchyard_consumers'].map((name) => gauge(node, name)));
			return left.every((n) => n === 0) || undefined;
		}, { timeoutMs: 15_000, intervalMs: 250 });
	}
}), 90_000);

test('kill -9 of the node with the room\'s first peer and home: the others are told it left, keep decoding each other, and one of their nodes becomes the home', showingOutput(() => fleet, async () => {
	const [one, two, three] = fleet!.nodes as [FleetNode, FleetNode, FleetNode];
	const a = await joinAt(one, 'span-kill', 'Ana');
	const b = await joinAt(two, 'span-kill', 'Ben');
	const c = await joinAt(three, 'span-kill', 'Cy');
	await decodes(b.client, [a.peerId, c.peerId]);
	await decodes(c.client, [a.peerId, b.peerId]);
	expect(await homeOf('span-kill')).toMatch(/^node-1@/);

	await one.kill('SIGKILL');
	await b.signaling.waitFor('peer.left', (e) => e.peerId === a.peerId, 10_000);
	await c.signaling.waitFor('peer.left', (e) => e.peerId === a.peerId, 10_000);
	const before = await b.client.inboundStats();
	await pollUntil('Ben and Cy still decode each other', async () => {
		const now = await b.client.inboundStats();
		return now.some((s) => s.kind === 'video' && s.packetsReceived > (before.find((x) => x.consumerId === s.consumerId)?.packetsReceived ?? 0) + 50) || undefined;
	}, { timeoutMs: 10_000, intervalMs: 250 });
	await pollUntil('the room to have a live home', async () => /^node-[23]@/.test(await homeOf('span-kill') ?? '') || undefined, { timeoutMs: 10_000, intervalMs: 250 });
	await fleet!.restart(0);
}), 90_000);

test('the layer policy across nodes: a viewer\'s node picks its layer from the full pipe stream, and the publisher\'s node sends only the encodings the other nodes need (dynacast)', showingOutput(() => fleet, async () => {
	const [one, two] = fleet!.nodes as [FleetNode, FleetNode];
	const token = (await one.api('POST', '/api/dev/token', { body: { name: 'Pia', room: 'span-layers' } })).body.token as string;
	const publisherSignaling = await SignalingClient.connect(one.url, { token });
	clients.push(publisherSignaling);
	const publisher = await MediaClient.create(publisherSignaling);
	media.push(publisher);
	await publisher.join('span-layers', 'Pia');
	const { video } = await publisher.produceSynthetic({ video: { width: 640, height: 360, simulcast: true } });
	const viewer = await joinAt(two, 'span-layers', 'Vic');
	const consumer = await pollUntil('the viewer consumes the simulcast video', () => [...viewer.client.consumers.values()].find((c) => c.producerId === video!.id));
	const encodings = () => publisherSignaling.events.filter((e) => e.name === 'producer.encodings').map((e) => JSON.stringify((e.data as { active: boolean[] }).active)).at(-1);
	const width = async () => (await viewer.client.inboundStats()).find((s) => s.consumerId === consumer.id)?.frameWidth;

	await viewer.signaling.request('consumer.setViewport', { consumerId: consumer.id, width: 160, height: 90, visible: true });
	await pollUntil('the publisher told to send only the low encoding', () => encodings() === JSON.stringify([true, false, false]), { timeoutMs: 10_000 });
	await pollUntil('the viewer decodes the low layer', async () => (await width()) === 160 || undefined, { timeoutMs: 15_000, intervalMs: 250 });

	await viewer.signaling.request('consumer.setViewport', { consumerId: consumer.id, width: 1280, height: 720, visible: true });
	await pollUntil('the publisher told to send every encoding', () => encodings() === JSON.stringify([true, true, true]), { timeoutMs: 10_000 });
	// NOTE: wrtc's encoder here holds its top layer back (the same with both peers on one node), so the
	// check is for a layer above the small tile's; the browser test (spanBrowser.test.ts) sees the top one.
	await pollUntil('the viewer decodes a larger layer', async () => ((await width()) ?? 0) > 160 || undefined, { timeoutMs: 30_000, intervalMs: 250 });
}), 90_000);

/** Whether `client` receives fresh video from `peerId` now: packets that arrive within a second. */
async function receivingFrom(client: MediaClient, peerId: string): Promise<boolean> {
	const packets = async () => (await client.inboundStats()).filter((s) => s.kind === 'video'
		&& [...client.consumers.values()].some((c) => c.id === s.consumerId && !c.closed && (c.appData as { peerId?: string }).peerId === peerId))
		.reduce((sum, s) => sum + s.packetsReceived, 0);
	const before = await packets();
	await new Promise((resolve) => setTimeout(resolve, 1000));
	return (await packets()) > before + 5;
}

test.each([
	// Long enough for the others to drop its part of the room, not for them to close their pipes to it.
	['2 s', 2000],
	// Long enough for them to close their pipes to it too: it finds out at its next pipe check.
	['4.5 s', 4500],
])('a node that stops for %s (SIGSTOP: longer than two heartbeats) and comes back: media flows again both ways, through new pipes where the others had given it up', (_, stallMs) => showingOutput(() => fleet, async () => {
	const [one, two] = fleet!.nodes as [FleetNode, FleetNode];
	const room = `span-stall-${stallMs}`;
	const a = await joinAt(one, room, 'Ana');
	const b = await joinAt(two, room, 'Ben');
	await decodes(a.client, [b.peerId]);
	await decodes(b.client, [a.peerId]);
	// node-1's process stops (its mediasoup worker goes on): the fleet reports it gone and drops its part.
	process.kill(one.process.pid!, 'SIGSTOP');
	try {
		await b.signaling.waitFor('peer.left', (e) => e.peerId === a.peerId, 10_000);
		await new Promise((resolve) => setTimeout(resolve, Math.max(0, stallMs - 1500)));
	} finally {
		process.kill(one.process.pid!, 'SIGCONT');
	}
	await b.signaling.waitFor('peer.joined', (e) => e.peer.id === a.peerId, 10_000);
	await pollUntil('Ana receives Ben again', async () => await receivingFrom(a.client, b.peerId) || undefined, { timeoutMs: 20_000, intervalMs: 100 });
	await pollUntil('Ben receives Ana again', async () => await receivingFrom(b.client, a.peerId) || undefined, { timeoutMs: 20_000, intervalMs: 100 });
})(), 90_000);

test('issue 24: an encrypted room keeps its rule and its cap across nodes: a node that hosts one of its peers and hears of another refuses a plain peer, and one past rooms.e2eeMaxPeers', showingOutput(() => fleet, async () => {
	const [one, two] = fleet!.nodes as [FleetNode, FleetNode];
	const join = async (node: FleetNode, name: string, e2ee: boolean) => {
		const token = (await node.api('POST', '/api/dev/token', { body: { name, room: 'span-sealed' } })).body.token as string;
		const signaling = await SignalingClient.connect(node.url, { token });
		clients.push(signaling);
		const { routerRtpCapabilities } = await signaling.request('media.capabilities', {});
		return { signaling, joined: await signaling.request('room.join', { roomId: 'span-sealed', rtpCapabilities: routerRtpCapabilities as never, e2ee }) };
	};
	const codeOf = (promise: Promise<unknown>) => promise.then(() => 'joined', (error: { code?: string }) => error.code);
	await join(one, 'Ana', true);
	const ben = await join(two, 'Ben', true);
	// node-2 hears of Ana's part over the bus, in the join's peers or right after it.
	await pollUntil('Ben to be told of Ana', () => ben.joined.peers.some((p) => p.displayName === 'Ana' && p.e2ee)
		|| ben.signaling.events.some((e) => e.name === 'peer.joined' && (e.data as { peer: { displayName: string; e2ee: boolean } }).peer.e2ee), { timeoutMs: 10_000 });
	expect(await codeOf(join(two, 'Cy', false))).toBe('e2ee_mismatch');
	// The cap counts the room on every node: Ana on node-1 and Ben here make 2 (SWITCHYARD_ROOMS_E2EE_MAX_PEERS).
	expect(await codeOf(join(two, 'Dee', true))).toBe('room_full');
}));

test('issue 25: a call\'s sender keys cross nodes: parties on node-1 and node-2 of one call room get each other\'s wrapped keys as sent', showingOutput(() => fleet, async () => {
	const [one, two] = fleet!.nodes as [FleetNode, FleetNode];
	const caller = await fleetAccount(one, 'span_caller');
	const callee = await fleetAccount(two, 'span_callee', [caller]);
	const callerDevice = await fleetDevice(one, caller, clients);
	const calleeDevice = await fleetDevice(two, callee, clients);
	const { callId } = await callerDevice.request('call.invite', { to: [callee.handle], media: 'audio', deviceId: callerDevice.deviceId });
	await calleeDevice.waitFor('call.incoming');
	const accepted = await calleeDevice.request('call.accept', { callId, deviceId: calleeDevice.deviceId });
	const { token: callerToken } = await callerDevice.waitFor('call.accepted');
	const enter = async (node: FleetNode, token: string) => {
		const signaling = await SignalingClient.connect(node.url, { token });
		clients.push(signaling);
		const { routerRtpCapabilities } = await signaling.request('media.capabilities', {});
		const joined = await signaling.request('room.join', { roomId: accepted.roomId, rtpCapabilities: routerRtpCapabilities as never, e2ee: true });
		return { signaling, joined };
	};
	const a = await enter(one, callerToken);
	const b = await enter(two, accepted.token);
	// Each node knows the other's peer, with its device, over the bus.
	const knows = (side: typeof a, deviceId: string) => side.joined.peers.some((p) => p.identity?.deviceId === deviceId)
		|| side.signaling.events.some((e) => e.name === 'peer.joined' && e.data.peer.identity?.deviceId === deviceId);
	await pollUntil('each party to know the other\'s device', () => knows(a, calleeDevice.deviceId) && knows(b, callerDevice.deviceId), { timeoutMs: 10_000 });

	const toB = randomBytes(115).toString('base64url');
	const toA = randomBytes(115).toString('base64url');
	expect(await a.signaling.request('e2ee.keys', { keys: [{ to: b.joined.peerId, wrapped: toB }] })).toEqual({ delivered: 1 });
	expect(await b.signaling.request('e2ee.keys', { keys: [{ to: a.joined.peerId, wrapped: toA }] })).toEqual({ delivered: 1 });
	expect(await b.signaling.waitFor('e2ee.key')).toEqual({ from: a.joined.peerId, wrapped: toB });
	expect(await a.signaling.waitFor('e2ee.key')).toEqual({ from: b.joined.peerId, wrapped: toA });
	await callerDevice.request('call.hangup', { callId });
}));

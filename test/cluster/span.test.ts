import { MediaClient } from '../helpers/mediaClient';
import { pollUntil } from '../helpers/poll';
import { SignalingClient } from '../helpers/signalingClient';
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

beforeAll(async () => {
	fleet = await startFleet({ size: 3, env: { SWITCHYARD_AUTH_DEV: 'true', SWITCHYARD_CLUSTER_PLACEMENT: 'nearest', SWITCHYARD_ROOMS_EMPTY_CLOSE_GRACE_MS: '500' } });
}, 120_000);
afterEach(async () => {
	for (const client of media.splice(0)) {
		await client.close();
	}
	clients.splice(0).forEach((client) => client.disconnect());
});
afterAll(async () => {
	await fleet?.close();
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

test('two peers on two nodes of one room decode each other, through pipes between the nodes', showingOutput(() => fleet, async () => {
	const [one, two] = fleet!.nodes as [FleetNode, FleetNode];
	const a = await joinAt(one, 'span-two', 'Ana');
	const b = await joinAt(two, 'span-two', 'Ben');
	await decodes(a.client, [b.peerId]);
	await decodes(b.client, [a.peerId]);
}));

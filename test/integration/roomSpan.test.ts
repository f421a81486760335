import { MediaClient } from '../helpers/mediaClient';
import { poolObjects } from '../helpers/dump';
import { startTestNode, type TestNode } from '../helpers/node';
import { pollUntil } from '../helpers/poll';
import { SignalingClient } from '../helpers/signalingClient';

type Party = { signaling: SignalingClient; media: MediaClient };

async function party(node: TestNode, name: string, parties: Party[]): Promise<Party> {
	const signaling = await SignalingClient.connect(node.url, { token: await node.tokens.issue({ sub: name, name, rooms: ['*'] }) });
	const media = await MediaClient.create(signaling);
	parties.push({ signaling, media });
	return { signaling, media };
}

async function closeAll(parties: Party[]): Promise<void> {
	for (const { signaling, media } of parties.splice(0)) {
		await media.close();
		signaling.disconnect();
	}
}

describe('a room spanning two workers', () => {
	let node: TestNode;
	const parties: Party[] = [];

	beforeAll(async () => {
		// A limit of 0 consumers per router forces every peer onto its own worker.
		node = await startTestNode({ media: { workers: 2 }, rooms: { routerConsumerLimit: 0, emptyCloseGraceMs: 100 } });
	});
	afterAll(async () => {
		await closeAll(parties);
		await node.close();
	});

	test('RTP from a producer on one router reaches a consumer on the other; nothing is left after everyone leaves', async () => {
		const alice = await party(node, 'alice', parties);
		const bob = await party(node, 'bob', parties);
		const a = await alice.media.join('span');
		const b = await bob.media.join('span');
		const room = node.registry.get('span')!;
		const aliceRouter = room.routerOf(room.peers.get(a.peerId)!)!;
		const bobRouter = room.routerOf(room.peers.get(b.peerId)!)!;
		expect(aliceRouter.worker.index).not.toBe(bobRouter.worker.index);

		await alice.media.produceSynthetic({ audio: true, video: { width: 320, height: 180 } });
		const bobPeer = room.peers.get(b.peerId)!;
		await pollUntil('bob receives video on his own router', async () => {
			const video = [...bobPeer.consumers.values()].find((c) => c.kind === 'video');
			const [stats] = video ? await video.getStats() : [];
			return (stats?.packetCount ?? 0) > 0;
		}, { timeoutMs: 15000, intervalMs: 200 });
		await pollUntil('bob decodes video', async () =>
			(await bob.media.inboundStats()).some((s) => s.kind === 'video' && (s.framesDecoded ?? 0) > 0), { timeoutMs: 15000, intervalMs: 200 });
		// Alice's producers are piped into bob's router (and audio into the speaker router, alice's own).
		expect(bobRouter.pipedProducers).toBe(2);

		// A pipe nobody needs any more closes.
		const video = [...alice.media.producers.values()].find((p) => p.kind === 'video')!;
		video.close();
		await alice.signaling.request('producer.close', { producerId: video.id });
		await pollUntil('the video pipe closed', () => bobRouter.pipedProducers === 1);

		await bob.signaling.request('room.leave', {});
		await alice.signaling.request('room.leave', {});
		await pollUntil('room closed', () => node.registry.get('span') === undefined);
		expect(await poolObjects(node.pool)).toEqual({ routers: 0, webRtcTransports: 0, consumers: 0, producers: 0, transports: 0 });
	});
});

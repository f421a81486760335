import { MediaClient } from '../helpers/mediaClient';
import { startTestNode, type TestNode } from '../helpers/node';
import { pollUntil } from '../helpers/poll';
import { SignalingClient } from '../helpers/signalingClient';

// Real media through the node: mediasoup-client on @roamhq/wrtc publishes
// synthetic audio and video; the other side decodes it.
describe('media flows through a room', () => {
	let node: TestNode;
	const parties: { signaling: SignalingClient; media: MediaClient }[] = [];

	beforeAll(async () => {
		node = await startTestNode({ media: { workers: 1 }, rooms: { scoreIntervalMs: 500 } });
	});
	afterAll(async () => {
		for (const { signaling, media } of parties.splice(0)) {
			await media.close();
			signaling.disconnect();
		}
		await node.close();
	});

	async function party(name: string) {
		const signaling = await SignalingClient.connect(node.url, { token: await node.tokens.issue({ sub: name, name, rooms: ['*'] }) });
		const media = await MediaClient.create(signaling);
		parties.push({ signaling, media });
		return { signaling, media };
	}

	test('two peers decode each other; active speaker and scores are reported', async () => {
		const alice = await party('alice');
		const bob = await party('bob');
		await alice.media.join('flow');
		await bob.media.join('flow');
		await alice.media.produceSynthetic({ audio: true, video: { width: 320, height: 180 } });
		await bob.media.produceSynthetic({ audio: true, video: { width: 320, height: 180 } });

		for (const { media } of [alice, bob]) {
			const stats = await pollUntil('audio and video decoded', async () => {
				const inbound = await media.inboundStats();
				const audio = inbound.find((s) => s.kind === 'audio');
				const video = inbound.find((s) => s.kind === 'video');
				return audio && audio.bytesReceived > 0 && video && (video.framesDecoded ?? 0) > 0 && inbound;
			}, { timeoutMs: 15000, intervalMs: 200 });
			expect(stats.find((s) => s.kind === 'video')?.frameWidth).toBe(320);
		}
		await pollUntil('room.activeSpeaker', () => alice.signaling.events.some((e) => e.name === 'room.activeSpeaker'), { timeoutMs: 10000 });
		await pollUntil('consumer.score and producer.score', () =>
			alice.signaling.events.some((e) => e.name === 'consumer.score') && alice.signaling.events.some((e) => e.name === 'producer.score'), { timeoutMs: 10000 });

		// Server side: the consumers forward packets.
		const room = node.registry.get('flow')!;
		for (const peer of room.peers.values()) {
			for (const consumer of peer.consumers.values()) {
				const [stats] = await consumer.getStats();
				expect(stats?.packetCount).toBeGreaterThan(0);
			}
		}
	});

	test('when the active speaker leaves, the others hear that nobody speaks', async () => {
		const speaker = await party('speaker');
		const listener = await party('listener');
		const joined = await speaker.media.join('speaking');
		await listener.media.join('speaking');
		await speaker.media.produceSynthetic({ audio: true });
		await pollUntil('the speaker is the active speaker', () => listener.signaling.events.some((e) =>
			e.name === 'room.activeSpeaker' && (e.data as { peerId: string | null }).peerId === joined.peerId), { timeoutMs: 10000 });
		await speaker.signaling.request('room.leave', {});
		await pollUntil('nobody speaks', () => listener.signaling.events.some((e) =>
			e.name === 'room.activeSpeaker' && (e.data as { peerId: string | null }).peerId === null));
	});
});

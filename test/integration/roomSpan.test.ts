import { MediaClient } from '../helpers/mediaClient';
import { poolObjects } from '../helpers/dump';
import { startTestNode, type TestNode } from '../helpers/node';
import { pollUntil } from '../helpers/poll';
import { vp8Parameters } from '../helpers/rtp';
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
		const aliceRouter = room.peers.get(a.peerId)!.router!;
		const bobRouter = room.peers.get(b.peerId)!.router!;
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

	// NOTE: deterministic: the pipe producer's creation on bob's router waits
	// until alice's producer is paused on its own worker, so the pause lands
	// after the pipe read the producer's paused state and before the pipe
	// producer exists (the pipe consumer's producerpause comes first).
	test('a producer paused while it is being piped to another router is paused there too', async () => {
		const clients: SignalingClient[] = [];
		const connect = async (name: string) => {
			const client = await SignalingClient.connect(node.url, { token: await node.tokens.issue({ sub: name, name, rooms: ['*'] }) });
			clients.push(client);
			const { routerRtpCapabilities } = await client.request('media.capabilities', {});
			const joined = await client.request('room.join', { roomId: 'pipe-pause', rtpCapabilities: routerRtpCapabilities as never });
			return { client, joined };
		};
		const alice = await connect('alice');
		const bob = await connect('bob');
		bob.client.onConsumerNew(() => undefined);
		const room = node.registry.get('pipe-pause')!;
		const alicePeer = room.peers.get(alice.joined.peerId)!;
		const bobPeer = room.peers.get(bob.joined.peerId)!;
		const bobRouter = bobPeer.router!;
		expect(bobRouter).not.toBe(alicePeer.router);

		let pausedMidPipe = false;
		bobRouter.router.observer.on('newtransport', (transport) => {
			if (transport.constructor.name !== 'PipeTransport') {
				return;
			}
			const produce = transport.produce.bind(transport);
			transport.produce = async (options) => {
				const producer = alicePeer.producers.get(options.id ?? '');
				if (producer && !producer.paused) {
					pausedMidPipe = true;
					await producer.pause();
				}
				return produce(options);
			};
		});
		await bob.client.request('transport.create', { direction: 'recv' });
		const send = await alice.client.request('transport.create', { direction: 'send' });
		const { id } = await alice.client.request('producer.create', { transportId: send.id, kind: 'video', rtpParameters: vp8Parameters(4242) as never, source: 'camera' });

		const offer = await bob.client.waitFor('consumer.new', (data) => data.producerId === id);
		expect(pausedMidPipe).toBe(true);
		expect(alicePeer.producers.get(id)!.paused).toBe(true);
		// Bob is told: paused from the offer on, or by consumer.paused right after it.
		await pollUntil('bob knows the producer is paused', () => offer.producerPaused
			|| bob.client.events.some((e) => e.name === 'consumer.paused' && e.data.consumerId === offer.consumerId), { timeoutMs: 2000 });
		expect([...bobPeer.consumers.values()].find((c) => c.producerId === id)?.producerPaused).toBe(true);

		clients.forEach((client) => client.disconnect());
	});
});

describe('a worker dies under a room', () => {
	let node: TestNode;
	const parties: Party[] = [];

	beforeAll(async () => {
		node = await startTestNode({ media: { workers: 2 } });
	});
	afterAll(async () => {
		await closeAll(parties);
		await node.close();
	});

	test('its clients are told to reconnect, rebuild on a healthy worker and consume again; other rooms see nothing', async () => {
		const alice = await party(node, 'alice', parties);
		const bob = await party(node, 'bob', parties);
		for (const { signaling, media } of [alice, bob]) {
			signaling.on('session.reconnect', () => void media.rebuild());
			await media.join('doomed');
			await media.produceSynthetic({ audio: true, video: { width: 320, height: 180 } });
		}
		const doomed = node.registry.get('doomed')!;
		const victim = doomed.routers[0]!.worker;
		await pollUntil('bob consumes alice', () => [...doomed.peers.values()].every((p) => p.consumers.size === 2));

		// Another room, placed on the other (less loaded) worker, with media of its own.
		const carol = await party(node, 'carol', parties);
		const dave = await party(node, 'dave', parties);
		await carol.media.join('safe');
		await dave.media.join('safe');
		await carol.media.produceSynthetic({ audio: true, video: { width: 320, height: 180 } });
		const safe = node.registry.get('safe')!;
		expect(safe.routers.map((r) => r.worker.index)).not.toContain(victim.index);
		const daveVideoBytes = async () => (await dave.media.inboundStats()).find((s) => s.kind === 'video')?.bytesReceived ?? 0;
		await pollUntil('dave receives carol', async () => (await daveVideoBytes()) > 0, { timeoutMs: 15000, intervalMs: 200 });
		const safeEvents = [carol.signaling.events.length, dave.signaling.events.length];

		process.kill(victim.pid, 'SIGKILL');

		await pollUntil('alice and bob told to reconnect', () => [alice, bob].every(({ signaling }) =>
			signaling.events.some((e) => e.name === 'session.reconnect' && e.data.reason === 'workerDied')), { timeoutMs: 10000 });
		await pollUntil('both decode each other again on a new worker', async () => {
			for (const { media } of [alice, bob]) {
				const video = (await media.inboundStats()).find((s) => s.kind === 'video');
				if (!video || (video.framesDecoded ?? 0) === 0) {
					return false;
				}
			}
			return doomed.routers.length > 0 && doomed.routers.every((r) => r.worker.pid !== victim.pid);
		}, { timeoutMs: 10000, intervalMs: 200 });
		expect(doomed.peers.size).toBe(2);

		// The other room saw no event at all and its media kept flowing.
		const before = await daveVideoBytes();
		await pollUntil('dave still receives carol', async () => (await daveVideoBytes()) > before, { timeoutMs: 5000, intervalMs: 200 });
		// Only the periodic reports (scores, speaker, layers) may have arrived there.
		const periodic = new Set(['consumer.score', 'producer.score', 'room.activeSpeaker', 'consumer.layersChanged']);
		[carol, dave].forEach(({ signaling }, i) => {
			expect(signaling.events.slice(safeEvents[i]).filter((e) => !periodic.has(e.name))).toEqual([]);
		});
	});
});

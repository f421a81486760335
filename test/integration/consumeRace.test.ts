import { newSrtpParameters } from '../../scripts/loadtest/srtp';
import { startTestNode, type TestNode } from '../helpers/node';
import { pollUntil } from '../helpers/poll';
import { opusParameters, vp8Parameters } from '../helpers/rtp';
import { SignalingClient } from '../helpers/signalingClient';
import type { RequestData } from '../../src/signaling/protocol';

type Rtp = RequestData<'producer.create'>['rtpParameters'];
type Caps = RequestData<'room.join'>['rtpCapabilities'];

const ROUNDS = 8;
const SUBSCRIBERS = 8;

// A producer offered to a peer whose receive transport is being created at
// that moment: the offer finds no transport, and the transport's own pass
// over the room's producers comes a moment later. That second pass must not
// be lost (it once was, to the guard against consuming a producer twice: one
// subscriber in a few dozen of a load test never got a consumer).
describe('consumer offers racing receive transports', () => {
	let node: TestNode;
	const clients: SignalingClient[] = [];

	beforeAll(async () => {
		node = await startTestNode({ media: { workers: 1 }, rooms: { emptyCloseGraceMs: 100 } });
	});
	afterAll(async () => {
		clients.forEach((c) => c.disconnect());
		await node.close();
	});

	async function joined(name: string, roomId: string): Promise<{ client: SignalingClient; offers: Set<string> }> {
		const client = await SignalingClient.connect(node.url, { token: await node.tokens.issue({ sub: name, name, rooms: ['*'], loadtest: true }) });
		const offers = new Set<string>();
		client.onConsumerNew(({ producerId }) => void offers.add(producerId));
		clients.push(client);
		const { routerRtpCapabilities } = await client.request('media.capabilities', {});
		await client.request('room.join', { roomId, rtpCapabilities: routerRtpCapabilities as Caps });
		return { client, offers };
	}

	test(`producers created while ${SUBSCRIBERS} subscribers create their receive transports reach every subscriber (${ROUNDS} rounds)`, async () => {
		for (let round = 0; round < ROUNDS; round++) {
			const roomId = `race-${round}`;
			const publisher = await joined(`race-pub-${round}`, roomId);
			const subscribers = await Promise.all(Array.from({ length: SUBSCRIBERS }, (_, i) => joined(`race-sub-${round}-${i}`, roomId)));
			const send = await publisher.client.request('transport.create', { direction: 'send' });
			// All at once: the producers' offers and the transports' passes interleave.
			const [audio, video] = await Promise.all([
				publisher.client.request('producer.create', { transportId: send.id, kind: 'audio', source: 'mic', rtpParameters: opusParameters(1000 + round) as Rtp }),
				publisher.client.request('producer.create', { transportId: send.id, kind: 'video', source: 'camera', rtpParameters: vp8Parameters(2000 + round) as Rtp }),
				...subscribers.map(({ client }) => client.request('transport.createPlain', { direction: 'recv', srtpParameters: newSrtpParameters(), remote: { ip: '127.0.0.1', port: 9 } })),
			]);
			const producers = [audio!.id, video!.id];
			await pollUntil(`round ${round}: every subscriber is offered both producers`, () =>
				subscribers.every(({ offers }) => producers.every((id) => offers.has(id))), { timeoutMs: 5000, intervalMs: 50 })
				.catch((error: Error) => {
					const missing = subscribers.filter(({ offers }) => !producers.every((id) => offers.has(id))).length;
					throw new Error(`${error.message}: ${missing} of ${SUBSCRIBERS} subscribers were not`);
				});
			await Promise.all([publisher, ...subscribers].map(({ client }) => client.request('room.leave', {})));
		}
	});
});

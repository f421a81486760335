import { Pacer } from '../../scripts/loadtest/publisher';
import { Sink } from '../../scripts/loadtest/sink';
import { newSrtpParameters } from '../../scripts/loadtest/srtp';
import { poolObjects } from '../helpers/dump';
import { startTestNode, type TestNode } from '../helpers/node';
import { pollUntil } from '../helpers/poll';
import { opusParameters, vp8Parameters } from '../helpers/rtp';
import { SignalingClient, SignalingRequestError } from '../helpers/signalingClient';
import type { RequestData } from '../../src/signaling/protocol';

type Rtp = RequestData<'producer.create'>['rtpParameters'];
type Caps = RequestData<'room.join'>['rtpCapabilities'];

// transport.createPlain: load generators' plain RTP transports with SRTP,
// behind the loadtest grant, in the same room bookkeeping as WebRTC ones.
describe('transport.createPlain', () => {
	let node: TestNode;
	let pacer: Pacer;
	let sink: Sink;
	const clients: SignalingClient[] = [];

	beforeAll(async () => {
		node = await startTestNode({ media: { workers: 1 }, rooms: { emptyCloseGraceMs: 100, reconnectGraceMs: 200 } });
		pacer = new Pacer();
		sink = await Sink.start('127.0.0.1');
	});
	afterAll(async () => {
		pacer.close();
		sink.close();
		clients.forEach((c) => c.disconnect());
		await node.close();
	});

	async function joined(name: string, roomId: string, loadtest: boolean): Promise<SignalingClient> {
		const client = await SignalingClient.connect(node.url, { token: await node.tokens.issue({ sub: name, name, rooms: ['*'], loadtest }) });
		client.onConsumerNew(() => undefined);
		clients.push(client);
		const { routerRtpCapabilities } = await client.request('media.capabilities', {});
		await client.request('room.join', { roomId, rtpCapabilities: routerRtpCapabilities as Caps });
		return client;
	}

	async function refusal(promise: Promise<unknown>): Promise<string> {
		try {
			await promise;
		} catch (error) {
			return (error as SignalingRequestError).code;
		}
		return 'accepted';
	}

	test('is refused without the loadtest grant, before and after room.join, and creates nothing', async () => {
		const client = await SignalingClient.connect(node.url, { token: await node.tokens.issue({ sub: 'plain-no', rooms: ['*'] }) });
		clients.push(client);
		const before = await poolObjects(node.pool);
		const send = { direction: 'send' as const, srtpParameters: newSrtpParameters() };
		expect(await refusal(client.request('transport.createPlain', send))).toBe('forbidden');
		const member = await joined('plain-no-2', 'plain-refused', false);
		expect(await refusal(member.request('transport.createPlain', send))).toBe('forbidden');
		expect(await poolObjects(node.pool)).toEqual({ ...before, routers: before.routers + 1 });
	});

	test('dev tokens never carry the grant', async () => {
		const res = await fetch(`${node.url}/api/dev/token`, {
			method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'dev', room: 'r' }),
		});
		const { token } = await res.json() as { token: string };
		expect((await node.tokens.verify(token)).loadtest).toBe(false);
	});

	test('with the grant, SRTP media is forwarded to the subscriber; leaving frees everything', async () => {
		const before = await poolObjects(node.pool);
		const publisher = await joined('plain-pub', 'plain-flow', true);
		const subscriber = await joined('plain-sub', 'plain-flow', true);
		const source = await pacer.add(['audio', 'video'], '127.0.0.1');
		const send = await publisher.request('transport.createPlain', { direction: 'send', srtpParameters: source.srtpParameters });
		expect(send).toMatchObject({ direction: 'send', ip: '127.0.0.1', srtpParameters: { cryptoSuite: 'AEAD_AES_256_GCM' } });
		await subscriber.request('transport.createPlain', { direction: 'recv', srtpParameters: newSrtpParameters(), remote: sink.address });
		await publisher.request('producer.create', { transportId: send.id, kind: 'audio', source: 'mic', rtpParameters: opusParameters(source.ssrcs.audio!) as Rtp });
		await publisher.request('producer.create', { transportId: send.id, kind: 'video', source: 'camera', rtpParameters: vp8Parameters(source.ssrcs.video!) as Rtp });
		source.start({ ip: send.ip, port: send.port });

		// Both consumers forward, and nothing is lost on loopback at this rate.
		const totals = await pollUntil('packets of both consumers at the sink', () => {
			const t = sink.totals();
			return t.ssrcs >= 2 && t.packets >= 200 && t;
		}, { timeoutMs: 10000, intervalMs: 100 });
		expect(totals.expected - totals.received).toBeLessThanOrEqual(totals.expected * 0.01);
		const room = node.registry.get('plain-flow')!;
		const [pubPeer] = [...room.peers.values()].filter((p) => p.producers.size > 0);
		for (const producer of pubPeer!.producers.values()) {
			const [stats] = await producer.getStats();
			expect(stats?.packetCount).toBeGreaterThan(0);
		}
		// A plain transport has no DTLS to connect or ICE to restart.
		expect(await refusal(publisher.request('transport.connect', {
			transportId: send.id, dtlsParameters: { fingerprints: [{ algorithm: 'sha-256', value: 'AB:CD' }] },
		}))).toBe('invalid_state');
		expect(await refusal(publisher.request('transport.restartIce', { transportId: send.id }))).toBe('invalid_state');

		await publisher.request('room.leave', {});
		await subscriber.request('room.leave', {});
		await pollUntil('the room closed and its objects with it', async () => {
			const now = await poolObjects(node.pool);
			return now.routers === before.routers && now.transports === before.transports && now.producers === before.producers && now.consumers === before.consumers && now;
		});
	});

	test('garbage gets an error ack and leaks nothing', async () => {
		const client = await joined('plain-garbage', 'plain-garbage', true);
		const before = await poolObjects(node.pool);
		const key = newSrtpParameters();
		const bad: unknown[] = [
			{}, { direction: 'send' }, { direction: 'sideways', srtpParameters: key },
			{ direction: 'send', srtpParameters: { ...key, cryptoSuite: 'AES_CM_128_HMAC_SHA1_80' } },
			{ direction: 'send', srtpParameters: { ...key, keyBase64: 'short' } },
			{ direction: 'send', srtpParameters: key, remote: { ip: '127.0.0.1', port: 9 } },
			{ direction: 'recv', srtpParameters: key },
			{ direction: 'recv', srtpParameters: key, remote: { ip: 'localhost', port: 9 } },
			{ direction: 'recv', srtpParameters: key, remote: { ip: '127.0.0.1', port: 70_000 } },
			{ direction: 'recv', srtpParameters: key, remote: { ip: '127.0.0.1', port: 9 }, extra: 1 },
		];
		for (const payload of bad) {
			const ack = await client.requestRaw('transport.createPlain', payload) as { ok: boolean; error?: { code: string } };
			expect([payload, ack.ok, ack.error?.code]).toEqual([payload, false, 'validation_failed']);
		}
		expect(await poolObjects(node.pool)).toEqual(before);
		// The per-peer transport limit holds for plain transports too.
		const limit = node.config.rooms.maxTransportsPerPeer;
		for (let i = 0; i < limit; i++) {
			await client.request('transport.createPlain', { direction: 'send', srtpParameters: newSrtpParameters() });
		}
		expect(await refusal(client.request('transport.createPlain', { direction: 'send', srtpParameters: newSrtpParameters() }))).toBe('limit_exceeded');
		client.disconnect();
		await pollUntil('the peer and its transports are gone after the reconnect grace', async () =>
			(await poolObjects(node.pool)).transports === before.transports && node.registry.get('plain-garbage') === undefined,
		{ timeoutMs: node.config.rooms.reconnectGraceMs + 5000 });
	});
});

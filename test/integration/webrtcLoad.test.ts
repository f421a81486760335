import { rtpParameters } from '../../scripts/loadtest/bareTarget';
import { newCertificate } from '../../scripts/loadtest/dtls';
import { Pacer } from '../../scripts/loadtest/publisher';
import { WebRtcReceiver } from '../../scripts/loadtest/webrtcReceiver';
import { MEDIA_CODECS, mediasoup, type ms } from '../../src/media';
import { pollUntil } from '../helpers/poll';
import { findFreePorts } from '../helpers/ports';

type OutboundStats = { type: string; roundTripTime?: number; nackCount: number; nackPacketCount: number; packetsRetransmitted: number; packetsLost: number };

async function outbound(consumer: ms.Consumer): Promise<OutboundStats> {
	const stats = await consumer.getStats() as unknown as OutboundStats[];
	return stats.find((s) => s.type === 'outbound-rtp')!;
}

// The load generator's WebRTC receiver against bare mediasoup: ICE through a
// worker's WebRtcServer (one UDP port for every transport), DTLS-SRTP with
// AES-256-GCM, every packet decrypted, and the RTCP a browser sends: the
// worker reads a round trip from the receiver reports and retransmits (RTX)
// what the receiver NACKs.
describe('WebRTC load receiver', () => {
	let worker: ms.Worker;
	let webRtcServer: ms.WebRtcServer;
	let serverPort: number;
	let pacer: Pacer;
	const receivers: WebRtcReceiver[] = [];

	beforeAll(async () => {
		worker = await mediasoup.createWorker({ logLevel: 'warn' });
		serverPort = await findFreePorts(1);
		webRtcServer = await worker.createWebRtcServer({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1', port: serverPort }] });
		pacer = new Pacer();
	});
	afterAll(() => {
		pacer.close();
		receivers.forEach((r) => r.close());
		worker.close();
	});

	async function publish(router: ms.Router): Promise<ms.Producer[]> {
		const publisher = await pacer.add(['audio', 'video'], '127.0.0.1');
		const send = await router.createPlainTransport({
			listenIp: { ip: '127.0.0.1' }, rtcpMux: true, comedia: true, enableSrtp: true, srtpCryptoSuite: 'AEAD_AES_256_GCM',
		});
		await send.connect({ srtpParameters: publisher.srtpParameters });
		const producers = [
			await send.produce({ kind: 'audio', rtpParameters: rtpParameters('audio', publisher.ssrcs.audio!) }),
			await send.produce({ kind: 'video', rtpParameters: rtpParameters('video', publisher.ssrcs.video!) }),
		];
		publisher.start({ ip: send.tuple.localIp, port: send.tuple.localPort });
		return producers;
	}

	test('connects through the WebRtcServer, decrypts the media, and its RTCP gives RTT and retransmissions', async () => {
		const router = await worker.createRouter({ mediaCodecs: MEDIA_CODECS });
		const producers = await publish(router);
		const transport = await router.createWebRtcTransport({ webRtcServer, enableUdp: true, enableTcp: false });
		const receiver = await WebRtcReceiver.create({ certificate: await newCertificate(), bindIp: '127.0.0.1', lossRate: 0.02, rtcpIntervalMs: 500 });
		receivers.push(receiver);
		await transport.connect({ dtlsParameters: receiver.dtlsParameters });
		await receiver.connect(transport);

		expect(transport.iceState).toBe('completed');
		expect(transport.iceSelectedTuple).toMatchObject({ protocol: 'udp', localPort: serverPort, remotePort: receiver.address.port });
		await pollUntil('DTLS connected', () => transport.dtlsState === 'connected', { timeoutMs: 5000 });
		expect(receiver.stats.profile).toBe('AEAD_AES_256_GCM');

		const consumers: ms.Consumer[] = [];
		for (const producer of producers) {
			const consumer = await transport.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities });
			receiver.expect(consumer);
			consumers.push(consumer);
		}
		const video = consumers.find((c) => c.kind === 'video')!;
		expect(video.rtpParameters.encodings?.[0]?.rtx?.ssrc).toBeDefined();

		await pollUntil('decrypted media', () => receiver.stats.decrypted >= 300, { timeoutMs: 15_000 });
		expect(receiver.stats.authFailures).toBe(0);
		// Server side: the worker computed a round trip from the receiver reports, and answered NACKs with RTX.
		const stats = await pollUntil('RTT and retransmissions at the worker', async () => {
			const s = await outbound(video);
			return (s.roundTripTime ?? 0) > 0 && s.nackCount > 0 && s.packetsRetransmitted > 0 ? s : undefined;
		}, { timeoutMs: 15_000, intervalMs: 200 });
		expect(stats.nackPacketCount).toBeGreaterThan(0);
		await pollUntil('retransmissions at the receiver', () => receiver.stats.retransmissions > 0, { timeoutMs: 5000 });
		expect(receiver.stats.dropped).toBeGreaterThan(0);
		expect(receiver.stats.senderReports).toBeGreaterThan(0);
	}, 60_000);

	test('ICE with a wrong password never completes', async () => {
		const router = await worker.createRouter({ mediaCodecs: MEDIA_CODECS });
		const transport = await router.createWebRtcTransport({ webRtcServer, enableUdp: true, enableTcp: false });
		const receiver = await WebRtcReceiver.create({ certificate: await newCertificate(), bindIp: '127.0.0.1' });
		receivers.push(receiver);
		await transport.connect({ dtlsParameters: receiver.dtlsParameters });
		const wrong = { ...transport.iceParameters, password: 'not-the-password' };
		await expect(receiver.connect({ ...transport, iceParameters: wrong, iceCandidates: transport.iceCandidates, dtlsParameters: transport.dtlsParameters }, 1000))
			.rejects.toThrow(/ICE/);
		expect(transport.iceState).toBe('new');
	}, 30_000);
});

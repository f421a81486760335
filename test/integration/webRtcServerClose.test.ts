import * as mediasoup from 'mediasoup';
import { OPUS } from '../helpers/media';
import { findFreePorts } from '../helpers/ports';

// The worker is built against Debian's abseil, which traps (SIGILL) when a
// flat_hash_set is erased from while iterated. Unpatched mediasoup 3.12.16 does
// exactly that when a WebRtcServer closes with transports still on it; the
// project's patch (patches/mediasoup-worker) fixes it. This test kills an
// unpatched worker.
test('closing a WebRtcServer with live transports closes them and the worker survives', async () => {
	const port = await findFreePorts(1);
	const worker = await mediasoup.createWorker({ logLevel: 'warn' });
	const died = jest.fn();
	worker.on('died', died);
	try {
		const server = await worker.createWebRtcServer({
			listenInfos: [{ protocol: 'udp', ip: '127.0.0.1', port }, { protocol: 'tcp', ip: '127.0.0.1', port }],
		});
		const router = await worker.createRouter({ mediaCodecs: [OPUS] });
		const transports = await Promise.all([1, 2, 3].map(() =>
			router.createWebRtcTransport({ webRtcServer: server, enableUdp: true, enableTcp: true })));
		const producer = await transports[0]!.produce({
			kind: 'audio',
			rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 2222 }] },
		});
		await transports[1]!.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities });

		server.close();

		// The worker still answers requests, and holds no transport any more.
		const usage = await worker.getResourceUsage();
		expect(usage.ru_maxrss).toBeGreaterThan(0);
		const dump = await router.dump();
		expect(dump.transportIds).toEqual([]);
		expect(transports.every((t) => t.closed)).toBe(true);
		expect(worker.died).toBe(false);
		expect(died).not.toHaveBeenCalled();

		// And it serves a new WebRtcServer on the same port.
		const again = await worker.createWebRtcServer({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1', port }] });
		await router.createWebRtcTransport({ webRtcServer: again });
	} finally {
		worker.close();
	}
});

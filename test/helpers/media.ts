import type { types as ms } from 'mediasoup';

export const OPUS: ms.RtpCodecCapability = { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 };

/**
 * Makes `count` consumers on a router: one audio producer on a PlainTransport
 * (no media needs to flow) and `count` consumers of it on another.
 */
export async function addConsumers(router: ms.Router, count: number): Promise<{ close(): void }> {
	const sendTransport = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: true });
	const producer = await sendTransport.produce({
		kind: 'audio',
		rtpParameters: {
			codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }],
			encodings: [{ ssrc: 11111111 }],
		},
	});
	const recvTransport = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: true });
	for (let i = 0; i < count; i++) {
		await recvTransport.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities });
	}
	return {
		close() {
			sendTransport.close();
			recvTransport.close();
		},
	};
}

import type { types as ms } from 'mediasoup';

/** RTP parameters a client would send for an Opus producer (no media needs to flow). */
export function opusParameters(ssrc: number): ms.RtpParameters {
	return {
		mid: '0',
		codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, parameters: { useinbandfec: 1 } }],
		encodings: [{ ssrc }],
		rtcp: { cname: `cname-${ssrc}` },
	};
}

/** RTP parameters for a VP8 producer with one encoding. */
export function vp8Parameters(ssrc: number): ms.RtpParameters {
	return {
		mid: '1',
		codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }] }],
		encodings: [{ ssrc }],
		rtcp: { cname: `cname-${ssrc}` },
	};
}

import type { ms } from './mediasoup';

/**
 * The codecs every room's router offers. Opus with in-band FEC and DTX; VP8
 * (what the web client sends, with simulcast), VP9 and H264 for clients that
 * prefer them. mediasoup adds NACK, PLI/FIR, REMB and transport-cc feedback
 * to the router's capabilities on its own.
 */
export const MEDIA_CODECS: ms.RtpCodecCapability[] = [
	{
		kind: 'audio',
		mimeType: 'audio/opus',
		clockRate: 48000,
		channels: 2,
		parameters: { useinbandfec: 1, usedtx: 1 },
	},
	{
		kind: 'video',
		mimeType: 'video/VP8',
		clockRate: 90000,
		parameters: { 'x-google-start-bitrate': 1000 },
	},
	{
		kind: 'video',
		mimeType: 'video/VP9',
		clockRate: 90000,
		parameters: { 'profile-id': 0, 'x-google-start-bitrate': 1000 },
	},
	{
		kind: 'video',
		mimeType: 'video/H264',
		clockRate: 90000,
		parameters: {
			'packetization-mode': 1,
			'profile-level-id': '42e01f',
			'level-asymmetry-allowed': 1,
			'x-google-start-bitrate': 1000,
		},
	},
	{
		kind: 'video',
		mimeType: 'video/H264',
		clockRate: 90000,
		parameters: {
			'packetization-mode': 1,
			'profile-level-id': '4d0032',
			'level-asymmetry-allowed': 1,
			'x-google-start-bitrate': 1000,
		},
	},
];

import { z } from 'zod';

// Building blocks of the signaling protocol: mediasoup's RTP and DTLS types as
// zod schemas with bounds on every string and array, so nothing unbounded
// reaches mediasoup. mediasoup validates the semantics again (ortc.ts); its
// TypeErrors are mapped to validation_failed.

export const id = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, { error: 'expected letters, digits, _ or -' });
export const roomId = z.string().min(1).max(64).regex(/^[A-Za-z0-9_.-]+$/, { error: 'expected 1-64 letters, digits, _, . or -' });
export const displayName = z.string().trim().min(1).max(64);
/** An account handle: 3-30 of a-z, 0-9 and _, case-insensitive. */
export const handle = z.string().trim().toLowerCase().regex(/^[a-z0-9_]{3,30}$/, { error: 'expected 3-30 letters, digits or _' });

const scalar = z.union([z.string().max(256), z.number(), z.boolean()]);
const parameters = z.record(z.string().max(64), scalar).refine((p) => Object.keys(p).length <= 32, { error: 'at most 32 parameters' });

const rtcpFeedback = z.object({
	type: z.string().min(1).max(32),
	parameter: z.string().max(32).optional(),
});

const mimeType = z.string().min(3).max(64).regex(/^(audio|video)\/[A-Za-z0-9._-]+$/i, { error: 'expected audio/... or video/...' });
const kind = z.enum(['audio', 'video']);

export const rtpCodecCapability = z.object({
	kind,
	mimeType,
	preferredPayloadType: z.number().int().min(0).max(127).optional(),
	clockRate: z.number().int().min(1).max(1_000_000),
	channels: z.number().int().min(1).max(8).optional(),
	parameters: parameters.optional(),
	rtcpFeedback: z.array(rtcpFeedback).max(16).optional(),
});

export const rtpHeaderExtension = z.object({
	kind,
	uri: z.string().min(1).max(256),
	preferredId: z.number().int().min(1).max(255),
	preferredEncrypt: z.boolean().optional(),
	direction: z.enum(['sendrecv', 'sendonly', 'recvonly', 'inactive']).optional(),
});

export const rtpCapabilities = z.object({
	codecs: z.array(rtpCodecCapability).max(64).optional(),
	headerExtensions: z.array(rtpHeaderExtension).max(32).optional(),
});

const rtpCodecParameters = z.object({
	mimeType,
	payloadType: z.number().int().min(0).max(127),
	clockRate: z.number().int().min(1).max(1_000_000),
	channels: z.number().int().min(1).max(8).optional(),
	parameters: parameters.optional(),
	rtcpFeedback: z.array(rtcpFeedback).max(16).optional(),
});

const rtpEncoding = z.object({
	ssrc: z.number().int().min(0).max(0xffffffff).optional(),
	rid: z.string().min(1).max(32).optional(),
	codecPayloadType: z.number().int().min(0).max(127).optional(),
	rtx: z.object({ ssrc: z.number().int().min(0).max(0xffffffff) }).optional(),
	dtx: z.boolean().optional(),
	scalabilityMode: z.string().max(16).optional(),
	scaleResolutionDownBy: z.number().min(1).max(64).optional(),
	maxBitrate: z.number().int().min(0).max(100_000_000).optional(),
	maxFramerate: z.number().min(0).max(120).optional(),
	active: z.boolean().optional(),
	networkPriority: z.enum(['very-low', 'low', 'medium', 'high']).optional(),
	priority: z.enum(['very-low', 'low', 'medium', 'high']).optional(),
	adaptivePtime: z.boolean().optional(),
});

export const rtpParameters = z.object({
	mid: z.string().max(32).optional(),
	codecs: z.array(rtpCodecParameters).min(1).max(16),
	headerExtensions: z.array(z.object({
		uri: z.string().min(1).max(256),
		id: z.number().int().min(1).max(255),
		encrypt: z.boolean().optional(),
		parameters: parameters.optional(),
	})).max(32).optional(),
	encodings: z.array(rtpEncoding).max(8).optional(),
	rtcp: z.object({
		cname: z.string().max(256).optional(),
		reducedSize: z.boolean().optional(),
		mux: z.boolean().optional(),
	}).optional(),
});

export const dtlsParameters = z.object({
	role: z.enum(['auto', 'client', 'server']).optional(),
	fingerprints: z.array(z.object({
		algorithm: z.enum(['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512']),
		value: z.string().max(256).regex(/^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2})*$/, { error: 'expected hex pairs separated by colons' }),
	})).min(1).max(8),
});

export const source = z.enum(['mic', 'camera', 'screen', 'screenAudio']);
export type Source = z.infer<typeof source>;

/** Data a server event carries about a producer. */
export const producerInfo = z.object({
	id,
	peerId: id,
	kind,
	source,
	paused: z.boolean(),
});
export type ProducerInfo = z.infer<typeof producerInfo>;

export const peerInfo = z.object({
	id,
	displayName: z.string(),
	handle: z.string().optional(),
	producers: z.array(producerInfo),
});
export type PeerInfo = z.infer<typeof peerInfo>;

const iceParameters = z.object({ usernameFragment: z.string(), password: z.string(), iceLite: z.boolean().optional() });

export const transportInfo = z.object({
	id,
	direction: z.enum(['send', 'recv']),
	iceParameters,
	iceCandidates: z.array(z.unknown()),
	dtlsParameters: z.unknown(),
	iceServers: z.array(z.object({
		urls: z.union([z.string(), z.array(z.string())]),
		username: z.string().optional(),
		credential: z.string().optional(),
	})),
	iceTransportPolicy: z.enum(['all', 'relay']),
});
export type TransportInfo = z.infer<typeof transportInfo>;

/**
 * A load generator's SRTP key for transport.createPlain: AEAD_AES_256_GCM only
 * (what browsers negotiate), a 32-byte master key and 12-byte salt in base64.
 */
export const plainSrtpParameters = z.object({
	cryptoSuite: z.literal('AEAD_AES_256_GCM'),
	keyBase64: z.string().length(60).regex(/^[A-Za-z0-9+/]{59}=$/, { error: 'expected 44 bytes in base64' }),
}).strict();

export const plainTransportInfo = z.object({
	id,
	direction: z.enum(['send', 'recv']),
	/** The node's address and port for this transport's RTP and RTCP (rtcp-mux). */
	ip: z.string(),
	port: z.number().int(),
	/** The key the node encrypts with. */
	srtpParameters: z.object({ cryptoSuite: z.string(), keyBase64: z.string() }),
});

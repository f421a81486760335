import { z } from 'zod';

// mediasoup's RTP types as zod schemas, with bounds on every string and
// array, so nothing unbounded reaches mediasoup: for a client's requests
// (src/signaling/schemas.ts) and for what another node of a fleet sends
// (src/rooms/pipeMessages.ts). mediasoup validates the semantics again
// (ortc.ts). Only zod here: the browser client's typecheck follows these.
//
// NOTE: a producer's RTP parameters reach the other peers' browsers: mediasoup
// copies the codec parameters into every consumer's, and mediasoup-client
// writes them into the receiving browser's remote SDP as they are (its cname
// too, which is why the node sets the cname itself). Every string that reaches
// mediasoup is therefore restricted to characters that cannot end an SDP line,
// start an attribute or split an fmtp line: no whitespace, CR, LF, `;` or `=`.

const parameterKey = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
// NOTE: no booleans: mediasoup refuses them, and mediasoup-client never sends
// them (it parses fmtp values into numbers and strings).
const PARAMETER_VALUE = 'expected a number, or at most 256 letters, digits or _.:,/+-';
const parameterValue = z.union([z.number(), z.string().regex(/^[A-Za-z0-9_.:,/+-]{0,256}$/, { error: PARAMETER_VALUE })], { error: PARAMETER_VALUE });
export const parameters = z.record(parameterKey, parameterValue, {
	error: (issue) => (issue.code === 'invalid_key' ? 'expected keys of 1-64 letters, digits, _ or -' : undefined),
}).refine((p) => Object.keys(p).length <= 32, { error: 'at most 32 parameters' });

const rtcpFeedback = z.object({
	type: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, { error: 'expected 1-32 letters, digits, _ or -' }),
	parameter: z.string().regex(/^[A-Za-z0-9_.-]{0,32}$/, { error: 'expected at most 32 letters, digits, _, . or -' }).optional(),
});

const mimeType = z.string().min(3).max(64).regex(/^(audio|video)\/[A-Za-z0-9._-]+$/i, { error: 'expected audio/... or video/...' });
export const kind = z.enum(['audio', 'video']);
/** An RTP header extension's URI: the characters of RFC 3986, so no whitespace. */
const extensionUri = z.string().regex(/^[A-Za-z0-9._~:/?#[\]@!$&'()*+,;=%-]{1,256}$/, { error: 'expected a URI of 1-256 characters, no whitespace' });

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
	uri: extensionUri,
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
	/** RFC 8851's rid-id. */
	rid: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, { error: 'expected 1-32 letters, digits, _ or -' }).optional(),
	codecPayloadType: z.number().int().min(0).max(127).optional(),
	rtx: z.object({ ssrc: z.number().int().min(0).max(0xffffffff) }).optional(),
	dtx: z.boolean().optional(),
	scalabilityMode: z.string().regex(/^[A-Za-z0-9_]{0,16}$/, { error: 'expected at most 16 letters, digits or _ (L1T3, L3T3_KEY)' }).optional(),
	scaleResolutionDownBy: z.number().min(1).max(64).optional(),
	maxBitrate: z.number().int().min(0).max(100_000_000).optional(),
	maxFramerate: z.number().min(0).max(120).optional(),
	active: z.boolean().optional(),
	networkPriority: z.enum(['very-low', 'low', 'medium', 'high']).optional(),
	priority: z.enum(['very-low', 'low', 'medium', 'high']).optional(),
	adaptivePtime: z.boolean().optional(),
});

export const rtpParameters = z.object({
	mid: z.string().regex(/^[A-Za-z0-9_.-]{1,32}$/, { error: 'expected 1-32 letters, digits, _, . or -' }).optional(),
	codecs: z.array(rtpCodecParameters).min(1).max(16),
	headerExtensions: z.array(z.object({
		uri: extensionUri,
		id: z.number().int().min(1).max(255),
		encrypt: z.boolean().optional(),
		parameters: parameters.optional(),
	})).max(32).optional(),
	encodings: z.array(rtpEncoding).max(8).optional(),
	rtcp: z.object({
		/** Ignored: the node gives each peer its own cname (Peer.cname). */
		cname: z.string().max(256).optional(),
		reducedSize: z.boolean().optional(),
		mux: z.boolean().optional(),
	}).optional(),
});

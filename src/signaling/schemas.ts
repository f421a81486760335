import { z } from 'zod';
// NOTE: the file, not util's index: the browser client's typecheck follows
// protocol.ts here, and the index pulls in Node-only modules.
import { displayText } from '../util/displayText';
// NOTE: the file, not media's index, for the same reason.
import { kind, parameters, rtpCapabilities, rtpParameters } from '../media/rtpSchemas';

export { rtpCapabilities, rtpParameters };

// Building blocks of the signaling protocol: mediasoup's RTP and DTLS types as
// zod schemas with bounds on every string and array, so nothing unbounded
// reaches mediasoup (the RTP ones are in src/media/rtpSchemas.ts). mediasoup
// validates the semantics again (ortc.ts); its TypeErrors are mapped to
// validation_failed.

export const id = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, { error: 'expected letters, digits, _ or -' });
export const roomId = z.string().min(1).max(64).regex(/^[A-Za-z0-9_.-]+$/, { error: 'expected 1-64 letters, digits, _, . or -' });
/** A name other peers see: 1-64 characters, trimmed, no control characters (see displayText). */
export const displayName = displayText(64);
/** An account handle: 3-30 of a-z, 0-9 and _, case-insensitive. */
export const handle = z.string().trim().toLowerCase().regex(/^[a-z0-9_]{3,30}$/, { error: 'expected 3-30 letters, digits or _' });

/** A device's id, chosen by the device (docs/e2ee.md): 16-64 letters, digits, _ or -. */
export const deviceId = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, { error: 'expected 16-64 letters, digits, _ or -' });
/** An ECDH P-256 public key: the uncompressed point (65 bytes) in base64url. */
export const publicKey = z.string().regex(/^[A-Za-z0-9_-]{87}$/, { error: 'expected a P-256 public key (65 bytes) in base64url' });
/** A call party's device: what the others wrap their sender keys for. */
export const peerIdentity = z.object({ deviceId, key: publicKey });
/** A sender key wrapped for one device (docs/e2ee.md): opaque to the server, which relays it and keeps nothing. */
/** A chat message's text in a plain room: 1-2000 characters, trimmed, no control characters. */
export const chatText = displayText(2000);
/** A chat message of an end-to-end encrypted room: the sender's encryption, opaque to the node. */
export const sealedText = z.string().min(1).max(8192).regex(/^[A-Za-z0-9_-]+$/, { error: 'expected base64url' });
export const wrappedKey = z.string().min(1).max(512).regex(/^[A-Za-z0-9_-]+$/, { error: 'expected base64url' });

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
	/** The peer's account is verified; absent otherwise. */
	verified: z.literal(true).optional(),
	/** The peer encrypts media end to end (docs/e2ee.md). */
	e2ee: z.boolean(),
	/** In a call's room: the peer's device, for its sender keys (docs/e2ee.md). */
	identity: peerIdentity.optional(),
	/** What the server API set for the peer (peer.updated); absent when none, or not known on this node. */
	metadata: z.string().optional(),
	/** The peer has its hand raised (hand.set), on this node or another; absent otherwise. */
	handRaised: z.literal(true).optional(),
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

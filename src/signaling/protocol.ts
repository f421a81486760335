/**
 * The signaling protocol: the one source of truth for what clients and the
 * server say to each other over socket.io. Server handlers and clients derive
 * their types from these schemas; docs/protocol.md describes them for people.
 *
 * Client requests are socket.io events with an ack. Every ack is
 * `{ ok: true, data }` or `{ ok: false, error: { code, message } }`.
 * Server events are plain socket.io events, except `consumer.new`, which the
 * server sends with an ack: the consumer is created paused and resumed when
 * the client acknowledges it.
 */
import { z } from 'zod';
import type { WireError } from '../errors';
import {
	chatText, deviceId, displayName, dtlsParameters, handle, id, peerInfo, plainSrtpParameters, plainTransportInfo, producerInfo, roomId,
	rtpCapabilities, rtpParameters, source, sealedText, transportInfo, wrappedKey,
} from './schemas';

export type { PeerInfo, ProducerInfo, Source, TransportInfo } from './schemas';

/** Bumped on any change an old client cannot follow; the handshake refuses other versions. */
export const PROTOCOL_VERSION = 1;

export const handshakeAuth = z.object({
	token: z.string().min(1).max(8192),
	protocol: z.number().int(),
});

const empty = z.object({}).strict();
const byId = z.object({ id }).strict();

const joinResult = z.object({
	peerId: id,
	roomId,
	resumeToken: z.string(),
	routerRtpCapabilities: z.unknown(),
	peers: z.array(peerInfo),
	/** After room.resume: what the server kept of this peer; empty after room.join. */
	transports: z.array(z.object({ id, direction: z.enum(['send', 'recv']) })),
	producers: z.array(producerInfo),
});

export const requests = {
	/**
	 * The router RTP capabilities every room uses, to load a mediasoup-client
	 * Device before room.join (which needs the device's capabilities).
	 */
	'media.capabilities': {
		request: empty,
		response: z.object({ routerRtpCapabilities: z.unknown() }),
	},
	'room.join': {
		request: z.object({
			roomId,
			rtpCapabilities,
			displayName: displayName.optional(),
			e2ee: z.boolean().optional(),
		}).strict(),
		response: joinResult,
	},
	'room.resume': {
		request: z.object({ resumeToken: z.string().min(1).max(128) }).strict(),
		response: joinResult,
	},
	'room.leave': { request: empty, response: empty },
	'transport.create': {
		request: z.object({ direction: z.enum(['send', 'recv']) }).strict(),
		response: transportInfo,
	},
	/**
	 * Load generators only (a token with the loadtest grant): a plain RTP
	 * transport with SRTP instead of WebRTC, in the same room bookkeeping.
	 * `remote` is where a receive transport sends; a send transport takes the
	 * address of the first packet it gets (comedia).
	 */
	'transport.createPlain': {
		request: z.discriminatedUnion('direction', [
			z.object({ direction: z.literal('send'), srtpParameters: plainSrtpParameters }).strict(),
			z.object({
				direction: z.literal('recv'),
				srtpParameters: plainSrtpParameters,
				remote: z.object({ ip: z.union([z.ipv4(), z.ipv6()]), port: z.number().int().min(1).max(65_535) }).strict(),
			}).strict(),
		]),
		response: plainTransportInfo,
	},
	'transport.connect': {
		request: z.object({ transportId: id, dtlsParameters }).strict(),
		response: empty,
	},
	'transport.restartIce': {
		request: z.object({ transportId: id }).strict(),
		response: z.object({ iceParameters: z.unknown() }),
	},
	'transport.close': {
		request: z.object({ transportId: id }).strict(),
		response: empty,
	},
	'producer.create': {
		request: z.object({
			transportId: id,
			kind: z.enum(['audio', 'video']),
			rtpParameters,
			source,
			paused: z.boolean().optional(),
		}).strict(),
		response: byId,
	},
	'producer.pause': { request: z.object({ producerId: id }).strict(), response: empty },
	'producer.resume': { request: z.object({ producerId: id }).strict(), response: empty },
	'producer.close': { request: z.object({ producerId: id }).strict(), response: empty },
	'consumer.pause': { request: z.object({ consumerId: id }).strict(), response: empty },
	'consumer.resume': { request: z.object({ consumerId: id }).strict(), response: empty },
	'consumer.setPreferredLayers': {
		request: z.object({
			consumerId: id,
			spatialLayer: z.number().int().min(0).max(7),
			temporalLayer: z.number().int().min(0).max(7).optional(),
		}).strict(),
		response: empty,
	},
	/**
	 * How the client shows a consumer's video: its tile's rendered size in CSS
	 * pixels and whether it is visible. The bitrate and simulcast policy picks
	 * the layer from it and pauses what nobody sees.
	 */
	'consumer.setViewport': {
		request: z.object({
			consumerId: id,
			width: z.number().int().min(0).max(16_384),
			height: z.number().int().min(0).max(16_384),
			visible: z.boolean(),
		}).strict(),
		response: empty,
	},
	'consumer.requestKeyFrame': { request: z.object({ consumerId: id }).strict(), response: empty },
	'consumer.pin': { request: z.object({ consumerId: id }).strict(), response: empty },
	'consumer.unpin': { request: z.object({ consumerId: id }).strict(), response: empty },
	/**
	 * A call's room: this peer's new sender key, wrapped for each other
	 * peer's device (docs/e2ee.md). The server hands each to its peer as
	 * `e2ee.key` and keeps nothing; entries for peers not in the room are
	 * dropped (`delivered` counts the others).
	 */
	'e2ee.keys': {
		request: z.object({ keys: z.array(z.object({ to: id, wrapped: wrappedKey }).strict()).min(1).max(100) }).strict(),
		response: z.object({ delivered: z.number().int() }),
	},
	/**
	 * A chat message to the room's other peers (`chat.message`), wherever they are connected; kept
	 * nowhere (a peer who joins later sees none of it). `text` in a plain room, `sealed` in an end-to-end
	 * encrypted one. At most signaling.chatMessagesPerMinute a minute.
	 * Errors: invalid_state before room.join; rate_limited; e2ee_mismatch (text in an encrypted room);
	 * validation_failed (sealed in a plain room).
	 */
	'chat.send': {
		request: z.union([z.object({ text: chatText }).strict(), z.object({ sealed: sealedText }).strict()]),
		response: z.object({ id, at: z.number().int() }),
	},
	/**
	 * Raises or lowers your hand: the room's other peers get `peer.hand`, and peers joining later see it
	 * in your PeerInfo (`handRaised`). Errors: invalid_state before room.join.
	 */
	'hand.set': { request: z.object({ raised: z.boolean() }).strict(), response: empty },
	/** Calls between accounts (an account token is required). */
	'call.invite': {
		request: z.union([
			z.object({ to: z.array(handle).min(1).max(8), media: z.enum(['audio', 'video']), deviceId: deviceId.optional() }).strict(),
			z.object({ callId: id, to: z.array(handle).min(1).max(8) }).strict(),
		]),
		response: z.object({ callId: id, invited: z.record(z.string(), z.enum(['ringing', 'unavailable'])) }),
	},
	/** `deviceId`: this device's published key (PUT /api/me/devices), which the call's end-to-end encryption needs. */
	'call.accept': { request: z.object({ callId: id, deviceId: deviceId.optional() }).strict(), response: z.object({ callId: id, roomId, token: z.string() }) },
	'call.decline': { request: z.object({ callId: id }).strict(), response: empty },
	'call.cancel': { request: z.object({ callId: id }).strict(), response: empty },
	'call.hangup': { request: z.object({ callId: id }).strict(), response: empty },
	'call.token': { request: z.object({ callId: id }).strict(), response: z.object({ roomId, token: z.string() }) },
} as const;

export type RequestName = keyof typeof requests;
export type RequestData<N extends RequestName> = z.infer<(typeof requests)[N]['request']>;
export type ResponseData<N extends RequestName> = z.infer<(typeof requests)[N]['response']>;

export type Ack<T> = { ok: true; data: T } | { ok: false; error: WireError };

export function isRequestName(name: string): name is RequestName {
	return Object.prototype.hasOwnProperty.call(requests, name);
}

const layers = z.object({ spatialLayer: z.number(), temporalLayer: z.number().optional() }).nullable();
const score = z.object({ score: z.number(), producerScore: z.number().optional(), producerScores: z.array(z.number()).optional() });

/** Events the server sends. `consumer.new` is the one with an ack. */
export const serverEvents = {
	'peer.joined': z.object({ peer: peerInfo }),
	'peer.left': z.object({ peerId: id }),
	'consumer.new': z.object({
		consumerId: id,
		producerId: id,
		peerId: id,
		kind: z.enum(['audio', 'video']),
		source,
		rtpParameters: z.unknown(),
		type: z.string(),
		producerPaused: z.boolean(),
	}),
	'consumer.closed': z.object({ consumerId: id }),
	'consumer.paused': z.object({ consumerId: id }),
	'consumer.resumed': z.object({ consumerId: id }),
	'consumer.layersChanged': z.object({ consumerId: id, layers }),
	'consumer.score': z.object({ consumerId: id, score }),
	/**
	 * Your connection quality for a consumer changed: from its score, and the
	 * layer you receive against the one your tile calls for (src/policy/quality.ts).
	 */
	'consumer.quality': z.object({ consumerId: id, quality: z.enum(['good', 'fair', 'poor']) }),
	'producer.score': z.object({ producerId: id, scores: z.array(z.object({ encodingIdx: z.number().optional(), ssrc: z.number(), rid: z.string().optional(), score: z.number() })) }),
	'producer.closed': z.object({ producerId: id, reason: z.string() }),
	'room.activeSpeaker': z.object({ peerId: id.nullable(), producerId: id.nullable() }),
	'session.reconnect': z.object({ reason: z.enum(['workerDied', 'roomMoved', 'serverRequest']) }),
	'session.ended': z.object({ reason: z.enum(['loggedOut', 'accountDeleted']) }),
	/**
	 * You were put out of a room: of a call's, you hung up (`hangup`) or the
	 * call ended (`callEnded`); of any room, the server API removed you
	 * (`removed`) or ended the room (`roomEnded`). Your peer is closed right after; the room will not
	 * take you back.
	 */
	'room.removed': z.object({ reason: z.enum(['hangup', 'callEnded', 'removed', 'roomEnded']) }),
	/**
	 * The server API muted one of your producers (`muted: true`): the server
	 * paused it, and your `producer.resume` of its source is refused
	 * (`muted_by_service`) until this comes again with `muted: false`, which
	 * only allows you to unmute: the server never resumes it for you.
	 */
	'producer.muted': z.object({ producerId: id, source, muted: z.boolean(), by: z.literal('service') }),
	/**
	 * What the server API permits you now. Without `canPublish` your producers
	 * are closed (`producer.closed` `notPermitted`) and `producer.create` is
	 * refused (`not_permitted`); without `canSubscribe` your consumers are
	 * closed and none is offered. Once permitted again, publish again yourself;
	 * consumers are offered again.
	 */
	'room.permissions': z.object({ canPublish: z.boolean(), canSubscribe: z.boolean() }),
	/** The server API set a peer's metadata (yours too): its `metadata` in peer infos from now on. */
	'peer.updated': z.object({ peerId: id, metadata: z.string() }),
	/** A data message from the service (the server API), not from a participant. */
	'room.data': z.object({ from: z.literal('service'), topic: z.string().optional(), data: z.string() }),
	/**
	 * Dynacast: which simulcast encodings of your producer anybody receives.
	 * Set encodings[i].active to match; an inactive one costs nothing to send.
	 */
	'producer.encodings': z.object({ producerId: id, active: z.array(z.boolean()) }),
	/** The node stopped doing something for this peer at a limit (once per limit and peer). */
	'limit.exceeded': z.object({ code: z.literal('limit_exceeded'), limit: z.enum(['consumersPerPeer']), max: z.number() }),
	/** A call's room: another peer's sender key, wrapped for this device (its `e2ee.keys`). */
	'e2ee.key': z.object({ from: id, wrapped: wrappedKey }),
	/** Another peer raised or lowered its hand (its `hand.set`). */
	'peer.hand': z.object({ peerId: id, raised: z.boolean() }),
	/** Another peer's chat message (its `chat.send`): `name` its display name, `at` ms since epoch. */
	'chat.message': z.object({ id, from: id, name: z.string(), text: z.string().optional(), sealed: z.string().optional(), at: z.number() }),
	'call.incoming': z.object({
		callId: id,
		from: z.object({ handle: z.string(), displayName: z.string(), verified: z.boolean() }),
		media: z.enum(['audio', 'video']),
		/** The callee is in another call: accepting ends that one. */
		waiting: z.boolean(),
		/** The call is end-to-end encrypted: answering needs a device that can (docs/e2ee.md). */
		e2ee: z.boolean(),
	}),
	'call.ringing': z.object({ callId: id, handle: z.string() }),
	'call.accepted': z.object({ callId: id, handle: z.string(), roomId, token: z.string() }),
	'call.declined': z.object({ callId: id, handle: z.string() }),
	'call.noAnswer': z.object({ callId: id, handle: z.string() }),
	'call.left': z.object({ callId: id, handle: z.string() }),
	'call.cancelled': z.object({ callId: id }),
	'call.missed': z.object({ callId: id }),
	/** A call your settings silenced (calls.silenceOthers): it did not ring; it is in your history, to call back. */
	'call.silenced': z.object({
		callId: id,
		from: z.object({ handle: z.string(), displayName: z.string(), verified: z.boolean() }),
		media: z.enum(['audio', 'video']),
	}),
	'call.answeredElsewhere': z.object({ callId: id }),
	'call.ended': z.object({ callId: id, reason: z.enum(['hangup', 'over', 'declinedElsewhere']) }),
	/**
	 * To every device of a call link's owner: someone knocks on the link
	 * (`POST /api/links/:id/join`). `guest`: by the name they typed; else an
	 * account, by its handle. Answer with `POST /api/me/links/:id/knocks/:knockId`.
	 */
	'link.knock': z.object({
		linkId: z.string(), knockId: z.string(), title: z.string(), name: z.string(),
		handle: z.string().optional(), verified: z.boolean(), guest: z.boolean(),
	}),
	/** To every device of the link's owner: the knock was answered (here or on another device) or withdrawn. */
	'link.knockEnded': z.object({ linkId: z.string(), knockId: z.string() }),
} as const;

export type ServerEventName = keyof typeof serverEvents;
export type ServerEventData<N extends ServerEventName> = z.infer<(typeof serverEvents)[N]>;

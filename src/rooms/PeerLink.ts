import type { ms } from '../media';
import type { Quality } from '../policy';
import type { ProducerView } from './RoomProducer';
import type { ConsumerAppData, PeerLimit, Source } from './types';

/**
 * A call party's device (docs/e2ee.md): the device id and ECDH P-256 public
 * key (base64url, uncompressed point) its account published, as the call
 * recorded them. The other parties wrap their sender keys for this key.
 */
export type PeerIdentity = { readonly deviceId: string; readonly key: string };

/** A peer as the others see it, on this node or another. */
export type PeerView = {
	readonly id: string;
	readonly displayName: string;
	/** Its account's handle, for a signed-in peer. */
	readonly handle: string | undefined;
	/** Its account is verified. */
	readonly verified: boolean;
	/** Its client encrypts media end to end (docs/e2ee.md): a room's peers all do or none does. */
	readonly e2ee: boolean;
	/** The device of a call party (call rooms only). */
	readonly identity: PeerIdentity | undefined;
	/** What the server API set for it (peer.updated); undefined for none, and for a peer on another node. */
	readonly metadata?: string | undefined;
	/** It raised its hand (hand.set), here or on another node (its part says it). */
	readonly handRaised?: boolean;
	readonly producers: ReadonlyMap<string, ProducerView>;
};

/**
 * What the room tells a peer's client, in the room's terms. The signaling
 * layer maps each notice to its wire event (src/signaling/wire.ts).
 */
export type PeerNotice =
	/** Another peer joined (sent to those already in the room, before the new peer is added). */
	| { type: 'peerJoined'; peer: PeerView }
	/** Another peer left for good. */
	| { type: 'peerLeft'; peerId: string }
	/** The dominant speaker changed; null when the speaker left. */
	| { type: 'activeSpeaker'; peerId: string | null; producerId: string | null }
	/** One of the peer's consumers closed (its producer or transport closed, the client refused it, ...). */
	| { type: 'consumerClosed'; consumerId: string }
	/** A consumer's producer paused or resumed. */
	| { type: 'consumerPaused' | 'consumerResumed'; consumerId: string }
	| { type: 'consumerLayersChanged'; consumerId: string; layers: ms.ConsumerLayers | undefined }
	/** A consumer's score, at most once per `rooms.scoreIntervalMs`. */
	| { type: 'consumerScore'; consumerId: string; score: ms.ConsumerScore }
	/** The peer's connection quality for a consumer changed (QualityWatcher.ts), at most once per `rooms.scoreIntervalMs`. */
	| { type: 'consumerQuality'; consumerId: string; quality: Quality }
	/** One of the peer's producers' scores, at most once per `rooms.scoreIntervalMs`. */
	| { type: 'producerScore'; producerId: string; scores: ms.ProducerScore[] }
	/** Dynacast: the simulcast encodings of the peer's producer that anybody receives. */
	| { type: 'producerEncodings'; producerId: string; active: boolean[] }
	/** The room stopped doing something for the peer at a limit (once per limit and peer). */
	| { type: 'limitReached'; limit: PeerLimit; max: number }
	/** The peer's router was lost with its worker: the client should rebuild its transports. */
	| { type: 'reconnect'; reason: 'workerDied' | 'roomMoved' }
	/** The peer was put out of a call's room (it hung up, or the call ended); it leaves right after. */
	| { type: 'removed'; reason: 'hangup' | 'callEnded' | 'removed' | 'roomEnded' }
	/** The server API muted one of the peer's producers (paused it), or allowed the peer to unmute it again. */
	| { type: 'producerMuted'; producerId: string; source: Source; muted: boolean }
	/** The server closed one of the peer's producers: the server API took away its permission to publish. */
	| { type: 'producerClosed'; producerId: string; reason: 'notPermitted' }
	/** The server API changed a peer's metadata (to every peer of the room, that peer too). */
	| { type: 'peerUpdated'; peerId: string; metadata: string }
	/** The server API changed what the peer may do. */
	| { type: 'permissions'; canPublish: boolean; canSubscribe: boolean }
	/** A data message of the server API, to the room or to some of its participants. */
	| { type: 'data'; data: string; topic?: string };

/**
 * How a room reaches a peer's client. The signaling layer implements it over
 * the peer's socket; while the peer is disconnected it has none.
 */
export interface PeerLink {
	notify(notice: PeerNotice): void;
	/**
	 * Offers a paused consumer to the client. Resolves once the client
	 * acknowledged it (the room then resumes it); rejects on refusal or timeout.
	 */
	offer(consumer: ms.Consumer<ConsumerAppData>): Promise<void>;
}

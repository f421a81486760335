import { randomBytes, randomUUID } from 'node:crypto';
import type { Claims } from '../auth';
import type { ms } from '../media';
import type { ServerEventData, ServerEventName, Source } from '../signaling/protocol';

/**
 * How a room reaches a peer's client. The signaling layer implements it over
 * the peer's socket; while the peer is disconnected it has none.
 */
export type PeerConnection = {
	notify<N extends ServerEventName>(event: N, data: ServerEventData<N>): void;
	/** A request the client must acknowledge; rejects on refusal or timeout. */
	request(event: 'consumer.new', data: ServerEventData<'consumer.new'>): Promise<void>;
};

export type TransportDirection = 'send' | 'recv';
/** `plain`: a PlainTransport of a load generator (transport.createPlain); otherwise WebRTC. */
export type TransportAppData = { peerId: string; direction: TransportDirection; plain?: boolean };
/** A peer's transport: WebRTC, or plain RTP for a load generator (transport.createPlain). */
export type PeerTransport = ms.WebRtcTransport<TransportAppData> | ms.PlainTransport<TransportAppData>;
export type ProducerAppData = { peerId: string; source: Source; transportId?: string };
export type ConsumerAppData = { peerId: string; producerPeerId: string; source: Source };

/**
 * A participant of a room. It owns its transports; mediasoup closes a
 * transport's producers and consumers with it. Bookkeeping maps follow the
 * objects' own close events, so whatever closes them, the peer forgets them.
 */
export class Peer {
	readonly id = randomUUID();
	/** Secret that lets a reconnecting client take this peer back (room.resume). */
	readonly resumeToken = randomBytes(24).toString('base64url');
	/**
	 * The RTCP CNAME of all this peer's producers, chosen by the node: the one
	 * a client sends is dropped, since mediasoup copies it into every consumer
	 * and the receiving browsers' SDP. One per peer, so that a receiver
	 * synchronises the peer's audio with its video.
	 */
	readonly cname = randomBytes(12).toString('base64url');
	readonly displayName: string;
	readonly claims: Claims;
	readonly rtpCapabilities: ms.RtpCapabilities;
	/** WebRTC transports, and PlainTransports of load generators (appData.plain). */
	readonly transports = new Map<string, PeerTransport>();
	readonly producers = new Map<string, ms.Producer<ProducerAppData>>();
	readonly consumers = new Map<string, ms.Consumer<ConsumerAppData>>();

	connection: PeerConnection | undefined;
	/** When its room.join arrived (ms), and when its first consumer was resumed. */
	readonly joinStartedAt: number;
	firstConsumerAt: number | undefined;
	/** Limits already reported to the client (limit.exceeded is sent once each). */
	readonly limitsReached = new Set<string>();
	/**
	 * Producers a consumer is being made of for this peer, so two passes cannot
	 * make two; `again` when another pass was asked for meanwhile.
	 */
	readonly consuming = new Map<string, { again: boolean }>();
	/** Consumers offered with consumer.new and not acknowledged yet. */
	readonly pendingConsumers = new Set<string>();
	/** Set while the connection is gone and the peer waits for room.resume. */
	reconnectTimer: NodeJS.Timeout | undefined;
	#closed = false;

	constructor(options: { displayName: string; claims: Claims; rtpCapabilities: ms.RtpCapabilities; connection: PeerConnection; joinStartedAt?: number }) {
		this.joinStartedAt = options.joinStartedAt ?? Date.now();
		this.displayName = options.displayName;
		this.claims = options.claims;
		this.rtpCapabilities = options.rtpCapabilities;
		this.connection = options.connection;
	}

	get closed(): boolean {
		return this.#closed;
	}

	/** The transport this peer receives on (the most recent, if it made several). */
	get recvTransport(): PeerTransport | undefined {
		let found: PeerTransport | undefined;
		for (const transport of this.transports.values()) {
			if (transport.appData.direction === 'recv') {
				found = transport;
			}
		}
		return found;
	}

	notify<N extends ServerEventName>(event: N, data: ServerEventData<N>): void {
		this.connection?.notify(event, data);
	}

	/** Closes every transport (and so every producer and consumer). Idempotent. */
	close(): void {
		if (this.#closed) {
			return;
		}
		this.#closed = true;
		clearTimeout(this.reconnectTimer);
		this.connection = undefined;
		for (const transport of this.transports.values()) {
			transport.close();
		}
		this.transports.clear();
		this.producers.clear();
		this.consumers.clear();
	}
}

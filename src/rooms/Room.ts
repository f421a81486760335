import type { Claims } from '../auth';
import { AppError, InvalidStateError } from '../errors';
import type { Logger } from '../logging';
import { MEDIA_CODECS, turnServers, type IceServer, type MediaWorker, type ms, type WorkerPool } from '../media';
import { TypedEmitter } from '../util';
import { Peer, type PlainTransportOptions, type ProduceOptions } from './Peer';
import type { PeerLink, PeerNotice } from './PeerLink';
import { PolicyApplier, type PolicyEvents } from './PolicyApplier';
import type { RoomRouter } from './RoomRouter';
import { localProducer } from './RoomProducer';
import { RoomRouters } from './RoomRouters';
import { SpeakerWatcher } from './SpeakerWatcher';
import type { PeerLimit, ProducerAppData, RoomConfig, TransportAppData, TransportDirection } from './types';

export type CloseReason = 'empty' | 'shutdown';

/** For the room's owner (the registry). */
export type RoomEvents = {
	/** A peer left for good (room.leave, or its reconnect grace expired), after the others were told. Not when the room closes. */
	peerLeft: [peer: Peer];
	/** The room closed; every peer has been closed first. */
	closed: [reason: CloseReason];
};

/** What the room does, for outside watchers (metrics). */
export type RoomObserverEvents = PolicyEvents & {
	/** A peer joined; after the others were told. */
	peerJoined: [peer: Peer];
	/** A peer's first consumer was resumed, `seconds` after its room.join arrived. */
	firstConsumer: [peer: Peer, seconds: number];
	/** A per-peer limit kept the room from doing something. */
	limitReached: [limit: PeerLimit];
	/** One of the room's routers was lost with its worker; its peers were asked to reconnect. */
	routerLost: [worker: MediaWorker, peers: number];
};

export type RoomOptions = {
	id: string;
	pool: WorkerPool;
	config: RoomConfig;
	logger: Logger;
};

export type JoinOptions = { displayName: string; claims: Claims; rtpCapabilities: ms.RtpCapabilities; link: PeerLink; joinStartedAt?: number };

/** A new WebRTC transport, and what its client needs besides: ICE servers (TURN credentials for the peer) and the ICE policy. */
export type WebRtcTransportOffer = { transport: ms.WebRtcTransport<TransportAppData>; iceServers: IceServer[]; iceTransportPolicy: 'all' | 'relay' };

/**
 * A room: its peers and its routers. It starts on one router on the
 * least-loaded worker; when that router carries `rooms.routerConsumerLimit`
 * consumers, new peers get a router of the same room on another worker, and
 * producers are piped between the room's routers on demand. A router lost
 * with its worker takes only its own peers' media: they are asked to
 * reconnect and get a router on a healthy worker; the others keep theirs.
 * The room closes once empty for `rooms.emptyCloseGraceMs`.
 *
 * It owns its peers (which own their transports, producers and
 * subscriptions), its routers, the speaker watcher and the policy applier;
 * what crosses peers (a producer offered to the others, its consumers closed
 * with it) is done here.
 */
export class Room {
	readonly id: string;
	readonly events: TypedEmitter<RoomEvents>;
	readonly observer: TypedEmitter<RoomObserverEvents>;

	readonly #config: RoomConfig;
	readonly #logger: Logger;
	readonly #policy: PolicyApplier;
	readonly #speaker: SpeakerWatcher;
	readonly #peers = new Map<string, Peer>();
	/** Peers being placed: they count against maxPeers and hold a seat before they are in #peers. */
	readonly #joining = new Set<Peer>();
	readonly #routers: RoomRouters;
	#emptyTimer: NodeJS.Timeout | undefined;
	#closed = false;

	private constructor(options: RoomOptions) {
		this.id = options.id;
		this.#config = options.config;
		this.#logger = options.logger.child({ module: 'rooms', roomId: options.id });
		const onListenerError = (event: string, error: unknown) => this.#logger.error('room listener failed', { event, error });
		this.events = new TypedEmitter(onListenerError);
		this.observer = new TypedEmitter(onListenerError);
		this.#speaker = new SpeakerWatcher({ intervalMs: options.config.media.activeSpeakerIntervalMs, logger: this.#logger });
		this.#policy = new PolicyApplier({
			peers: () => this.#peers.values(),
			activeSpeaker: () => this.#speaker.peerId,
			config: options.config.policy,
			maxIncomingBitrate: options.config.media.maxIncomingBitrate,
			logger: this.#logger,
			observer: this.observer,
		});
		this.#routers = new RoomRouters({
			roomId: options.id,
			pool: options.pool,
			consumerLimit: options.config.rooms.routerConsumerLimit,
			speaker: this.#speaker,
			peers: () => [...this.#peers.values(), ...this.#joining],
			onLost: (worker, peers) => this.observer.safeEmit('routerLost', worker, peers),
			logger: this.#logger,
		});
		this.#speaker.events.on('speaker', (peerId, producerId) => {
			this.#broadcast({ type: 'activeSpeaker', peerId, producerId });
			this.#policy.schedule();
		});
	}

	/** A room with its first router on the pool's least-loaded worker. */
	static async create(options: RoomOptions): Promise<Room> {
		const room = new Room(options);
		const router = await room.#routers.first();
		room.#logger.info('room created', { worker: router.worker.index });
		// NOTE: empty from birth: a room whose first join fails (or never comes)
		// closes like one everyone left. The first join cancels this.
		room.#scheduleCloseIfEmpty();
		return room;
	}

	get closed(): boolean {
		return this.#closed;
	}

	get peers(): ReadonlyMap<string, Peer> {
		return this.#peers;
	}

	/** The room's live routers. */
	get routers(): readonly RoomRouter[] {
		return this.#routers.all;
	}

	/** The router the peer is seated on (Peer.router), for tests and operators. */
	routerOf(peer: Peer): RoomRouter | undefined {
		return peer.router;
	}

	/** Consumers the bitrate policy has paused now, for metrics. */
	get policyPausedConsumers(): number {
		return this.#policy.pausedCount;
	}

	/** Adds a peer on a router chosen for it, and tells the others. @throws room_full */
	async join(options: JoinOptions): Promise<Peer> {
		this.#assertOpen();
		// NOTE: peers still being placed count against maxPeers.
		if (this.#peers.size + this.#joining.size >= this.#config.rooms.maxPeers) {
			throw new AppError('room_full');
		}
		if (!hasUsableCodec(options.rtpCapabilities)) {
			throw new AppError('validation_failed', 'rtpCapabilities: no codec in common with the room');
		}
		const peer = new Peer({ ...options, config: this.#config, policy: this.#policy, logger: this.#logger });
		clearTimeout(this.#emptyTimer);
		this.#emptyTimer = undefined;
		this.#joining.add(peer);
		try {
			await this.#routers.place(peer);
		} catch (error) {
			this.#joining.delete(peer);
			this.#scheduleCloseIfEmpty();
			throw error;
		}
		this.#joining.delete(peer);
		this.#broadcast({ type: 'peerJoined', peer });
		this.#peers.set(peer.id, peer);
		const subscriptions = peer.subscriptions.events;
		subscriptions.on('firstConsumer', (seconds) => this.observer.safeEmit('firstConsumer', peer, seconds));
		subscriptions.on('limitReached', (limit) => this.observer.safeEmit('limitReached', limit));
		subscriptions.on('roomForMore', () => {
			if (!this.#closed) {
				this.#consumeAll(peer);
			}
		});
		this.#logger.info('peer joined', { peerId: peer.id, peers: this.#peers.size, worker: peer.router?.worker.index });
		this.#policy.schedule();
		this.observer.safeEmit('peerJoined', peer);
		return peer;
	}

	/**
	 * Removes a peer for good: closes all it had and tells the others.
	 * Idempotent. `removed`: the peer lost its access (a call's party hung up).
	 */
	leave(peer: Peer, why: 'left' | 'timeout' | 'removed' = 'left'): void {
		if (!this.#peers.delete(peer.id)) {
			return;
		}
		for (const producer of peer.producers.values()) {
			this.#unsubscribeAll(producer.id);
		}
		peer.close();
		this.#routers.unplace(peer);
		this.#logger.info('peer left', { peerId: peer.id, why, peers: this.#peers.size });
		this.#broadcast({ type: 'peerLeft', peerId: peer.id });
		if (this.#speaker.peerId === peer.id) {
			this.#speaker.clear();
			this.#broadcast({ type: 'activeSpeaker', peerId: null, producerId: null });
		}
		this.#policy.schedule();
		this.events.safeEmit('peerLeft', peer);
		this.#scheduleCloseIfEmpty();
	}

	/**
	 * The peer's connection dropped: it keeps its place (and its media objects)
	 * for `rooms.reconnectGraceMs`, then leaves. The others see nothing.
	 */
	disconnected(peer: Peer): void {
		if (peer.closed || !this.#peers.has(peer.id)) {
			return;
		}
		peer.disconnected(this.#config.rooms.reconnectGraceMs, () => this.leave(peer, 'timeout'));
		this.#logger.info('peer disconnected', { peerId: peer.id, graceMs: this.#config.rooms.reconnectGraceMs });
	}

	/**
	 * A disconnected peer is back on a new link. Consumers it missed while
	 * away are created now on its receive transport, if it kept one.
	 */
	resumed(peer: Peer, link: PeerLink): void {
		this.#assertOpen();
		this.#logger.info('peer resumed', { peerId: peer.id });
		peer.resumed(link);
		this.#consumeAll(peer);
	}

	async createTransport(peer: Peer, direction: TransportDirection): Promise<WebRtcTransportOffer> {
		const router = await this.#routerForTransport(peer);
		const transport = await peer.createWebRtcTransport(router, direction);
		if (direction === 'recv') {
			this.#consumeAll(peer);
		}
		return {
			transport,
			iceServers: turnServers(this.#config.turn, peer.id),
			iceTransportPolicy: this.#config.turn.relayOnly ? 'relay' : 'all',
		};
	}

	/**
	 * A PlainTransport with SRTP for a load generator: plain RTP instead of ICE
	 * and DTLS, and otherwise the same room, limits, consumer offers and
	 * metrics as a WebRTC transport. The caller checks the token's loadtest grant.
	 */
	async createPlainTransport(peer: Peer, options: PlainTransportOptions): Promise<ms.PlainTransport<TransportAppData>> {
		const router = await this.#routerForTransport(peer);
		const transport = await peer.createPlainTransport(router, options);
		if (options.direction === 'recv') {
			this.#consumeAll(peer);
		}
		return transport;
	}

	/** A producer of `peer`, offered to every other peer. */
	async produce(peer: Peer, options: ProduceOptions): Promise<ms.Producer<ProducerAppData>> {
		this.#assertOpen();
		const producer = await peer.produce(options);
		producer.observer.once('close', () => {
			// NOTE: the worker reports producerclose to the consumers later; closing
			// them now means clients see consumer.closed before peer.left.
			this.#unsubscribeAll(producer.id);
			this.#speaker.forget(producer.id);
		});
		const source = peer.routerOfProducer(producer.id);
		if (source) {
			const offered = localProducer(producer, source);
			void this.#speaker.watch(offered);
			for (const other of this.#peers.values()) {
				if (other !== peer) {
					void other.subscriptions.subscribe(offered);
				}
			}
		}
		this.#policy.schedule();
		return producer;
	}

	/**
	 * Closes a producer, its consumers first. NOTE: in this order the worker
	 * still has the consumers when asked to close them; closing the producer
	 * first makes the worker drop them itself, and every consumer close that
	 * follows fails there ("Consumer not found").
	 */
	closeProducer(peer: Peer, producerId: string): void {
		const producer = peer.producerOf(producerId);
		this.#unsubscribeAll(producer.id);
		producer.close();
	}

	/** Closes a transport, the consumers of its producers first (see closeProducer). */
	closeTransport(peer: Peer, transportId: string): void {
		const transport = peer.transportOf(transportId);
		for (const producer of peer.producers.values()) {
			if (producer.appData.transportId === transportId) {
				this.#unsubscribeAll(producer.id);
			}
		}
		transport.close();
	}

	/** Caps what the node sends a peer, as a slow downlink would. For operators and tests. @throws not_found */
	async capDownlink(peer: Peer, bps: number): Promise<void> {
		await peer.capDownlink(bps);
	}

	/** How the client shows one of its consumers: the tile's height in CSS pixels, and whether it is visible. @throws not_found */
	setViewport(peer: Peer, consumerId: string, viewport: { height: number; visible: boolean }): void {
		peer.subscriptions.get(consumerId).policy.setViewport(viewport);
	}

	/** @throws not_found */
	setPinned(peer: Peer, consumerId: string, pinned: boolean): void {
		peer.subscriptions.get(consumerId).policy.setPinned(pinned);
	}

	/** The layers the client asked for itself: the policy never goes above them. @throws not_found */
	setClientMax(peer: Peer, consumerId: string, layers: { spatialLayer: number; temporalLayer?: number }): void {
		peer.subscriptions.get(consumerId).policy.setClientMax(layers);
	}

	/** Closes the room: every peer, then every router. Idempotent. */
	close(reason: CloseReason): void {
		if (this.#closed) {
			return;
		}
		this.#closed = true;
		clearTimeout(this.#emptyTimer);
		this.#policy.close();
		for (const peer of this.#peers.values()) {
			peer.close();
		}
		this.#peers.clear();
		this.#routers.close();
		this.#logger.info('room closed', { reason });
		this.events.safeEmit('closed', reason);
	}

	#assertOpen(): void {
		if (this.#closed) {
			throw new InvalidStateError('the room is closed');
		}
	}

	#scheduleCloseIfEmpty(): void {
		if (this.#peers.size === 0 && this.#joining.size === 0 && !this.#closed && !this.#emptyTimer) {
			this.#emptyTimer = setTimeout(() => this.close('empty'), this.#config.rooms.emptyCloseGraceMs);
		}
	}

	#broadcast(notice: PeerNotice): void {
		for (const peer of this.#peers.values()) {
			peer.notify(notice);
		}
	}

	#unsubscribeAll(producerId: string): void {
		for (const peer of this.#peers.values()) {
			peer.subscriptions.unsubscribe(producerId);
		}
	}

	/** Subscribes `peer` to every producer of the others it does not consume yet. */
	#consumeAll(peer: Peer): void {
		const consumed = peer.subscriptions.producerIds();
		for (const other of this.#peers.values()) {
			if (other === peer) {
				continue;
			}
			for (const producer of other.producers.values()) {
				const source = other.routerOfProducer(producer.id);
				if (!consumed.has(producer.id) && source) {
					void peer.subscriptions.subscribe(localProducer(producer, source));
				}
			}
		}
	}

	/** The peer's router for a new transport. @throws limit_exceeded at rooms.maxTransportsPerPeer */
	async #routerForTransport(peer: Peer): Promise<RoomRouter> {
		this.#assertOpen();
		peer.checkTransportLimit();
		return this.#routers.of(peer);
	}
}

function hasUsableCodec(rtpCapabilities: ms.RtpCapabilities): boolean {
	return (rtpCapabilities.codecs ?? []).some((codec) =>
		MEDIA_CODECS.some((c) => c.mimeType.toLowerCase() === codec.mimeType.toLowerCase()));
}

import type { Claims } from '../auth';
import { AppError, InvalidStateError } from '../errors';
import type { Logger } from '../logging';
import { turnServers, type IceServer, type MediaWorker, type ms, type WorkerPool } from '../media';
import { TypedEmitter } from '../util';
import { Peer, type PlainTransportOptions, type ProduceOptions } from './Peer';
import { assertE2eeFits, hasUsableCodec } from './joinRules';
import type { PeerIdentity, PeerLink, PeerNotice } from './PeerLink';
import { PolicyApplier, type PolicyEvents } from './PolicyApplier';
import { RoomExchange, type RoomElsewhere } from './RoomExchange';
import { localProducer } from './RoomProducer';
import type { RoomRouter } from './RoomRouter';
import { RoomRouters } from './RoomRouters';
import { SpeakerWatcher, type Speaker } from './SpeakerWatcher';
import type { PeerLimit, ProducerAppData, RoomConfig, TransportAppData, TransportDirection } from './types';

export type CloseReason = 'empty' | 'shutdown';

/** For the room's owner (the registry). */
export type RoomEvents = {
	/** A peer left for good (room.leave, or its reconnect grace expired), after the others were told. Not when the room closes. */
	peerLeft: [peer: Peer];
	/** The room closed; every peer has been closed first. */
	closed: [reason: CloseReason];
	/** What this node's part of the room says changed (peers, producers, speaker, needs): RoomSpan tells the other nodes. */
	changed: [];
};

/** What the room does, for outside watchers (metrics). */
export type RoomObserverEvents = PolicyEvents & {
	/** A peer joined; after the others were told. */
	peerJoined: [peer: Peer];
	/** A peer here published a producer, now offered to the others; its observer's 'close' ends it. */
	produced: [peer: Peer, producer: ms.Producer<ProducerAppData>];
	/** A peer's first consumer was resumed, `seconds` after its room.join arrived. */
	firstConsumer: [peer: Peer, seconds: number];
	/** A per-peer limit kept the room from doing something. */
	limitReached: [limit: PeerLimit];
	/** One of the room's routers was lost with its worker; its peers were asked to reconnect. */
	routerLost: [worker: MediaWorker, peers: number];
};

export type RoomOptions = { id: string; pool: WorkerPool; config: RoomConfig; logger: Logger };

export type JoinOptions = { displayName: string; e2ee?: boolean; identity?: PeerIdentity; claims: Claims; rtpCapabilities: ms.RtpCapabilities; link: PeerLink; joinStartedAt?: number };

/** A new WebRTC transport, and what its client needs besides: ICE servers (TURN credentials for the peer) and the ICE policy. */
export type WebRtcTransportOffer = { transport: ms.WebRtcTransport<TransportAppData>; iceServers: IceServer[]; iceTransportPolicy: 'all' | 'relay' };

/**
 * A room: its peers and its routers. It starts on one router on the
 * least-loaded worker; when that router carries `rooms.routerConsumerLimit`
 * consumers, new peers get a router of the same room on another worker, and
 * producers are piped between the room's routers on demand. A router lost
 * with its worker takes only its own peers' media: they are asked to
 * reconnect and get a router on a healthy worker; the others keep theirs.
 * The room closes once empty for `rooms.emptyCloseGraceMs`. In a fleet, a
 * room can span nodes (RoomSpan.ts): each node has a Room with the peers it
 * hosts, and its exchange offers the other nodes' producers here too.
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
	/** What crosses its peers, here and on other nodes: producers offered, consumers closed with them. */
	readonly exchange: RoomExchange;
	/** Whether the speaker watcher runs here: always on a node alone; in a fleet, on the room's home node. */
	#home = true;
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
		this.exchange = new RoomExchange({
			peers: () => this.#peers.values(),
			speaker: this.#speaker,
			policy: () => this.#policy,
			broadcast: (notice) => this.#broadcast(notice),
			changed: () => this.events.safeEmit('changed'),
		});
		this.#policy = new PolicyApplier({
			peers: () => this.#peers.values(),
			roomSize: () => this.size,
			elsewhere: this.exchange.policyElsewhere,
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
			producers: () => this.exchange.producers(),
			speakerHere: () => this.#home,
			onLost: (worker, peers) => this.observer.safeEmit('routerLost', worker, peers),
			logger: this.#logger,
		});
		this.#speaker.events.on('speaker', (speaker) => {
			this.#broadcast({ type: 'activeSpeaker', peerId: speaker?.peerId ?? null, producerId: speaker?.producerId ?? null });
			this.#policy.schedule();
			if (this.#home) {
				this.events.safeEmit('changed');
			}
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

	/** Its peers on this node. */
	get peers(): ReadonlyMap<string, Peer> {
		return this.#peers;
	}

	/** Its peers on every node. */
	get size(): number {
		return this.#peers.size + this.exchange.remoteSize;
	}

	/** The room's live routers. */
	get routers(): readonly RoomRouter[] {
		return this.#routers.all;
	}

	/** Consumers the bitrate policy has paused now, for metrics. */
	get policyPausedConsumers(): number {
		return this.#policy.pausedCount;
	}

	/** Adds a peer on a router chosen for it, and tells the others. @throws room_full, e2ee_mismatch */
	async join(options: JoinOptions): Promise<Peer> {
		this.#assertOpen();
		// NOTE: peers still being placed count against maxPeers.
		if (this.size + this.#joining.size >= this.#config.rooms.maxPeers) {
			throw new AppError('room_full');
		}
		assertE2eeFits([...this.exchange.everyone(), ...this.#joining], options.e2ee ?? false, this.#config.rooms.e2eeMaxPeers);
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
		subscriptions.on('roomForMore', () => !this.#closed && this.exchange.consumeAll(peer));
		this.#logger.info('peer joined', { peerId: peer.id, peers: this.#peers.size, worker: peer.router?.worker.index });
		this.#policy.schedule();
		this.observer.safeEmit('peerJoined', peer);
		this.events.safeEmit('changed');
		// NOTE: who speaks now, after the join's answer (on the turn after): otherwise a newcomer waits for the next change.
		setImmediate((speaker) => speaker && !peer.closed && peer.notify({ type: 'activeSpeaker', ...speaker }), this.#speaker.speaker);
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
			this.exchange.withdraw(producer.id);
		}
		peer.close();
		this.#routers.unplace(peer);
		this.#logger.info('peer left', { peerId: peer.id, why, peers: this.#peers.size });
		this.#broadcast({ type: 'peerLeft', peerId: peer.id });
		this.#speaker.left(peer.id);
		this.#policy.schedule();
		this.events.safeEmit('peerLeft', peer);
		this.events.safeEmit('changed');
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
		this.exchange.consumeAll(peer);
	}

	async createTransport(peer: Peer, direction: TransportDirection): Promise<WebRtcTransportOffer> {
		const router = await this.#routerForTransport(peer);
		const transport = await peer.createWebRtcTransport(router, direction);
		if (direction === 'recv') {
			this.exchange.consumeAll(peer);
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
			this.exchange.consumeAll(peer);
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
			this.exchange.withdraw(producer.id);
			this.events.safeEmit('changed');
		});
		(['pause', 'resume'] as const).forEach((event) => producer.observer.on(event, () => this.events.safeEmit('changed')));
		const source = peer.routerOfProducer(producer.id);
		if (source) {
			this.exchange.offer(localProducer(producer, source));
		}
		this.events.safeEmit('changed');
		this.observer.safeEmit('produced', peer, producer);
		return producer;
	}

	/** Spans the room over nodes: `elsewhere` are its peers on the others; the speaker watcher stops until setHome(true). */
	span(elsewhere: RoomElsewhere): void {
		this.exchange.span(elsewhere);
		this.setHome(false);
	}

	/** Whether this node is the room's home, where its speaker watcher runs (always, alone). */
	get home(): boolean {
		return this.#home;
	}

	setHome(home: boolean): void {
		if (home !== this.#home && !this.#closed) {
			this.#home = home;
			this.#logger.info(home ? 'room home here' : 'room home elsewhere');
			if (home) {
				void this.#routers.startSpeaker();
			} else {
				this.#speaker.stop();
			}
			this.events.safeEmit('changed');
		}
	}

	/** The active speaker, if any. */
	get speaker(): Speaker | null {
		return this.#speaker.speaker;
	}

	/** The speaker as the room's home node says (ignored on the home itself). */
	setSpeaker(speaker: Speaker | null): void {
		if (!this.#home) {
			this.#speaker.set(speaker);
		}
	}

	/**
	 * Closes a producer, its consumers first. NOTE: in this order the worker
	 * still has the consumers when asked to close them; closing the producer
	 * first makes the worker drop them itself, and every consumer close that
	 * follows fails there ("Consumer not found").
	 */
	closeProducer(peer: Peer, producerId: string): void {
		const producer = peer.producerOf(producerId);
		this.exchange.withdraw(producer.id);
		producer.close();
	}

	/** Closes a transport, the consumers of its producers first (see closeProducer). */
	closeTransport(peer: Peer, transportId: string): void {
		const transport = peer.transportOf(transportId);
		for (const producer of peer.producers.values()) {
			if (producer.appData.transportId === transportId) {
				this.exchange.withdraw(producer.id);
			}
		}
		transport.close();
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

	/** The peer's router for a new transport. @throws limit_exceeded at rooms.maxTransportsPerPeer */
	async #routerForTransport(peer: Peer): Promise<RoomRouter> {
		this.#assertOpen();
		peer.checkTransportLimit();
		return this.#routers.of(peer);
	}
}


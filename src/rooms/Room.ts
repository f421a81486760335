import type { Claims } from '../auth';
import type { MediaConfig, PolicyConfig, RoomsConfig, TurnConfig } from '../config';
import { AppError, InvalidStateError, NotFoundError } from '../errors';
import type { Logger } from '../logging';
import { fromMediasoupError, MEDIA_CODECS, turnServers, type MediaWorker, type ms, type WorkerPool } from '../media';
import type { PeerInfo, ProducerInfo, Source, TransportInfo } from '../signaling/protocol';
import { SerialQueue, throttle, TypedEmitter } from '../util';
import { Peer, type ConsumerAppData, type PeerTransport, type PeerConnection, type ProducerAppData, type TransportAppData, type TransportDirection } from './Peer';
import { PolicyApplier } from './PolicyApplier';
import { RoomRouter } from './RoomRouter';

export type CloseReason = 'empty' | 'shutdown';

export type PlainTransportOptions = {
	direction: TransportDirection;
	/** The generator's SRTP key: what it encrypts with (send) or expects (recv). */
	srtpParameters: ms.SrtpParameters;
	/** Where a receive transport sends; a send transport learns it (comedia). */
	remote?: { ip: string; port: number };
};

export type PlainTransportInfo = { id: string; direction: TransportDirection; ip: string; port: number; srtpParameters: ms.SrtpParameters };

export type RoomEvents = {
	/** A peer joined; sent after the others were told. */
	peerJoined: [peer: Peer];
	/** A peer left for good (leave, reconnect grace expired, room closed). */
	peerLeft: [peer: Peer];
	/** A peer's first consumer was resumed, `seconds` after its room.join arrived. */
	firstConsumer: [peer: Peer, seconds: number];
	/** A per-peer limit kept the room from doing something. */
	limitReached: [limit: 'consumersPerPeer'];
	/** One of the room's routers was lost with its worker; its peers were asked to reconnect. */
	routerLost: [worker: MediaWorker, peers: number];
	/** The room closed; every peer has been closed first. */
	closed: [reason: CloseReason];
};

/** The config sections a room reads. */
export type RoomConfig = { rooms: RoomsConfig; media: MediaConfig; turn: TurnConfig; policy: PolicyConfig };

export type RoomOptions = {
	id: string;
	pool: WorkerPool;
	config: RoomConfig;
	logger: Logger;
};

/**
 * A room: its peers and its routers. It starts on one router on the
 * least-loaded worker; when that router carries `rooms.routerConsumerLimit`
 * consumers, new peers get a router of the same room on another worker, and
 * producers are piped between the room's routers on demand. A router lost
 * with its worker takes only its own peers' media: they are asked to
 * reconnect and get a router on a healthy worker; the others keep theirs.
 * The room closes once empty for `rooms.emptyCloseGraceMs`.
 */
export class Room {
	readonly id: string;
	readonly peers = new Map<string, Peer>();
	readonly events: TypedEmitter<RoomEvents>;
	readonly observer: TypedEmitter<RoomEvents>;
	/** The bitrate and simulcast policy, applied to this room's consumers. */
	readonly policy: PolicyApplier;

	readonly #pool: WorkerPool;
	readonly #config: RoomOptions['config'];
	readonly #logger: Logger;
	readonly #routers = new Set<RoomRouter>();
	/** The router of each peer and of each producer. */
	readonly #peerRouters = new Map<Peer, RoomRouter>();
	readonly #producerRouters = new Map<string, RoomRouter>();
	/** Placement creates routers: one at a time, so two joins cannot make two. */
	readonly #placement = new SerialQueue();
	/** The router whose ActiveSpeakerObserver watches every audio producer. */
	#speaker: { router: RoomRouter; observer: ms.ActiveSpeakerObserver } | undefined;
	#emptyTimer: NodeJS.Timeout | undefined;
	#joining = 0;
	readonly #connected = new WeakSet<ms.Transport>();
	#activeSpeaker: string | null = null;
	#closed = false;
	/** Routers the room closes itself; any other router closing was lost with its worker. */
	readonly #retiring = new WeakSet<RoomRouter>();

	private constructor(options: RoomOptions) {
		this.id = options.id;
		this.#pool = options.pool;
		this.#config = options.config;
		this.#logger = options.logger.child({ module: 'rooms', roomId: options.id });
		const onListenerError = (event: string, error: unknown) => this.#logger.error('room listener failed', { event, error });
		this.events = new TypedEmitter(onListenerError);
		this.observer = new TypedEmitter(onListenerError);
		this.policy = new PolicyApplier({
			peers: () => this.peers.values(),
			activeSpeaker: () => this.#activeSpeaker,
			config: options.config.policy,
			maxIncomingBitrate: options.config.media.maxIncomingBitrate,
			logger: this.#logger,
		});
	}

	/** A room with its first router on the pool's least-loaded worker. */
	static async create(options: RoomOptions): Promise<Room> {
		const room = new Room(options);
		const router = await room.#addRouter(options.pool.pickWorker());
		room.#logger.info('room created', { worker: router.worker.index });
		// NOTE: empty from birth: a room whose first join fails (or never comes)
		// closes like one everyone left. The first join cancels this.
		room.#scheduleCloseIfEmpty();
		return room;
	}

	get closed(): boolean {
		return this.#closed;
	}

	/** The room's live routers. */
	get routers(): readonly RoomRouter[] {
		return [...this.#routers];
	}

	routerOf(peer: Peer): RoomRouter | undefined {
		return this.#peerRouters.get(peer);
	}

	/** Adds a peer on a router chosen for it, and tells the others. @throws room_full */
	async join(options: { displayName: string; claims: Claims; rtpCapabilities: ms.RtpCapabilities; connection: PeerConnection; joinStartedAt?: number }): Promise<Peer> {
		this.#assertOpen();
		// NOTE: peers still being placed count against maxPeers.
		if (this.peers.size + this.#joining >= this.#config.rooms.maxPeers) {
			throw new AppError('room_full');
		}
		if (!hasUsableCodec(options.rtpCapabilities)) {
			throw new AppError('validation_failed', 'rtpCapabilities: no codec in common with the room');
		}
		const peer = new Peer(options);
		clearTimeout(this.#emptyTimer);
		this.#emptyTimer = undefined;
		this.#joining++;
		try {
			await this.#place(peer);
		} catch (error) {
			this.#joining--;
			this.#scheduleCloseIfEmpty();
			throw error;
		}
		this.#joining--;
		this.#broadcast('peer.joined', { peer: this.peerInfo(peer) });
		this.peers.set(peer.id, peer);
		this.#logger.info('peer joined', { peerId: peer.id, peers: this.peers.size, worker: this.#peerRouters.get(peer)?.worker.index });
		this.policy.schedule();
		this.events.safeEmit('peerJoined', peer);
		this.observer.safeEmit('peerJoined', peer);
		return peer;
	}

	/**
	 * Removes a peer for good: closes all it had and tells the others.
	 * Idempotent. `removed`: the peer lost its access (a call's party hung up).
	 */
	leave(peer: Peer, why: 'left' | 'timeout' | 'removed' = 'left'): void {
		if (!this.peers.delete(peer.id)) {
			return;
		}
		for (const producer of peer.producers.values()) {
			this.#closeConsumersOf(producer.id);
		}
		peer.close();
		this.#unplace(peer);
		this.#logger.info('peer left', { peerId: peer.id, why, peers: this.peers.size });
		this.#broadcast('peer.left', { peerId: peer.id });
		if (this.#activeSpeaker === peer.id) {
			this.#activeSpeaker = null;
			this.#broadcast('room.activeSpeaker', { peerId: null, producerId: null });
		}
		this.policy.forgetPeer(peer.id);
		this.policy.schedule();
		this.events.safeEmit('peerLeft', peer);
		this.observer.safeEmit('peerLeft', peer);
		this.#scheduleCloseIfEmpty();
	}

	/**
	 * Caps what the node sends a peer (its receive transport's max outgoing
	 * bitrate), as a slow downlink would; the policy fits the peer's video
	 * into it, audio first. For operators and tests. @throws not_found
	 */
	async capDownlink(peer: Peer, bps: number): Promise<void> {
		const transport = peer.recvTransport;
		if (!transport) {
			throw new NotFoundError('the peer has no receive transport');
		}
		await transport.setMaxOutgoingBitrate(bps);
		this.policy.setDownlinkCap(peer.id, bps);
	}

	/**
	 * The peer's connection dropped: it keeps its place (and its media objects)
	 * for `rooms.reconnectGraceMs`, then leaves. The others see nothing.
	 */
	disconnected(peer: Peer): void {
		if (peer.closed || !this.peers.has(peer.id)) {
			return;
		}
		peer.connection = undefined;
		clearTimeout(peer.reconnectTimer);
		peer.reconnectTimer = setTimeout(() => this.leave(peer, 'timeout'), this.#config.rooms.reconnectGraceMs);
		this.#logger.info('peer disconnected', { peerId: peer.id, graceMs: this.#config.rooms.reconnectGraceMs });
	}

	/**
	 * A disconnected peer is back on a new connection. Consumers it missed while
	 * away are created now on its receive transport, if it kept one.
	 */
	resumed(peer: Peer, connection: PeerConnection): void {
		this.#assertOpen();
		clearTimeout(peer.reconnectTimer);
		peer.reconnectTimer = undefined;
		peer.connection = connection;
		this.#logger.info('peer resumed', { peerId: peer.id });
		// NOTE: offers still unanswered went to the dead connection: the client
		// never saw them. Close them, so that they are offered again below.
		for (const consumerId of peer.pendingConsumers) {
			peer.consumers.get(consumerId)?.close();
		}
		peer.pendingConsumers.clear();
		this.#consumeAll(peer);
	}

	peerInfo(peer: Peer): PeerInfo {
		return {
			id: peer.id,
			displayName: peer.displayName,
			handle: peer.claims.handle,
			producers: [...peer.producers.values()].map(producerInfo),
		};
	}

	/** Everyone but `peer`, as the protocol describes them. */
	otherPeers(peer: Peer): PeerInfo[] {
		return [...this.peers.values()].filter((p) => p !== peer).map((p) => this.peerInfo(p));
	}

	async createTransport(peer: Peer, direction: TransportDirection): Promise<TransportInfo> {
		const roomRouter = await this.#routerForTransport(peer);
		const transport = await roomRouter.router.createWebRtcTransport<TransportAppData>({
			webRtcServer: roomRouter.worker.webRtcServer,
			enableUdp: true,
			enableTcp: true,
			preferUdp: true,
			initialAvailableOutgoingBitrate: this.#config.media.initialAvailableOutgoingBitrate,
			appData: { peerId: peer.id, direction },
		});
		if (direction === 'recv') {
			await this.#watchDownlink(peer, transport);
		}
		await this.#adoptTransport(peer, transport);
		return {
			id: transport.id,
			direction,
			iceParameters: transport.iceParameters,
			iceCandidates: transport.iceCandidates,
			dtlsParameters: transport.dtlsParameters,
			iceServers: turnServers(this.#config.turn, peer.id),
			iceTransportPolicy: this.#config.turn.relayOnly ? 'relay' : 'all',
		};
	}

	/**
	 * A PlainTransport with SRTP (AEAD_AES_256_GCM) for a load generator: plain
	 * RTP instead of ICE and DTLS, and otherwise the same room, limits, consumer
	 * offers and metrics as a WebRTC transport. A send transport learns the
	 * generator's address from its first packet (comedia); a receive transport
	 * sends to `remote`. The caller checks the token's loadtest grant.
	 */
	async createPlainTransport(peer: Peer, options: PlainTransportOptions): Promise<PlainTransportInfo> {
		const { direction, srtpParameters, remote } = options;
		const roomRouter = await this.#routerForTransport(peer);
		const transport = await roomRouter.router.createPlainTransport<TransportAppData>({
			listenIp: { ip: this.#config.media.listenIp, announcedIp: this.#config.media.announcedAddress ?? undefined },
			rtcpMux: true,
			comedia: direction === 'send',
			enableSrtp: true,
			srtpCryptoSuite: 'AEAD_AES_256_GCM',
			appData: { peerId: peer.id, direction, plain: true },
		});
		try {
			await transport.connect({ ...remote, srtpParameters });
		} catch (error) {
			transport.close();
			throw fromMediasoupError(error, 'srtpParameters');
		}
		await this.#adoptTransport(peer, transport);
		return {
			id: transport.id,
			direction,
			ip: transport.tuple.localIp,
			port: transport.tuple.localPort,
			// NOTE: mediasoup's PlainTransport always has them once enableSrtp is set.
			srtpParameters: transport.srtpParameters as ms.SrtpParameters,
		};
	}

	/**
	 * What the node may send a peer, and how much it can: the receive
	 * transport's max outgoing bitrate (policy.maxDownlinkBitrate) and its
	 * bandwidth estimate (bwe trace), both inputs of the policy.
	 */
	async #watchDownlink(peer: Peer, transport: ms.WebRtcTransport<TransportAppData>): Promise<void> {
		await transport.setMaxOutgoingBitrate(this.#config.policy.maxDownlinkBitrate);
		await transport.enableTraceEvent(['bwe']);
		transport.on('trace', (trace) => {
			if (trace.type === 'bwe' && transport === peer.recvTransport) {
				const info = trace.info as { availableBitrate: number; effectiveDesiredBitrate: number };
				this.policy.setDownlinkEstimate(peer.id, info.availableBitrate, info.effectiveDesiredBitrate);
			}
		});
	}

	/** The peer's router for a new transport. @throws limit_exceeded at rooms.maxTransportsPerPeer */
	async #routerForTransport(peer: Peer): Promise<RoomRouter> {
		this.#assertOpen();
		if (peer.transports.size >= this.#config.rooms.maxTransportsPerPeer) {
			throw new AppError('limit_exceeded', `at most ${this.#config.rooms.maxTransportsPerPeer} transports per peer`);
		}
		// A peer whose router was lost with its worker gets a new one here.
		return this.#peerRouters.get(peer) ?? await this.#place(peer);
	}

	/**
	 * Hands a new transport to its peer, which forgets it when it closes; a
	 * send transport gets the incoming bitrate cap, a receive transport the
	 * consumer offers. @throws invalid_state when the peer left meanwhile.
	 */
	async #adoptTransport(peer: Peer, transport: PeerTransport): Promise<void> {
		if (peer.closed) {
			transport.close();
			throw new InvalidStateError('the peer left');
		}
		peer.transports.set(transport.id, transport);
		// NOTE: the union's observers have incompatible signatures; 'close' is common to both.
		(transport.observer as ms.Transport['observer']).once('close', () => peer.transports.delete(transport.id));
		if (transport.appData.direction === 'send') {
			await transport.setMaxIncomingBitrate(this.#config.media.maxIncomingBitrate);
		} else {
			this.#consumeAll(peer);
		}
	}

	transportOf(peer: Peer, transportId: string): PeerTransport {
		const transport = peer.transports.get(transportId);
		if (!transport) {
			throw new NotFoundError('no such transport');
		}
		return transport;
	}

	/** One of the peer's WebRTC transports. @throws invalid_state for a plain one */
	webRtcTransportOf(peer: Peer, transportId: string): ms.WebRtcTransport<TransportAppData> {
		const transport = this.transportOf(peer, transportId);
		if (transport.appData.plain) {
			throw new InvalidStateError('a plain transport has no ICE or DTLS');
		}
		return transport as ms.WebRtcTransport<TransportAppData>;
	}

	async connectTransport(peer: Peer, transportId: string, dtlsParameters: ms.DtlsParameters): Promise<void> {
		const transport = this.webRtcTransportOf(peer, transportId);
		// NOTE: dtlsState stays "new" until DTLS starts, after connect() returned.
		if (transport.dtlsState !== 'new' || this.#connected.has(transport)) {
			throw new InvalidStateError('the transport is already connected');
		}
		this.#connected.add(transport);
		try {
			await transport.connect({ dtlsParameters });
		} catch (error) {
			this.#connected.delete(transport);
			throw fromMediasoupError(error, 'dtlsParameters');
		}
	}

	async produce(peer: Peer, options: { transportId: string; kind: ms.MediaKind; rtpParameters: ms.RtpParameters; source: Source; paused?: boolean }): Promise<ms.Producer<ProducerAppData>> {
		this.#assertOpen();
		const transport = this.transportOf(peer, options.transportId);
		const roomRouter = this.#peerRouters.get(peer);
		if (transport.appData.direction !== 'send' || !roomRouter) {
			throw new InvalidStateError('not a send transport');
		}
		if (peer.producers.size >= this.#config.rooms.maxProducersPerPeer) {
			throw new AppError('limit_exceeded', `at most ${this.#config.rooms.maxProducersPerPeer} producers per peer`);
		}
		if ([...peer.producers.values()].some((p) => p.appData.source === options.source)) {
			throw new InvalidStateError(`already producing ${options.source}`);
		}
		const expectedKind = options.source === 'mic' || options.source === 'screenAudio' ? 'audio' : 'video';
		if (options.kind !== expectedKind) {
			throw new AppError('validation_failed', `source ${options.source} must be ${expectedKind}`);
		}
		let producer: ms.Producer<ProducerAppData>;
		try {
			producer = await transport.produce<ProducerAppData>({
				kind: options.kind,
				// NOTE: the peer's cname, never the client's (see Peer.cname).
				rtpParameters: { ...options.rtpParameters, rtcp: { ...options.rtpParameters.rtcp, cname: peer.cname } },
				paused: options.paused ?? false,
				keyFrameRequestDelay: this.#config.policy.keyFrameRequestDelayMs,
				appData: { peerId: peer.id, source: options.source, transportId: transport.id },
			});
		} catch (error) {
			// NOTE: the worker refuses an SSRC, MID or RID already in use with a plain
			// error: every refusal here comes from the client's parameters.
			const mapped = fromMediasoupError(error, 'rtpParameters');
			throw mapped instanceof AppError ? mapped : new AppError('validation_failed', `rtpParameters: ${(error as Error).message.slice(0, 200)}`);
		}
		peer.producers.set(producer.id, producer);
		this.#producerRouters.set(producer.id, roomRouter);
		producer.observer.once('close', () => {
			peer.producers.delete(producer.id);
			this.#producerRouters.delete(producer.id);
			// NOTE: the worker reports producerclose to the consumers later; closing
			// them now means clients see consumer.closed before peer.left.
			this.#closeConsumersOf(producer.id);
			this.#speaker?.router.release(producer.id);
			this.policy.forgetProducer(producer.id);
		});
		const producerScore = throttle(this.#config.rooms.scoreIntervalMs, (scores: ms.ProducerScore[]) =>
			peer.notify('producer.score', { producerId: producer.id, scores }));
		producer.on('score', producerScore);
		producer.observer.once('close', () => producerScore.cancel());
		this.#logger.debug('producer created', { peerId: peer.id, producerId: producer.id, source: options.source });
		if (producer.kind === 'audio') {
			void this.#watchSpeaker(producer);
		}
		this.policy.schedule();
		for (const other of this.peers.values()) {
			if (other !== peer) {
				void this.#consume(other, producer);
			}
		}
		return producer;
	}

	/**
	 * Closes a producer, its consumers first. NOTE: in this order the worker
	 * still has the consumers when asked to close them; closing the producer
	 * first makes the worker drop them itself, and every consumer close that
	 * follows fails there ("Consumer not found").
	 */
	closeProducer(peer: Peer, producerId: string): void {
		const producer = this.producerOf(peer, producerId);
		this.#closeConsumersOf(producer.id);
		producer.close();
	}

	/** Closes a transport, the consumers of its producers first (see closeProducer). */
	closeTransport(peer: Peer, transportId: string): void {
		const transport = this.transportOf(peer, transportId);
		for (const producer of peer.producers.values()) {
			if (producer.appData.transportId === transportId) {
				this.#closeConsumersOf(producer.id);
			}
		}
		transport.close();
	}

	producerOf(peer: Peer, producerId: string): ms.Producer<ProducerAppData> {
		const producer = peer.producers.get(producerId);
		if (!producer) {
			throw new NotFoundError('no such producer');
		}
		return producer;
	}

	consumerOf(peer: Peer, consumerId: string): ms.Consumer<ConsumerAppData> {
		const consumer = peer.consumers.get(consumerId);
		if (!consumer) {
			throw new NotFoundError('no such consumer');
		}
		return consumer;
	}

	/** Closes the room: every peer, then every router. Idempotent. */
	close(reason: CloseReason): void {
		if (this.#closed) {
			return;
		}
		this.#closed = true;
		clearTimeout(this.#emptyTimer);
		this.policy.close();
		for (const peer of this.peers.values()) {
			peer.close();
		}
		this.peers.clear();
		for (const router of this.#routers) {
			router.close();
		}
		this.#routers.clear();
		this.#logger.info('room closed', { reason });
		this.events.safeEmit('closed', reason);
		this.observer.safeEmit('closed', reason);
	}

	#assertOpen(): void {
		if (this.#closed) {
			throw new InvalidStateError('the room is closed');
		}
	}

	#scheduleCloseIfEmpty(): void {
		if (this.peers.size === 0 && this.#joining === 0 && !this.#closed && !this.#emptyTimer) {
			this.#emptyTimer = setTimeout(() => this.close('empty'), this.#config.rooms.emptyCloseGraceMs);
		}
	}

	#broadcast<N extends Parameters<Peer['notify']>[0]>(event: N, data: Parameters<Peer['notify']>[1] & object): void {
		for (const peer of this.peers.values()) {
			peer.notify(event, data as never);
		}
	}

	/**
	 * Chooses the peer's router: the least-loaded of the room's routers still
	 * under `rooms.routerConsumerLimit` consumers; else a new router on the
	 * least-loaded worker the room does not use yet; else (every worker used)
	 * the room's router with the fewest consumers.
	 */
	#place(peer: Peer): Promise<RoomRouter> {
		return this.#placement.run(async () => {
			this.#assertOpen();
			// Every worker restarting (they all died): wait a little for one.
			await this.#pool.waitForWorker(5000);
			const live = [...this.#routers].filter((r) => !r.closed && r.worker.alive);
			const limit = this.#config.rooms.routerConsumerLimit;
			const byLoad = (a: RoomRouter, b: RoomRouter) => a.worker.score - b.worker.score || a.consumers - b.consumers;
			let chosen = live.filter((r) => r.consumers < limit).sort(byLoad)[0];
			if (!chosen) {
				const used = new Set(live.map((r) => r.worker.index));
				const spare = this.#pool.workers.some((w) => !used.has(w.index));
				chosen = spare || live.length === 0
					? await this.#addRouter(this.#pool.pickWorker({ exclude: used }))
					: live.sort((a, b) => a.consumers - b.consumers)[0]!;
			}
			if (peer.closed) {
				throw new InvalidStateError('the peer left');
			}
			chosen.peers++;
			this.#peerRouters.set(peer, chosen);
			return chosen;
		});
	}

	/**
	 * Forgets the peer's router assignment. A router left with no peer closes,
	 * and its pipes with it, unless it is the one watching for the active
	 * speaker (or the room's last), which stays until the room closes.
	 */
	#unplace(peer: Peer): void {
		const router = this.#peerRouters.get(peer);
		if (!router) {
			return;
		}
		router.peers--;
		this.#peerRouters.delete(peer);
		if (router.peers === 0 && router !== this.#speaker?.router && this.#routers.size > 1 && !router.closed) {
			this.#retiring.add(router);
			router.close();
		}
	}

	async #addRouter(worker: MediaWorker): Promise<RoomRouter> {
		const roomRouter = await RoomRouter.create(worker, this.id, this.#logger);
		this.#routers.add(roomRouter);
		roomRouter.router.observer.once('close', () => this.#onRouterClosed(roomRouter));
		if (this.#routers.size > 1) {
			this.#logger.info('room spans another worker', { worker: worker.index, routers: this.#routers.size });
		}
		if (!this.#speaker) {
			await this.#startSpeakerObserver(roomRouter);
		}
		return roomRouter;
	}

	/**
	 * A router closed. When the room did not close it, its worker died: its
	 * peers lost their transports, producers and consumers. They stay in the
	 * room, are asked to reconnect, and get a router elsewhere on their next
	 * transport.create; the others keep their media.
	 */
	#onRouterClosed(roomRouter: RoomRouter): void {
		this.#routers.delete(roomRouter);
		if (this.#closed || this.#retiring.has(roomRouter)) {
			this.#logger.debug('router closed', { worker: roomRouter.worker.index, routers: this.#routers.size });
			return;
		}
		const affected = [...this.#peerRouters].filter(([, r]) => r === roomRouter).map(([peer]) => peer);
		for (const peer of affected) {
			this.#unplace(peer);
			peer.notify('session.reconnect', { reason: 'workerDied' });
		}
		this.#logger.warn('room lost a router', { worker: roomRouter.worker.index, peers: affected.length });
		this.events.safeEmit('routerLost', roomRouter.worker, affected.length);
		this.observer.safeEmit('routerLost', roomRouter.worker, affected.length);
		if (this.#speaker?.router === roomRouter) {
			this.#speaker = undefined;
			const next = [...this.#routers][0];
			if (next) {
				void this.#startSpeakerObserver(next);
			}
		}
	}

	/**
	 * Starts the active speaker observer on `roomRouter`. NOTE: never throws:
	 * when every worker dies at once, the next router's worker is dead too; the
	 * room then has no observer until its next router is added.
	 */
	async #startSpeakerObserver(roomRouter: RoomRouter): Promise<void> {
		let observer: ms.ActiveSpeakerObserver;
		try {
			observer = await roomRouter.router.createActiveSpeakerObserver({ interval: this.#config.media.activeSpeakerIntervalMs });
		} catch (error) {
			this.#logger.warn('speaker observer not started', { worker: roomRouter.worker.index, error: (error as Error).message });
			return;
		}
		this.#speaker = { router: roomRouter, observer };
		observer.on('dominantspeaker', ({ producer }) => {
			const peerId = (producer.appData as ProducerAppData).peerId;
			this.#activeSpeaker = peerId;
			this.#broadcast('room.activeSpeaker', { peerId, producerId: producer.id });
			this.policy.schedule();
		});
		for (const peer of this.peers.values()) {
			for (const producer of peer.producers.values()) {
				if (producer.kind === 'audio') {
					void this.#watchSpeaker(producer);
				}
			}
		}
	}

	/** Adds an audio producer to the speaker observer, piping it there if needed. */
	async #watchSpeaker(producer: ms.Producer<ProducerAppData>): Promise<void> {
		const speaker = this.#speaker;
		const source = this.#producerRouters.get(producer.id);
		if (!speaker || !source) {
			return;
		}
		try {
			await speaker.router.acquire(producer, source);
			await speaker.observer.addProducer({ producerId: producer.id });
		} catch (error) {
			this.#logger.debug('speaker observer skipped a producer', { producerId: producer.id, error: (error as Error).message });
		}
	}

	#closeConsumersOf(producerId: string): void {
		for (const peer of this.peers.values()) {
			for (const consumer of peer.consumers.values()) {
				if (consumer.producerId === producerId && !consumer.closed) {
					consumer.close();
				}
			}
		}
	}

	/** Consumers on `peer` for every producer of the others it does not consume yet. */
	#consumeAll(peer: Peer): void {
		const consumed = new Set([...peer.consumers.values()].map((c) => c.producerId));
		for (const other of this.peers.values()) {
			if (other === peer) {
				continue;
			}
			for (const producer of other.producers.values()) {
				if (!consumed.has(producer.id)) {
					void this.#consume(peer, producer);
				}
			}
		}
	}

	/**
	 * Creates a paused consumer of `producer` on `peer`'s receive transport
	 * (piping the producer to the peer's router first if it lives on another),
	 * offers it with consumer.new and resumes it when the client acknowledges.
	 * A peer with no receive transport, no connection, or no matching codec is
	 * skipped: it gets the consumer when that changes (createTransport, resumed).
	 */
	async #consume(peer: Peer, producer: ms.Producer<ProducerAppData>): Promise<void> {
		const running = peer.consuming.get(producer.id);
		if (running) {
			running.again = true;
			return;
		}
		const pass = { again: false };
		peer.consuming.set(producer.id, pass);
		try {
			await this.#consumeOnce(peer, producer);
		} finally {
			if (peer.consuming.get(producer.id) === pass) {
				peer.consuming.delete(producer.id);
			}
		}
		// NOTE: a pass asked for while this one ran may know better: a pass that
		// found no receive transport ends a few ticks later, and the transport's
		// own pass can come in between. Run it now, unless this one made the consumer.
		if (pass.again && ![...peer.consumers.values()].some((c) => c.producerId === producer.id)) {
			await this.#consume(peer, producer);
		}
	}

	async #consumeOnce(peer: Peer, producer: ms.Producer<ProducerAppData>): Promise<void> {
		const transport = peer.recvTransport;
		const target = this.#peerRouters.get(peer);
		const source = this.#producerRouters.get(producer.id);
		if (!transport || !target || !source || !peer.connection || producer.closed) {
			return;
		}
		if (peer.consumers.size >= this.#config.rooms.maxConsumersPerPeer) {
			if (!peer.limitsReached.has('consumersPerPeer')) {
				peer.limitsReached.add('consumersPerPeer');
				this.#logger.warn('consumer limit reached', { peerId: peer.id, limit: this.#config.rooms.maxConsumersPerPeer });
				peer.notify('limit.exceeded', { code: 'limit_exceeded', limit: 'consumersPerPeer', max: this.#config.rooms.maxConsumersPerPeer });
			}
			this.observer.safeEmit('limitReached', 'consumersPerPeer');
			return;
		}
		let consumer: ms.Consumer<ConsumerAppData>;
		try {
			await target.acquire(producer, source);
		} catch (error) {
			this.#logger.debug('pipe failed', { peerId: peer.id, producerId: producer.id, error: (error as Error).message });
			target.release(producer.id);
			return;
		}
		try {
			if (!target.router.canConsume({ producerId: producer.id, rtpCapabilities: peer.rtpCapabilities })) {
				target.release(producer.id);
				return;
			}
			consumer = await transport.consume<ConsumerAppData>({
				producerId: producer.id,
				rtpCapabilities: peer.rtpCapabilities,
				paused: true,
				appData: { peerId: peer.id, producerPeerId: producer.appData.peerId, source: producer.appData.source },
			});
		} catch (error) {
			// The transport or producer closed meanwhile.
			target.release(producer.id);
			this.#logger.debug('consume failed', { peerId: peer.id, producerId: producer.id, error: (error as Error).message });
			return;
		}
		const uncount = target.countConsumer();
		let refused = false;
		peer.consumers.set(consumer.id, consumer);
		// From here on the consumer itself keeps a second pass from making another.
		peer.consuming.delete(producer.id);
		consumer.observer.once('close', () => {
			this.policy.forget(consumer.id);
			this.policy.schedule();
			uncount();
			target.release(producer.id);
			peer.consumers.delete(consumer.id);
			peer.notify('consumer.closed', { consumerId: consumer.id });
			// A place freed for a producer the limit skipped. NOTE: not after a
			// refusal by the client, which would offer it again and again; and on
			// the next turn, once a closing producer or transport is gone too.
			if (!refused && peer.limitsReached.has('consumersPerPeer')) {
				setImmediate(() => {
					if (!peer.closed && !this.#closed) {
						this.#consumeAll(peer);
					}
				});
			}
		});
		if (peer.closed || producer.closed) {
			consumer.close();
			return;
		}
		consumer.on('transportclose', () => consumer.close());
		consumer.on('producerclose', () => consumer.close());
		consumer.on('producerpause', () => peer.notify('consumer.paused', { consumerId: consumer.id }));
		consumer.on('producerresume', () => peer.notify('consumer.resumed', { consumerId: consumer.id }));
		consumer.on('layerschange', (layers) => peer.notify('consumer.layersChanged', { consumerId: consumer.id, layers: layers ?? null }));
		const consumerScore = throttle(this.#config.rooms.scoreIntervalMs, (score: ms.ConsumerScore) =>
			peer.notify('consumer.score', { consumerId: consumer.id, score }));
		consumer.on('score', consumerScore);
		consumer.observer.once('close', () => consumerScore.cancel());
		consumer.on('score', ({ score }: ms.ConsumerScore) => this.policy.setScore(consumer.id, score));

		const connection = peer.connection;
		peer.pendingConsumers.add(consumer.id);
		try {
			await connection?.request('consumer.new', {
				consumerId: consumer.id,
				producerId: producer.id,
				peerId: producer.appData.peerId,
				kind: consumer.kind,
				source: producer.appData.source,
				rtpParameters: consumer.rtpParameters,
				type: consumer.type,
				producerPaused: consumer.producerPaused,
			});
			peer.pendingConsumers.delete(consumer.id);
			await consumer.resume();
			this.policy.schedule();
			if (peer.firstConsumerAt === undefined) {
				peer.firstConsumerAt = Date.now();
				this.observer.safeEmit('firstConsumer', peer, (peer.firstConsumerAt - peer.joinStartedAt) / 1000);
			}
		} catch (error) {
			peer.pendingConsumers.delete(consumer.id);
			this.#logger.debug('consumer refused by client', { peerId: peer.id, consumerId: consumer.id, error: (error as Error).message });
			refused = true;
			consumer.close();
		}
	}
}

function producerInfo(producer: ms.Producer<ProducerAppData>): ProducerInfo {
	return { id: producer.id, peerId: producer.appData.peerId, kind: producer.kind, source: producer.appData.source, paused: producer.paused };
}

function hasUsableCodec(rtpCapabilities: ms.RtpCapabilities): boolean {
	return (rtpCapabilities.codecs ?? []).some((codec) =>
		MEDIA_CODECS.some((c) => c.mimeType.toLowerCase() === codec.mimeType.toLowerCase()));
}

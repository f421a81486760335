import type { Claims } from '../auth';
import type { MediaConfig, RoomsConfig } from '../config';
import { AppError, InvalidStateError, NotFoundError } from '../errors';
import type { Logger } from '../logging';
import { fromMediasoupError, MEDIA_CODECS, type MediaWorker, type ms } from '../media';
import type { PeerInfo, ProducerInfo, Source, TransportInfo } from '../signaling/protocol';
import { throttle, TypedEmitter } from '../util';
import { Peer, type ConsumerAppData, type PeerConnection, type ProducerAppData, type TransportAppData, type TransportDirection } from './Peer';

export type CloseReason = 'empty' | 'workerDied' | 'shutdown';

export type RoomEvents = {
	/** A peer joined; sent after the others were told. */
	peerJoined: [peer: Peer];
	/** A peer left for good (leave, reconnect grace expired, room closed). */
	peerLeft: [peer: Peer];
	/** The room closed; every peer has been closed first. */
	closed: [reason: CloseReason];
};

export type RoomOptions = {
	id: string;
	worker: MediaWorker;
	config: { rooms: RoomsConfig; media: MediaConfig };
	logger: Logger;
};

/**
 * A room: one router on one worker, its peers, and the active speaker
 * observer. It creates a consumer on every other peer for each producer, and
 * closes itself (router and all) once empty for `rooms.emptyCloseGraceMs`.
 */
export class Room {
	readonly id: string;
	readonly worker: MediaWorker;
	readonly router: ms.Router;
	readonly peers = new Map<string, Peer>();
	readonly events: TypedEmitter<RoomEvents>;
	readonly observer: TypedEmitter<RoomEvents>;

	readonly #config: RoomOptions['config'];
	readonly #logger: Logger;
	readonly #speakerObserver: ms.ActiveSpeakerObserver;
	#emptyTimer: NodeJS.Timeout | undefined;
	#closed = false;

	private constructor(options: RoomOptions, router: ms.Router, speakerObserver: ms.ActiveSpeakerObserver) {
		this.id = options.id;
		this.worker = options.worker;
		this.router = router;
		this.#config = options.config;
		this.#logger = options.logger.child({ module: 'rooms', roomId: options.id });
		this.#speakerObserver = speakerObserver;
		const onListenerError = (event: string, error: unknown) => this.#logger.error('room listener failed', { event, error });
		this.events = new TypedEmitter(onListenerError);
		this.observer = new TypedEmitter(onListenerError);

		// The router closes under us when its worker dies.
		router.observer.once('close', () => this.close('workerDied'));
		speakerObserver.on('dominantspeaker', ({ producer }) => {
			const peerId = (producer.appData as ProducerAppData).peerId;
			this.#broadcast('room.activeSpeaker', { peerId, producerId: producer.id });
		});
	}

	static async create(options: RoomOptions): Promise<Room> {
		const router = await options.worker.worker.createRouter({ mediaCodecs: MEDIA_CODECS, appData: { roomId: options.id } });
		const speakerObserver = await router.createActiveSpeakerObserver({ interval: options.config.media.activeSpeakerIntervalMs });
		const room = new Room(options, router, speakerObserver);
		room.#logger.info('room created', { worker: options.worker.index });
		return room;
	}

	get closed(): boolean {
		return this.#closed;
	}

	/** Adds a peer and tells the others. @throws room_full */
	join(options: { displayName: string; claims: Claims; rtpCapabilities: ms.RtpCapabilities; connection: PeerConnection }): Peer {
		this.#assertOpen();
		if (this.peers.size >= this.#config.rooms.maxPeers) {
			throw new AppError('room_full');
		}
		if (!hasUsableCodec(options.rtpCapabilities)) {
			throw new AppError('validation_failed', 'rtpCapabilities: no codec in common with the room');
		}
		clearTimeout(this.#emptyTimer);
		this.#emptyTimer = undefined;
		const peer = new Peer(options);
		this.#broadcast('peer.joined', { peer: this.peerInfo(peer) });
		this.peers.set(peer.id, peer);
		this.#logger.info('peer joined', { peerId: peer.id, peers: this.peers.size });
		this.events.safeEmit('peerJoined', peer);
		this.observer.safeEmit('peerJoined', peer);
		return peer;
	}

	/** Removes a peer for good: closes all it had and tells the others. Idempotent. */
	leave(peer: Peer, why: 'left' | 'timeout' | 'closed' = 'left'): void {
		if (!this.peers.delete(peer.id)) {
			return;
		}
		peer.close();
		this.#logger.info('peer left', { peerId: peer.id, why, peers: this.peers.size });
		this.#broadcast('peer.left', { peerId: peer.id });
		this.events.safeEmit('peerLeft', peer);
		this.observer.safeEmit('peerLeft', peer);
		if (this.peers.size === 0 && !this.#closed) {
			this.#emptyTimer = setTimeout(() => this.close('empty'), this.#config.rooms.emptyCloseGraceMs);
		}
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
		this.#assertOpen();
		if (peer.transports.size >= this.#config.rooms.maxTransportsPerPeer) {
			throw new AppError('limit_exceeded', `at most ${this.#config.rooms.maxTransportsPerPeer} transports per peer`);
		}
		const transport = await this.router.createWebRtcTransport<TransportAppData>({
			webRtcServer: this.worker.webRtcServer,
			enableUdp: true,
			enableTcp: true,
			preferUdp: true,
			initialAvailableOutgoingBitrate: this.#config.media.initialAvailableOutgoingBitrate,
			appData: { peerId: peer.id, direction },
		});
		if (peer.closed) {
			transport.close();
			throw new InvalidStateError('the peer left');
		}
		peer.transports.set(transport.id, transport);
		transport.observer.once('close', () => peer.transports.delete(transport.id));
		if (direction === 'send') {
			await transport.setMaxIncomingBitrate(this.#config.media.maxIncomingBitrate);
		} else {
			this.#consumeAll(peer);
		}
		return {
			id: transport.id,
			direction,
			iceParameters: transport.iceParameters,
			iceCandidates: transport.iceCandidates,
			dtlsParameters: transport.dtlsParameters,
			iceServers: [],
			iceTransportPolicy: 'all',
		};
	}

	transportOf(peer: Peer, transportId: string): ms.WebRtcTransport<TransportAppData> {
		const transport = peer.transports.get(transportId);
		if (!transport) {
			throw new NotFoundError('no such transport');
		}
		return transport;
	}

	async connectTransport(peer: Peer, transportId: string, dtlsParameters: ms.DtlsParameters): Promise<void> {
		const transport = this.transportOf(peer, transportId);
		if (transport.dtlsState !== 'new') {
			throw new InvalidStateError('the transport is already connected');
		}
		try {
			await transport.connect({ dtlsParameters });
		} catch (error) {
			throw fromMediasoupError(error, 'dtlsParameters');
		}
	}

	async produce(peer: Peer, options: { transportId: string; kind: ms.MediaKind; rtpParameters: ms.RtpParameters; source: Source; paused?: boolean }): Promise<ms.Producer<ProducerAppData>> {
		this.#assertOpen();
		const transport = this.transportOf(peer, options.transportId);
		if (transport.appData.direction !== 'send') {
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
				rtpParameters: options.rtpParameters,
				paused: options.paused ?? false,
				keyFrameRequestDelay: 1000,
				appData: { peerId: peer.id, source: options.source },
			});
		} catch (error) {
			throw fromMediasoupError(error, 'rtpParameters');
		}
		peer.producers.set(producer.id, producer);
		producer.observer.once('close', () => {
			peer.producers.delete(producer.id);
			// NOTE: the worker reports producerclose to the consumers later; closing
			// them now means clients see consumer.closed before peer.left.
			this.#closeConsumersOf(producer.id);
		});
		producer.on('score', throttle(this.#config.rooms.scoreIntervalMs, (scores: ms.ProducerScore[]) =>
			peer.notify('producer.score', { producerId: producer.id, scores })));
		producer.on('transportclose', () => producer.close());
		if (producer.kind === 'audio') {
			await this.#speakerObserver.addProducer({ producerId: producer.id }).catch(() => undefined);
		}
		this.#logger.debug('producer created', { peerId: peer.id, producerId: producer.id, source: options.source });
		for (const other of this.peers.values()) {
			if (other !== peer) {
				void this.#consume(other, producer);
			}
		}
		return producer;
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

	/** Closes the room: every peer, then the router. Idempotent. */
	close(reason: CloseReason): void {
		if (this.#closed) {
			return;
		}
		this.#closed = true;
		clearTimeout(this.#emptyTimer);
		for (const peer of this.peers.values()) {
			if (reason === 'workerDied') {
				peer.notify('session.reconnect', { reason: 'workerDied' });
			}
			peer.close();
		}
		this.peers.clear();
		this.router.close();
		this.#logger.info('room closed', { reason });
		this.events.safeEmit('closed', reason);
		this.observer.safeEmit('closed', reason);
	}

	#closeConsumersOf(producerId: string): void {
		for (const peer of this.peers.values()) {
			for (const consumer of peer.consumers.values()) {
				if (consumer.producerId === producerId) {
					consumer.close();
				}
			}
		}
	}

	#assertOpen(): void {
		if (this.#closed) {
			throw new InvalidStateError('the room is closed');
		}
	}

	#broadcast<N extends Parameters<Peer['notify']>[0]>(event: N, data: Parameters<Peer['notify']>[1] & object, except?: Peer): void {
		for (const peer of this.peers.values()) {
			if (peer !== except) {
				peer.notify(event, data as never);
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
	 * Creates a paused consumer of `producer` on `peer`'s receive transport,
	 * offers it with consumer.new and resumes it when the client acknowledges.
	 * A peer with no receive transport, no connection, or no matching codec is
	 * skipped: it gets the consumer when that changes (createTransport, resumed).
	 */
	async #consume(peer: Peer, producer: ms.Producer<ProducerAppData>): Promise<void> {
		const transport = peer.recvTransport;
		if (!transport || !peer.connection || producer.closed ||
			!this.router.canConsume({ producerId: producer.id, rtpCapabilities: peer.rtpCapabilities })) {
			return;
		}
		let consumer: ms.Consumer<ConsumerAppData>;
		try {
			consumer = await transport.consume<ConsumerAppData>({
				producerId: producer.id,
				rtpCapabilities: peer.rtpCapabilities,
				paused: true,
				appData: { peerId: peer.id, producerPeerId: producer.appData.peerId, source: producer.appData.source },
			});
		} catch (error) {
			// The transport or producer closed meanwhile.
			this.#logger.debug('consume failed', { peerId: peer.id, producerId: producer.id, error: (error as Error).message });
			return;
		}
		if (peer.closed) {
			consumer.close();
			return;
		}
		peer.consumers.set(consumer.id, consumer);
		consumer.observer.once('close', () => {
			peer.consumers.delete(consumer.id);
			peer.notify('consumer.closed', { consumerId: consumer.id });
		});
		consumer.on('transportclose', () => consumer.close());
		consumer.on('producerclose', () => consumer.close());
		consumer.on('producerpause', () => peer.notify('consumer.paused', { consumerId: consumer.id }));
		consumer.on('producerresume', () => peer.notify('consumer.resumed', { consumerId: consumer.id }));
		consumer.on('layerschange', (layers) => peer.notify('consumer.layersChanged', { consumerId: consumer.id, layers: layers ?? null }));
		consumer.on('score', throttle(this.#config.rooms.scoreIntervalMs, (score: ms.ConsumerScore) =>
			peer.notify('consumer.score', { consumerId: consumer.id, score })));

		try {
			await peer.connection?.request('consumer.new', {
				consumerId: consumer.id,
				producerId: producer.id,
				peerId: producer.appData.peerId,
				kind: consumer.kind,
				source: producer.appData.source,
				rtpParameters: consumer.rtpParameters,
				type: consumer.type,
				producerPaused: consumer.producerPaused,
			});
			await consumer.resume();
		} catch (error) {
			this.#logger.debug('consumer refused by client', { peerId: peer.id, consumerId: consumer.id, error: (error as Error).message });
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

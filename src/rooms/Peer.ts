import { randomBytes, randomUUID } from 'node:crypto';
import type { Claims } from '../auth';
import { AppError, InvalidStateError, NotFoundError } from '../errors';
import type { Logger } from '../logging';
import { fromMediasoupError, type ms } from '../media';
import { throttle } from '../util';
import type { Lease } from './lease';
import { PeerControls } from './PeerControls';
import type { PeerIdentity, PeerLink, PeerNotice, PeerView } from './PeerLink';
import { createPlainTransport, type PlainTransportOptions } from './plainTransport';
import type { PolicyApplier, PolicyPeer } from './PolicyApplier';
import type { RoomRouter } from './RoomRouter';
import { Subscriptions } from './Subscriptions';
import type { ConsumerAppData, PeerTransport, ProducerAppData, RoomConfig, Source, TransportAppData, TransportDirection } from './types';

export type PeerOptions = {
	displayName: string;
	/** Its client encrypts media end to end (the room keeps the two kinds apart). */
	e2ee?: boolean;
	/** The device of a call party, whose key the others wrap their sender keys for. */
	identity?: PeerIdentity;
	claims: Claims;
	rtpCapabilities: ms.RtpCapabilities;
	link: PeerLink;
	/** When its room.join arrived (ms); now by default. */
	joinStartedAt?: number;
	config: RoomConfig;
	policy: PolicyApplier;
	/** The room's logger. */
	logger: Logger;
};

export type { PlainTransportOptions };

export type ProduceOptions = { transportId: string; kind: ms.MediaKind; rtpParameters: ms.RtpParameters; source: Source; paused?: boolean };

/**
 * A participant of a room: its transports, its producers and its
 * subscriptions (consumers of the others' producers), its seat on one of the
 * room's routers, its per-peer limits and its reconnect grace. mediasoup
 * closes a transport's producers and consumers with it; the peer's maps
 * follow the objects' own close events, so whatever closes them, the peer
 * forgets them.
 */
export class Peer implements PeerView, PolicyPeer {
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
	readonly e2ee: boolean;
	readonly identity: PeerIdentity | undefined;
	readonly claims: Claims;
	readonly rtpCapabilities: ms.RtpCapabilities;
	readonly joinStartedAt: number;
	/** Its consumers of the others' producers. */
	readonly subscriptions: Subscriptions;
	/** What the server API muted, permits and set as metadata. */
	readonly controls = new PeerControls();

	readonly #config: RoomConfig;
	readonly #policy: PolicyApplier;
	readonly #logger: Logger;
	#link: PeerLink | undefined;
	#seat: { router: RoomRouter; lease: Lease } | undefined;
	/** WebRTC transports, and PlainTransports of load generators (appData.plain). */
	readonly #transports = new Map<string, PeerTransport>();
	/** Transports transport.connect was called for (dtlsState says "new" until DTLS starts). */
	readonly #connected = new WeakSet<PeerTransport>();
	readonly #producers = new Map<string, ms.Producer<ProducerAppData>>();
	/** The router each producer lives on. */
	readonly #producerRouters = new Map<string, RoomRouter>();
	/** Set while the link is gone and the peer waits for room.resume. */
	#reconnectTimer: NodeJS.Timeout | undefined;
	#closed = false;

	constructor(options: PeerOptions) {
		this.joinStartedAt = options.joinStartedAt ?? Date.now();
		this.displayName = options.displayName;
		this.e2ee = options.e2ee ?? false;
		this.identity = options.identity;
		this.claims = options.claims;
		this.rtpCapabilities = options.rtpCapabilities;
		this.#link = options.link;
		this.#config = options.config;
		this.#policy = options.policy;
		this.#logger = options.logger;
		this.subscriptions = new Subscriptions(this, { config: options.config, policy: options.policy, logger: options.logger });
	}

	get closed(): boolean {
		return this.#closed;
	}

	get handle(): string | undefined {
		return this.claims.handle;
	}

	get metadata(): string | undefined {
		return this.controls.metadata;
	}

	get handRaised(): boolean {
		return this.controls.handRaised;
	}

	/** The account is verified (its token says so): the others see the mark. */
	get verified(): boolean {
		return this.claims.handle !== undefined && this.claims.verified;
	}

	/** How the room reaches the peer's client; undefined while it is disconnected. */
	get link(): PeerLink | undefined {
		return this.#link;
	}

	/** The room's router the peer is seated on; undefined before placement or once its router was lost. */
	get router(): RoomRouter | undefined {
		return this.#seat?.router;
	}

	get transports(): ReadonlyMap<string, PeerTransport> {
		return this.#transports;
	}

	get producers(): ReadonlyMap<string, ms.Producer<ProducerAppData>> {
		return this.#producers;
	}

	/** The peer's consumers by id, offered or acknowledged. */
	get consumers(): ReadonlyMap<string, ms.Consumer<ConsumerAppData>> {
		return this.subscriptions.consumers();
	}

	/** The transport this peer receives on (the most recent, if it made several). */
	get recvTransport(): PeerTransport | undefined {
		let found: PeerTransport | undefined;
		for (const transport of this.#transports.values()) {
			if (transport.appData.direction === 'recv') {
				found = transport;
			}
		}
		return found;
	}

	notify(notice: PeerNotice): void {
		this.#link?.notify(notice);
	}

	/** Seats the peer on `router`, until unplace(). */
	place(router: RoomRouter): void {
		this.#seat?.lease.release();
		this.#seat = { router, lease: router.seat() };
	}

	/** Gives back the peer's seat; returns the router it had. */
	unplace(): RoomRouter | undefined {
		const seat = this.#seat;
		this.#seat = undefined;
		seat?.lease.release();
		return seat?.router;
	}

	/** The link dropped: the peer keeps everything it has for `graceMs`, then `expired` runs. */
	disconnected(graceMs: number, expired: () => void): void {
		this.#link = undefined;
		clearTimeout(this.#reconnectTimer);
		this.#reconnectTimer = setTimeout(expired, graceMs);
	}

	/**
	 * Back on a new link. NOTE: offers still unanswered went to the dead link:
	 * the client never saw them. They are closed, to be offered again.
	 */
	resumed(link: PeerLink): void {
		clearTimeout(this.#reconnectTimer);
		this.#reconnectTimer = undefined;
		this.#link = link;
		this.subscriptions.closePending();
	}

	/** @throws limit_exceeded at rooms.maxTransportsPerPeer */
	checkTransportLimit(): void {
		if (this.#transports.size >= this.#config.rooms.maxTransportsPerPeer) {
			throw new AppError('limit_exceeded', `at most ${this.#config.rooms.maxTransportsPerPeer} transports per peer`);
		}
	}

	async createWebRtcTransport(router: RoomRouter, direction: TransportDirection): Promise<ms.WebRtcTransport<TransportAppData>> {
		const transport = await router.router.createWebRtcTransport<TransportAppData>({
			webRtcServer: router.worker.webRtcServer,
			enableUdp: true,
			enableTcp: true,
			preferUdp: true,
			initialAvailableOutgoingBitrate: this.#config.media.initialAvailableOutgoingBitrate,
			appData: { peerId: this.id, direction },
		});
		if (direction === 'recv') {
			await this.#watchDownlink(transport);
		}
		await this.#adopt(transport);
		return transport;
	}

	/** A PlainTransport with SRTP for a load generator (plainTransport.ts). */
	async createPlainTransport(router: RoomRouter, options: PlainTransportOptions): Promise<ms.PlainTransport<TransportAppData>> {
		const transport = await createPlainTransport(router.router, this.#config.media, this.id, options);
		await this.#adopt(transport);
		return transport;
	}

	transportOf(transportId: string): PeerTransport {
		const transport = this.#transports.get(transportId);
		if (!transport) {
			throw new NotFoundError('no such transport');
		}
		return transport;
	}

	/** One of the peer's WebRTC transports. @throws invalid_state for a plain one */
	webRtcTransportOf(transportId: string): ms.WebRtcTransport<TransportAppData> {
		const transport = this.transportOf(transportId);
		if (transport.appData.plain) {
			throw new InvalidStateError('a plain transport has no ICE or DTLS');
		}
		return transport as ms.WebRtcTransport<TransportAppData>;
	}

	async connectTransport(transportId: string, dtlsParameters: ms.DtlsParameters): Promise<void> {
		const transport = this.webRtcTransportOf(transportId);
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

	/**
	 * Caps what the node sends the peer (its receive transport's max outgoing
	 * bitrate), as a slow downlink would; the policy fits the peer's video
	 * into it, audio first. @throws not_found
	 */
	async capDownlink(bps: number): Promise<void> {
		const transport = this.recvTransport;
		if (!transport) {
			throw new NotFoundError('the peer has no receive transport');
		}
		await transport.setMaxOutgoingBitrate(bps);
		this.#policy.setDownlinkCap(this.id, bps);
	}

	/** A producer on one of the peer's send transports. @throws invalid_state, limit_exceeded, validation_failed, not_permitted, muted_by_service */
	async produce(options: ProduceOptions): Promise<ms.Producer<ProducerAppData>> {
		const transport = this.transportOf(options.transportId);
		const router = this.router;
		if (transport.appData.direction !== 'send' || !router) {
			throw new InvalidStateError('not a send transport');
		}
		this.controls.assertMayProduce(options.source, options.paused ?? false);
		if (this.#producers.size >= this.#config.rooms.maxProducersPerPeer) {
			throw new AppError('limit_exceeded', `at most ${this.#config.rooms.maxProducersPerPeer} producers per peer`);
		}
		if ([...this.#producers.values()].some((p) => p.appData.source === options.source)) {
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
				rtpParameters: { ...options.rtpParameters, rtcp: { ...options.rtpParameters.rtcp, cname: this.cname } },
				paused: options.paused ?? false,
				keyFrameRequestDelay: this.#config.policy.keyFrameRequestDelayMs,
				appData: { peerId: this.id, source: options.source, transportId: transport.id },
			});
		} catch (error) {
			// NOTE: the worker refuses an SSRC, MID or RID already in use with a plain
			// error: every refusal here comes from the client's parameters.
			const mapped = fromMediasoupError(error, 'rtpParameters');
			throw mapped instanceof AppError ? mapped : new AppError('validation_failed', `rtpParameters: ${(error as Error).message.slice(0, 200)}`);
		}
		this.#producers.set(producer.id, producer);
		this.#producerRouters.set(producer.id, router);
		const score = throttle(this.#config.rooms.scoreIntervalMs, (scores: ms.ProducerScore[]) =>
			this.notify({ type: 'producerScore', producerId: producer.id, scores }));
		producer.on('score', score);
		producer.observer.once('close', () => {
			this.#producers.delete(producer.id);
			this.#producerRouters.delete(producer.id);
			score.cancel();
			this.#policy.forgetProducer(producer.id);
		});
		this.#logger.debug('producer created', { peerId: this.id, producerId: producer.id, source: options.source });
		return producer;
	}

	producerOf(producerId: string): ms.Producer<ProducerAppData> {
		const producer = this.#producers.get(producerId);
		if (!producer) {
			throw new NotFoundError('no such producer');
		}
		return producer;
	}

	/** The router one of the peer's producers lives on. */
	routerOfProducer(producerId: string): RoomRouter | undefined {
		return this.#producerRouters.get(producerId);
	}

	/** @throws not_found */
	consumerOf(consumerId: string): ms.Consumer<ConsumerAppData> {
		return this.subscriptions.get(consumerId).consumer;
	}

	acknowledgedConsumers(): ms.Consumer<ConsumerAppData>[] {
		return this.subscriptions.acknowledged();
	}

	/**
	 * Closes every transport (and so every producer and consumer), and the
	 * policy forgets the peer. Its seat is the room's to take back. Idempotent.
	 */
	close(): void {
		if (this.#closed) {
			return;
		}
		this.#closed = true;
		clearTimeout(this.#reconnectTimer);
		this.#link = undefined;
		for (const transport of this.#transports.values()) {
			transport.close();
		}
		this.#transports.clear();
		this.#producers.clear();
		this.subscriptions.clear();
		this.#policy.forgetPeer(this.id);
	}

	/**
	 * What the node may send the peer, and how much it can: the receive
	 * transport's max outgoing bitrate (policy.maxDownlinkBitrate) and its
	 * bandwidth estimate (bwe trace), both inputs of the policy.
	 */
	async #watchDownlink(transport: ms.WebRtcTransport<TransportAppData>): Promise<void> {
		await transport.setMaxOutgoingBitrate(this.#config.policy.maxDownlinkBitrate);
		await transport.enableTraceEvent(['bwe']);
		transport.on('trace', (trace) => {
			if (trace.type === 'bwe' && transport === this.recvTransport) {
				const info = trace.info as { availableBitrate: number; effectiveDesiredBitrate: number };
				this.#policy.setDownlinkEstimate(this.id, info.availableBitrate, info.effectiveDesiredBitrate);
			}
		});
	}

	/**
	 * Takes a new transport, forgotten when it closes; a send transport gets
	 * the incoming bitrate cap. @throws invalid_state when the peer left meanwhile.
	 */
	async #adopt(transport: PeerTransport): Promise<void> {
		if (this.#closed) {
			transport.close();
			throw new InvalidStateError('the peer left');
		}
		this.#transports.set(transport.id, transport);
		// NOTE: the union's observers have incompatible signatures; 'close' is common to both.
		(transport.observer as ms.Transport['observer']).once('close', () => this.#transports.delete(transport.id));
		if (transport.appData.direction === 'send') {
			await transport.setMaxIncomingBitrate(this.#config.media.maxIncomingBitrate);
		}
	}
}

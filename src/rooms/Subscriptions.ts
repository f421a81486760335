import { NotFoundError } from '../errors';
import type { Logger } from '../logging';
import type { ms } from '../media';
import { TypedEmitter } from '../util';
import type { PeerControls } from './PeerControls';
import type { PeerLink, PeerNotice } from './PeerLink';
import type { PolicyApplier } from './PolicyApplier';
import type { RoomProducer } from './RoomProducer';
import type { RoomRouter } from './RoomRouter';
import { Subscription } from './Subscription';
import type { ConsumerAppData, PeerLimit, PeerTransport, RoomConfig } from './types';

export type SubscriptionsEvents = {
	/** The peer's first consumer was resumed, `seconds` after its room.join arrived. */
	firstConsumer: [seconds: number];
	/** A per-peer limit kept the peer from getting a consumer (each time; the client is told once). */
	limitReached: [limit: PeerLimit];
	/**
	 * A consumer closed while the consumer limit held others back (on the turn
	 * after: a closing producer or transport is gone by then). The room offers
	 * what the limit skipped. NOTE: not after a refusal by the client, which
	 * would be offered again and again.
	 */
	roomForMore: [];
};

/** What a peer's subscriptions read of the peer. */
export type Subscriber = {
	readonly id: string;
	readonly rtpCapabilities: ms.RtpCapabilities;
	readonly joinStartedAt: number;
	readonly closed: boolean;
	readonly link: PeerLink | undefined;
	readonly recvTransport: PeerTransport | undefined;
	readonly router: RoomRouter | undefined;
	readonly controls: Pick<PeerControls, 'permissions'>;
	notify(notice: PeerNotice): void;
};

/**
 * A peer's subscriptions, by consumer id: at most one per producer, at most
 * `rooms.maxConsumersPerPeer` in all. Each one forgets itself here when it
 * closes, and the client is told.
 */
export class Subscriptions {
	/** For the room. */
	readonly events: TypedEmitter<SubscriptionsEvents>;

	readonly #peer: Subscriber;
	readonly #config: RoomConfig;
	readonly #policy: PolicyApplier;
	readonly #logger: Logger;
	readonly #byId = new Map<string, Subscription>();
	/**
	 * Producers a subscription is being made of, so two passes cannot make
	 * two; `again` when another pass was asked for meanwhile.
	 */
	readonly #making = new Map<string, { again: boolean }>();
	/** Producers whose consumer the client refused: offered again only by a pass that asks for it. */
	readonly #refused = new Set<string>();
	/** Limits already reported to the client (limit.exceeded is sent once each). */
	readonly #limitsReported = new Set<PeerLimit>();
	#firstConsumerAt: number | undefined;

	constructor(peer: Subscriber, options: { config: RoomConfig; policy: PolicyApplier; logger: Logger }) {
		this.#peer = peer;
		this.#config = options.config;
		this.#policy = options.policy;
		this.#logger = options.logger;
		this.events = new TypedEmitter((event, error) => this.#logger.error('peer listener failed', { event, peerId: peer.id, error }));
	}

	get size(): number {
		return this.#byId.size;
	}

	/** Subscriptions being made, or offered and not answered yet. */
	get inFlight(): number {
		return this.#making.size + [...this.#byId.values()].filter((s) => s.pending).length;
	}

	/** The consumers by id, offered or acknowledged. */
	consumers(): Map<string, ms.Consumer<ConsumerAppData>> {
		return new Map([...this.#byId].map(([id, subscription]) => [id, subscription.consumer]));
	}

	/** @throws not_found */
	get(consumerId: string): Subscription {
		const subscription = this.#byId.get(consumerId);
		if (!subscription) {
			throw new NotFoundError('no such consumer');
		}
		return subscription;
	}

	/** Consumers the client acknowledged. */
	acknowledged(): ms.Consumer<ConsumerAppData>[] {
		return [...this.#byId.values()].filter((s) => !s.consumer.closed && !s.pending).map((s) => s.consumer);
	}

	/** Whether the peer consumes (or is being offered) `producerId`. */
	has(producerId: string): boolean {
		return [...this.#byId.values()].some((s) => s.producerId === producerId);
	}

	/** Whether the client refused a consumer of `producerId`. */
	refused(producerId: string): boolean {
		return this.#refused.has(producerId);
	}

	/** The producers the peer consumes (or is being offered). */
	producerIds(): Set<string> {
		return new Set([...this.#byId.values()].map((s) => s.producerId));
	}

	/**
	 * Subscribes the peer to `producer` (of a peer here or on another node): a paused consumer
	 * on its receive transport, offered to the client and resumed on its ack.
	 * A peer with no receive transport, no link, or no matching codec is
	 * skipped: it gets the consumer when that changes (a receive transport,
	 * room.resume).
	 */
	async subscribe(producer: RoomProducer): Promise<void> {
		const running = this.#making.get(producer.id);
		if (running) {
			running.again = true;
			return;
		}
		const pass = { again: false };
		this.#making.set(producer.id, pass);
		try {
			await this.#subscribeOnce(producer);
		} finally {
			if (this.#making.get(producer.id) === pass) {
				this.#making.delete(producer.id);
			}
		}
		// NOTE: a pass asked for while this one ran may know better: a pass that
		// found no receive transport ends a few ticks later, and the transport's
		// own pass can come in between. Run it now, unless this one subscribed.
		if (pass.again && !this.has(producer.id)) {
			await this.subscribe(producer);
		}
	}

	/** Closes the subscriptions to `producerId`. */
	unsubscribe(producerId: string): void {
		for (const subscription of this.#byId.values()) {
			if (subscription.producerId === producerId) {
				subscription.close();
			}
		}
	}

	/** Closes the offers the client has not answered. */
	closePending(): void {
		for (const subscription of this.#byId.values()) {
			if (subscription.pending) {
				subscription.close();
			}
		}
	}

	/** Closes every subscription (the client is told of each): the peer may not subscribe any more. */
	closeAll(): void {
		for (const subscription of [...this.#byId.values()]) {
			subscription.close();
		}
	}

	/** Forgets every subscription (their transports closed them). */
	clear(): void {
		this.#byId.clear();
	}

	async #subscribeOnce(producer: RoomProducer): Promise<void> {
		const peer = this.#peer;
		const transport = peer.recvTransport;
		const target = peer.router;
		// NOTE: a peer the server API does not permit to subscribe gets no consumer (Subscriber.controls).
		if (!transport || !target || !peer.link || producer.closed || !peer.controls.permissions.canSubscribe) {
			return;
		}
		const max = this.#config.rooms.maxConsumersPerPeer;
		if (this.#byId.size >= max) {
			if (!this.#limitsReported.has('consumersPerPeer')) {
				this.#limitsReported.add('consumersPerPeer');
				this.#logger.warn('consumer limit reached', { peerId: peer.id, limit: max });
				peer.notify({ type: 'limitReached', limit: 'consumersPerPeer', max });
			}
			this.events.safeEmit('limitReached', 'consumersPerPeer');
			return;
		}
		const subscription = await Subscription.create({
			producer, target, transport,
			peerId: peer.id,
			rtpCapabilities: peer.rtpCapabilities,
			policy: this.#policy,
			notify: (notice) => peer.notify(notice),
			onClose: (closed, refused) => this.#closed(closed, refused),
			scoreIntervalMs: this.#config.rooms.scoreIntervalMs,
			logger: this.#logger,
		});
		if (!subscription) {
			return;
		}
		this.#byId.set(subscription.id, subscription);
		// From here on the subscription itself keeps a second pass from making another.
		this.#making.delete(producer.id);
		if (peer.closed || producer.closed || !peer.controls.permissions.canSubscribe) {
			subscription.close();
			return;
		}
		if (await subscription.offer(peer.link)) {
			this.#policy.schedule();
			if (this.#firstConsumerAt === undefined) {
				this.#firstConsumerAt = Date.now();
				this.events.safeEmit('firstConsumer', (this.#firstConsumerAt - peer.joinStartedAt) / 1000);
			}
		}
	}

	#closed(subscription: Subscription, refused: boolean): void {
		this.#byId.delete(subscription.id);
		if (refused) {
			this.#refused.add(subscription.producerId);
		}
		this.#peer.notify({ type: 'consumerClosed', consumerId: subscription.id });
		if (!refused && this.#limitsReported.has('consumersPerPeer')) {
			setImmediate(() => {
				if (!this.#peer.closed) {
					this.events.safeEmit('roomForMore');
				}
			});
		}
	}
}

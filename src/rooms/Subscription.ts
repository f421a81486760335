import type { Logger } from '../logging';
import type { ms } from '../media';
import { throttle } from '../util';
import type { Lease } from './lease';
import type { PeerLink, PeerNotice } from './PeerLink';
import type { ConsumerPolicy, PolicyApplier } from './PolicyApplier';
import { QualityWatcher } from './QualityWatcher';
import type { RoomProducer } from './RoomProducer';
import type { RoomRouter } from './RoomRouter';
import type { ConsumerAppData, PeerTransport } from './types';

export type SubscriptionOptions = {
	/** The producer, here or on another node: leased on the subscriber's router. */
	producer: RoomProducer;
	/** The subscriber's router. */
	target: RoomRouter;
	/** The subscriber's receive transport. */
	transport: PeerTransport;
	peerId: string;
	rtpCapabilities: ms.RtpCapabilities;
	policy: PolicyApplier;
	/** Tells the subscriber's client (whichever connection it has at the time). */
	notify: (notice: PeerNotice) => void;
	/** Called once, when the subscription closed; `refused` when the client refused the offer. */
	onClose: (subscription: Subscription, refused: boolean) => void;
	scoreIntervalMs: number;
	logger: Logger;
};

/**
 * One consumer of a peer, from its paused offer to its resume on the client's
 * ack. It holds what the consumer uses: the pipe that brings the producer to
 * the subscriber's router, the router's consumer count and the consumer's
 * policy inputs; close() (or the consumer closing, whatever closed it) frees
 * all of them once and tells the owner.
 */
export class Subscription {
	readonly consumer: ms.Consumer<ConsumerAppData>;
	/** The consumer's inputs to the bitrate and simulcast policy. */
	readonly policy: ConsumerPolicy;

	readonly #pipe: Lease;
	readonly #count: Lease;
	readonly #onClose: SubscriptionOptions['onClose'];
	readonly #logger: Logger;
	readonly #cancelScore: () => void;
	readonly #quality: QualityWatcher;
	#pending = true;
	#refused = false;
	#closed = false;

	private constructor(consumer: ms.Consumer<ConsumerAppData>, pipe: Lease, options: SubscriptionOptions) {
		this.consumer = consumer;
		this.#pipe = pipe;
		this.#count = options.target.countConsumer();
		const { notify } = options;
		this.#quality = new QualityWatcher(consumer, (quality) => notify({ type: 'consumerQuality', consumerId: consumer.id, quality }), options.scoreIntervalMs);
		this.policy = options.policy.track(consumer.id, (wanted, decided) => this.#quality.decided(wanted, decided));
		this.#onClose = options.onClose;
		this.#logger = options.logger;
		consumer.observer.once('close', () => this.close());
		consumer.on('transportclose', () => this.close());
		consumer.on('producerclose', () => this.close());
		consumer.on('producerpause', () => notify({ type: 'consumerPaused', consumerId: consumer.id }));
		consumer.on('producerresume', () => notify({ type: 'consumerResumed', consumerId: consumer.id }));
		consumer.on('layerschange', (layers) => notify({ type: 'consumerLayersChanged', consumerId: consumer.id, layers }));
		const score = throttle(options.scoreIntervalMs, (value: ms.ConsumerScore) =>
			notify({ type: 'consumerScore', consumerId: consumer.id, score: value }));
		consumer.on('score', score);
		consumer.on('score', ({ score: value }: ms.ConsumerScore) => this.policy.setScore(value));
		this.#cancelScore = () => score.cancel();
	}

	/**
	 * A paused consumer of `producer` on the subscriber's receive transport,
	 * piping the producer to the subscriber's router first if it lives on
	 * another (of this node, or of another node). Undefined when it cannot be made (the pipe failed, no codec in
	 * common, the transport or producer closed meanwhile): nothing is held then.
	 */
	static async create(options: SubscriptionOptions): Promise<Subscription | undefined> {
		const { producer, target, peerId } = options;
		const pipe = producer.lease(target);
		try {
			await pipe.ready;
		} catch (error) {
			options.logger.debug('pipe failed', { peerId, producerId: producer.id, error: (error as Error).message });
			pipe.release();
			return undefined;
		}
		let consumer: ms.Consumer<ConsumerAppData>;
		try {
			if (!target.router.canConsume({ producerId: producer.id, rtpCapabilities: options.rtpCapabilities })) {
				pipe.release();
				return undefined;
			}
			consumer = await options.transport.consume<ConsumerAppData>({
				producerId: producer.id,
				rtpCapabilities: options.rtpCapabilities,
				paused: true,
				appData: { peerId, producerPeerId: producer.appData.peerId, source: producer.appData.source },
			});
		} catch (error) {
			// The transport or producer closed meanwhile.
			pipe.release();
			options.logger.debug('consume failed', { peerId, producerId: producer.id, error: (error as Error).message });
			return undefined;
		}
		return new Subscription(consumer, pipe, options);
	}

	get id(): string {
		return this.consumer.id;
	}

	get producerId(): string {
		return this.consumer.producerId;
	}

	/** Offered to the client and not acknowledged yet. */
	get pending(): boolean {
		return this.#pending;
	}

	get closed(): boolean {
		return this.#closed;
	}

	/**
	 * Offers the consumer over `link` and resumes it once the client
	 * acknowledges it; true then. A refusal (or the link's timeout) closes
	 * the subscription; false then. NOTE: with no link (the peer disconnected
	 * meanwhile) the consumer is resumed at once, as it always was.
	 */
	async offer(link: PeerLink | undefined): Promise<boolean> {
		try {
			await link?.offer(this.consumer);
			this.#pending = false;
			await this.consumer.resume();
			this.#quality.start();
			return true;
		} catch (error) {
			this.#pending = false;
			const { peerId } = this.consumer.appData;
			this.#logger.debug('consumer refused by client', { peerId, consumerId: this.id, error: (error as Error).message });
			this.#refused = true;
			this.close();
			return false;
		}
	}

	/** Closes the consumer and gives back what it held. Idempotent. */
	close(): void {
		if (this.#closed) {
			return;
		}
		this.#closed = true;
		this.consumer.close();
		this.#cancelScore();
		this.#quality.close();
		this.policy.release();
		this.#count.release();
		this.#pipe.release();
		this.#onClose(this, this.#refused);
	}
}

import { randomUUID } from 'node:crypto';
import type { WebhooksConfig } from '../config';
import type { Logger } from '../logging';
import type { Store } from '../store';
import { SerialQueue, TypedEmitter, type Clock } from '../util';
import type { WebhookEventName, WebhookSubject } from './events';
import type { RoomSeqs } from './RoomSeqs';
import { UrlSender, type DeliveryResult } from './UrlSender';

/** Why an event was not queued: its URL's queue was full, the store or (for its seq) Redis could not take it. */
export type DropReason = 'queue_full' | 'store_unavailable' | 'cluster_unavailable';

export type WebhooksEvents = {
	dropped: [reason: DropReason];
	attempted: [result: DeliveryResult, seconds: number];
};

export type WebhooksDeps = {
	config: WebhooksConfig & { secret: string };
	store: Store;
	/** The queue's owner in the store: this node's id in a fleet, a fixed one alone. */
	nodeId: string;
	seqs: RoomSeqs;
	clock: Clock;
	logger: Logger;
	fetch?: typeof fetch;
};

/**
 * This node's webhooks: an event is numbered (its room's next seq) and
 * queued in the store for every URL in the order emit() was called, then
 * each URL's sender (UrlSender.ts) delivers its queue. One owner of the
 * senders; close() queues what was emitted before it and stops them.
 */
export class Webhooks {
	readonly observer: TypedEmitter<WebhooksEvents>;
	readonly #deps: WebhooksDeps;
	readonly #senders: UrlSender[];
	readonly #order = new SerialQueue();
	#closed = false;

	constructor(deps: WebhooksDeps) {
		this.#deps = deps;
		this.observer = new TypedEmitter((event, error) => deps.logger.error('webhooks listener failed', { event, error }));
		const { urls, secret, timeoutMs, retryMaxSeconds } = deps.config;
		this.#senders = urls.map((url) => new UrlSender({
			url, nodeId: deps.nodeId, store: deps.store, secret, timeoutMs, retryMaxMs: retryMaxSeconds * 1000, fetch: deps.fetch,
			attempted: (result, seconds) => this.observer.safeEmit('attempted', result, seconds),
			logger: deps.logger.child({ webhook: new URL(url).origin }),
		}));
	}

	/** Starts delivering, the events a previous run of this node left queued first. */
	start(): void {
		this.#senders.forEach((sender) => sender.wake());
	}

	/**
	 * Queues `event` about `subject` after every event emitted before it.
	 * `when`, run in that order too, may call it off (a room that another
	 * node of the fleet started).
	 */
	emit(event: WebhookEventName, subject: WebhookSubject, when?: () => Promise<boolean>): void {
		if (this.#closed) {
			return;
		}
		const createdAt = this.#deps.clock.now();
		void this.#order.run(async () => {
			if (when && !await when()) {
				return;
			}
			const seq = await this.#deps.seqs.next(subject.room.id);
			const id = randomUUID();
			const body = JSON.stringify({ event, id, seq, createdAt: new Date(createdAt).toISOString(), ...subject });
			const { urls, queueSize } = this.#deps.config;
			const full = await this.#deps.store.queueWebhook(this.#deps.nodeId, urls, { eventId: id, body, createdAt }, queueSize).catch((error: unknown) => {
				this.#dropped('store_unavailable', event, error);
				return undefined;
			});
			full?.forEach(() => this.#dropped('queue_full', event));
			this.#senders.forEach((sender) => sender.wake());
		}).catch((error: unknown) => this.#dropped('cluster_unavailable', event, error));
	}

	/** Queues what was emitted so far, then stops the senders (what they did not deliver stays queued). */
	async close(): Promise<void> {
		this.#closed = true;
		await this.#order.run(async () => undefined);
		await Promise.all(this.#senders.map((sender) => sender.close()));
	}

	#dropped(reason: DropReason, event: WebhookEventName, error?: unknown): void {
		this.#deps.logger.warn('webhook event dropped', { reason, event, ...(error ? { error: (error as Error).message } : {}) });
		this.observer.safeEmit('dropped', reason);
	}
}

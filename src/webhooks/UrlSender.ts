import type { Logger } from '../logging';
import type { QueuedWebhook, Store } from '../store';
import { signatureHeader } from './events';

/** What a delivery came to, for metrics: `delivered` (2xx), `refused` (another status), `failed` (no answer in time, no connection). */
export type DeliveryResult = 'delivered' | 'refused' | 'failed';

export type UrlSenderDeps = {
	url: string;
	nodeId: string;
	store: Store;
	secret: string;
	timeoutMs: number;
	retryMaxMs: number;
	/** Told of every attempt. */
	attempted(result: DeliveryResult, seconds: number): void;
	logger: Logger;
	fetch?: typeof fetch;
};

/** How many queued events one read of the store takes. */
const BATCH = 50;
/** How often an idle sender looks at the store without being woken (a queue filled by another process of this node id). */
const IDLE_LOOK_MS = 30_000;

/**
 * Delivers one URL's queue of this node, one event at a time in queue
 * order: an event goes once the receiver answered it 2xx; until then it is
 * tried again, waiting 1 s, then 2, 4 ... up to `retryMaxMs`. Every attempt
 * is signed anew (a retried event's `t` is that of its attempt). Nothing
 * leaves the store before it was delivered, so a restart resends what was
 * not: delivery is at least once.
 */
export class UrlSender {
	readonly #deps: UrlSenderDeps;
	readonly #fetch: typeof fetch;
	#closed = false;
	/** Ends an idle wait. */
	#wake: (() => void) | undefined;
	/** An event was queued since the loop last read the store. */
	#woken = false;
	/** Ends any wait. */
	#cut: (() => void) | undefined;
	#running: Promise<void> | undefined;
	readonly #stop = new AbortController();

	constructor(deps: UrlSenderDeps) {
		this.#deps = deps;
		this.#fetch = deps.fetch ?? fetch;
	}

	/** Starts the loop; later calls only wake it (an event was queued). */
	wake(): void {
		this.#woken = true;
		this.#running ??= this.#run();
		this.#wake?.();
	}

	/** Stops after the attempt under way (its event stays queued unless delivered). */
	async close(): Promise<void> {
		this.#closed = true;
		this.#stop.abort();
		this.#cut?.();
		await this.#running;
	}

	async #run(): Promise<void> {
		let failures = 0;
		while (!this.#closed) {
			this.#woken = false;
			const batch = await this.#deps.store.queuedWebhooks(this.#deps.nodeId, this.#deps.url, BATCH).catch((error: unknown) => {
				this.#deps.logger.warn('webhook queue unreadable', { error: (error as Error).message });
				return undefined;
			});
			if (batch === undefined) {
				await this.#sleep(this.#backoff(++failures));
				continue;
			}
			if (batch.length === 0) {
				if (!this.#woken) {
					await this.#sleep(IDLE_LOOK_MS, true);
				}
				continue;
			}
			for (const queued of batch) {
				while (!this.#closed && !await this.#deliver(queued)) {
					await this.#sleep(this.#backoff(++failures));
				}
				if (this.#closed) {
					return;
				}
				failures = 0;
				await this.#deps.store.webhookDelivered(queued.seq).catch((error: unknown) => {
					// NOTE: it stays queued and goes again: at least once.
					this.#deps.logger.warn('delivered webhook not dequeued', { error: (error as Error).message });
				});
			}
		}
	}

	/** One attempt: whether the receiver took it. */
	async #deliver(queued: QueuedWebhook): Promise<boolean> {
		const startedAt = performance.now();
		const t = Math.floor(Date.now() / 1000);
		let result: DeliveryResult;
		try {
			const response = await this.#fetch(this.#deps.url, {
				method: 'POST',
				headers: { 'Content-Type': 'application/json', 'Switchyard-Signature': signatureHeader(queued.body, this.#deps.secret, t) },
				body: queued.body,
				redirect: 'manual',
				signal: AbortSignal.any([AbortSignal.timeout(this.#deps.timeoutMs), this.#stop.signal]),
			});
			await response.body?.cancel().catch(() => undefined);
			result = response.status >= 200 && response.status < 300 ? 'delivered' : 'refused';
			if (result === 'refused') {
				this.#deps.logger.debug('webhook refused', { status: response.status, eventId: queued.eventId });
			}
		} catch (error) {
			result = 'failed';
			this.#deps.logger.debug('webhook not delivered', { error: (error as Error).message, eventId: queued.eventId });
		}
		if (!this.#closed || result === 'delivered') {
			this.#deps.attempted(result, (performance.now() - startedAt) / 1000);
		}
		return result === 'delivered';
	}

	#backoff(failures: number): number {
		return Math.min(1000 * 2 ** Math.min(failures - 1, 20), this.#deps.retryMaxMs);
	}

	/** Waits `ms`, or less when closed, or (`wakeable`: an idle wait) when an event is queued. */
	#sleep(ms: number, wakeable = false): Promise<void> {
		if (this.#closed) {
			return Promise.resolve();
		}
		return new Promise((resolve) => {
			const done = () => {
				clearTimeout(timer);
				this.#wake = this.#cut = undefined;
				resolve();
			};
			const timer = setTimeout(done, ms);
			this.#cut = done;
			this.#wake = wakeable ? done : undefined;
		});
	}
}

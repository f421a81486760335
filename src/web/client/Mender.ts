import type { SessionState } from './hookTypes';

/** A failed recovery is tried again this many times, after 250 ms, 500 ms, ... up to 4 s (about 12 s in all). */
const MEND_RETRIES = 6;
const MEND_BACKOFF_MS = 250;
const MEND_BACKOFF_MAX_MS = 4000;

/**
 * A session's recoveries (resume, rebuild, a produce that waited for one),
 * run one at a time in the order asked. One that fails is tried again with
 * backoff (the server may have no worker for a moment: every worker died at
 * once); one that fails while `canRetry()` is false (disconnected) waits for
 * the next connect instead, which asks for a new one.
 */
export class Mender {
	/** The recovery under way and those queued after it. */
	#mending?: Promise<void>;
	#closed = false;

	/** `state`: reports a retry (`reconnecting`) and giving up (`failed`). */
	constructor(
		private readonly canRetry: () => boolean,
		private readonly state: (state: SessionState, detail: string) => void,
	) {}

	/** A recovery is under way or queued. */
	get busy(): boolean {
		return this.#mending !== undefined;
	}

	/** Resolves once no recovery is under way, retries and recoveries queued meanwhile included. */
	async idle(): Promise<void> {
		while (this.#mending) {
			await this.#mending;
		}
	}

	/** Queues `run` after the recoveries under way. */
	mend(run: () => Promise<void>): void {
		this.#queue(run, 0);
	}

	/** The session is over: nothing queued runs after this, and nothing is tried again; idempotent. */
	close(): void {
		this.#closed = true;
	}

	#queue(run: () => Promise<void>, attempt: number): void {
		if (this.#closed) {
			return;
		}
		const previous = this.#mending ?? Promise.resolve();
		const mending = previous.then(() => this.#closed ? undefined : run()).catch(async (error: Error) => {
			if (this.#closed || !this.canRetry()) {
				return;
			}
			if (attempt >= MEND_RETRIES) {
				this.state('failed', error.message);
				return;
			}
			this.state('reconnecting', `${error.message}; trying again`);
			await new Promise((resolve) => setTimeout(resolve, Math.min(MEND_BACKOFF_MS * 2 ** attempt, MEND_BACKOFF_MAX_MS)));
			// NOTE: queued before this one settles, so whoever waits on #mending waits for the retry too.
			this.#queue(run, attempt + 1);
		}).finally(() => {
			if (this.#mending === mending) {
				this.#mending = undefined;
			}
		});
		this.#mending = mending;
	}
}

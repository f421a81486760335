import { AppError } from '../errors';
import type { Logger } from '../logging';
import type { CallRecord, Store, User } from '../store';
import type { Clock, Timer } from '../util';
import type { Call, Leg, Media } from './Call';
import { calleeOutcome, type LegOutcome } from './legState';

/** Rows kept while the store cannot answer, at most: past it the oldest is dropped. */
const MAX_PENDING = 10_000;
/** How long a row the store could not take is tried again before it is dropped. */
const RETRY_FOR_MS = 15 * 60_000;
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30_000;

/**
 * Writes call history: both sides of a leg once it ended, the caller's side of
 * an invite that rang nobody. A call that ends while the store cannot answer
 * (PostgreSQL down or restarting) is not lost with it: its rows wait here, in
 * order, and are tried again with backoff for 15 minutes. They live in this
 * process only: a node that stops meanwhile loses them (and says how many).
 */
export class CallHistory {
	readonly #store: Store;
	readonly #clock: Clock;
	readonly #logger: Logger;
	readonly #pending: { record: CallRecord; since: number }[] = [];
	#retry: Timer | undefined;
	#retryDelayMs = RETRY_FIRST_MS;
	#flushing = false;

	constructor(deps: { store: Store; clock: Clock; logger: Logger }) {
		this.#store = deps.store;
		this.#clock = deps.clock;
		this.#logger = deps.logger;
	}

	/**
	 * The rows of a leg that ended in `outcome`: the caller's with that
	 * outcome, the callee's with its own; for a leg withdrawn from its callee,
	 * `silenced` or (a block, calls off) no callee row at all.
	 */
	async leg(call: Call, leg: Leg, outcome: LegOutcome): Promise<void> {
		const durationMs = leg.acceptedAt === undefined ? 0 : this.#clock.now() - leg.acceptedAt;
		const { caller, media, startedAt, id: callId } = call;
		await this.#write({
			callId, userId: caller.id, otherHandle: leg.user.handle, otherDisplayName: leg.user.displayName, direction: 'outgoing', media, outcome, startedAt, durationMs,
		});
		if (leg.withdrawn === 'hidden') {
			return;
		}
		await this.#write({
			callId, userId: leg.user.id, otherHandle: caller.handle, otherDisplayName: caller.displayName, direction: 'incoming', media,
			outcome: leg.withdrawn === 'silenced' ? 'silenced' : calleeOutcome(outcome), startedAt, durationMs,
		});
	}

	/** The callee's row of an invite its settings silenced (it did not ring). */
	async silenced(callee: User, caller: User, invite: { callId: string; media: Media; at: number }): Promise<void> {
		await this.#write({
			callId: invite.callId, userId: callee.id, otherHandle: caller.handle, otherDisplayName: caller.displayName, direction: 'incoming', media: invite.media,
			outcome: 'silenced', startedAt: invite.at, durationMs: 0,
		});
	}

	/** The caller's row for a handle its invite could not ring (the same for every reason). */
	async unavailable(caller: User, handle: string, invite: { callId: string; media: Media; at: number }): Promise<void> {
		await this.#write({
			callId: invite.callId, userId: caller.id, otherHandle: handle, otherDisplayName: handle, direction: 'outgoing', media: invite.media,
			outcome: 'unavailable', startedAt: invite.at, durationMs: 0,
		});
	}

	/** Stops trying the rows still waiting; they are lost, and counted in the log. */
	close(): void {
		this.#clock.clearTimeout(this.#retry);
		this.#retry = undefined;
		if (this.#pending.length > 0) {
			this.#logger.warn('call history not written', { rows: this.#pending.length, reason: 'closed while the store was unavailable' });
			this.#pending.length = 0;
		}
	}

	async #write(record: CallRecord): Promise<void> {
		if (this.#pending.length > 0) {
			// Behind the rows already waiting, so that a history keeps its order.
			this.#keep(record);
			return;
		}
		try {
			await this.#store.addCallRecord(record);
		} catch (error) {
			if (unavailable(error)) {
				this.#logger.warn('call history waiting for the store', { callId: record.callId });
				this.#keep(record);
				return;
			}
			// The account may have been deleted meanwhile.
			this.#logger.debug('call record not written', { callId: record.callId, error: (error as Error).message });
		}
	}

	#keep(record: CallRecord): void {
		if (this.#pending.length >= MAX_PENDING) {
			const dropped = this.#pending.shift()!;
			this.#logger.warn('call history not written', { rows: 1, callId: dropped.record.callId, reason: 'too many rows waiting' });
		}
		this.#pending.push({ record, since: this.#clock.now() });
		this.#scheduleRetry();
	}

	#scheduleRetry(): void {
		if (this.#retry === undefined && !this.#flushing) {
			this.#retry = this.#clock.setTimeout(() => {
				this.#retry = undefined;
				void this.#flush();
			}, this.#retryDelayMs);
		}
	}

	/** Writes the waiting rows in order; stops at the first the store still cannot take and tries again later. */
	async #flush(): Promise<void> {
		this.#flushing = true;
		let written = 0;
		try {
			while (this.#pending.length > 0) {
				const next = this.#pending[0]!;
				if (this.#clock.now() - next.since > RETRY_FOR_MS) {
					this.#pending.shift();
					this.#logger.warn('call history not written', { rows: 1, callId: next.record.callId, reason: 'the store was unavailable too long' });
					continue;
				}
				try {
					await this.#store.addCallRecord(next.record);
					written++;
				} catch (error) {
					if (unavailable(error)) {
						this.#retryDelayMs = Math.min(RETRY_MAX_MS, this.#retryDelayMs * 2);
						return;
					}
					this.#logger.debug('call record not written', { callId: next.record.callId, error: (error as Error).message });
				}
				// NOTE: #keep may have dropped it meanwhile (too many waiting): shift only this row.
				if (this.#pending[0] === next) {
					this.#pending.shift();
				}
			}
			this.#retryDelayMs = RETRY_FIRST_MS;
			this.#logger.info('call history caught up', { rows: written });
		} finally {
			this.#flushing = false;
			if (this.#pending.length > 0) {
				this.#scheduleRetry();
			}
		}
	}
}

function unavailable(error: unknown): boolean {
	return error instanceof AppError && error.code === 'service_unavailable';
}

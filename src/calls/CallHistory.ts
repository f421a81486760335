import type { Logger } from '../logging';
import type { CallRecord, Store, User } from '../store';
import type { Clock } from '../util';
import type { Call, Leg, Media } from './Call';
import { calleeOutcome, type LegOutcome } from './legState';

/** Writes call history: both sides of a leg once it ended, the caller's side of an invite that rang nobody. */
export class CallHistory {
	readonly #store: Store;
	readonly #clock: Clock;
	readonly #logger: Logger;

	constructor(deps: { store: Store; clock: Clock; logger: Logger }) {
		this.#store = deps.store;
		this.#clock = deps.clock;
		this.#logger = deps.logger;
	}

	/** The rows of a leg that ended in `outcome`: the caller's with that outcome, the callee's with its own. */
	async leg(call: Call, leg: Leg, outcome: LegOutcome): Promise<void> {
		const durationMs = leg.acceptedAt === undefined ? 0 : this.#clock.now() - leg.acceptedAt;
		const { caller, media, startedAt, id: callId } = call;
		await this.#write({
			callId, userId: caller.id, otherHandle: leg.user.handle, otherDisplayName: leg.user.displayName, direction: 'outgoing', media, outcome, startedAt, durationMs,
		});
		await this.#write({
			callId, userId: leg.user.id, otherHandle: caller.handle, otherDisplayName: caller.displayName, direction: 'incoming', media,
			outcome: calleeOutcome(outcome), startedAt, durationMs,
		});
	}

	/** The caller's row for a handle its invite could not ring (the same for every reason). */
	async unavailable(caller: User, handle: string, invite: { callId: string; media: Media; at: number }): Promise<void> {
		await this.#write({
			callId: invite.callId, userId: caller.id, otherHandle: handle, otherDisplayName: handle, direction: 'outgoing', media: invite.media,
			outcome: 'unavailable', startedAt: invite.at, durationMs: 0,
		});
	}

	async #write(record: CallRecord): Promise<void> {
		try {
			await this.#store.addCallRecord(record);
		} catch (error) {
			// The account may have been deleted meanwhile.
			this.#logger.debug('call record not written', { callId: record.callId, error: (error as Error).message });
		}
	}
}

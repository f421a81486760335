import type { Logger } from '../logging';
import type { TypedEmitter } from '../util';
import type { User } from '../store';
import type { Call, Leg, Media } from './Call';
import type { CallBook } from './CallBook';
import type { CallHistory } from './CallHistory';
import type { CallRooms } from './CallRooms';
import type { CallServiceEvents } from './events';
import type { InviteLimits } from './InviteLimiter';
import type { LegOutcome, Withdrawn } from './legState';
import type { Presence } from './Presence';

export type CallEndsDeps = {
	book: CallBook;
	rooms: CallRooms;
	presence: Presence;
	history: CallHistory;
	limiter: InviteLimits;
	observer: TypedEmitter<CallServiceEvents>;
	logger: Logger;
};

/**
 * What follows when a leg or a whole call ends: who is told, which history
 * rows are written, and whether the call is over. CallService decides that
 * something ends; this is the one place that carries it out.
 */
export class CallEnds {
	readonly #deps: CallEndsDeps;

	constructor(deps: CallEndsDeps) {
		this.#deps = deps;
	}

	/** A leg rang out: its callee missed it, its caller hears no answer. */
	async timeout(call: Call, leg: Leg): Promise<void> {
		const { book, presence, limiter } = this.#deps;
		call.settle(leg, 'no_answer');
		book.changed(call);
		if (!leg.withdrawn) {
			presence.notifyUser(leg.user.id, 'missed', { callId: call.id });
		}
		call.callerDevice.notify('noAnswer', { callId: call.id, handle: leg.user.handle });
		void limiter.unanswered(call.caller.id, leg.user.handle);
		await this.recordLeg(call, leg, 'no_answer');
		this.endIfOver(call);
	}

	/**
	 * An invite that `callee`'s settings silenced (when there is one): its
	 * row, and `silenced` to its devices. NOTE: only after the caller's reply
	 * (sent before the event loop's next turn), so that nothing the caller
	 * sees, nor when, differs from any other denial.
	 */
	silenceAfterReply(caller: User, callee: User | undefined, invite: { callId: string; media: Media; at: number }): void {
		if (!callee) {
			return;
		}
		setImmediate(() => {
			this.#deps.history.silenced(callee, caller, invite).then(
				() => this.#notifySilenced(caller, callee.id, invite.callId, invite.media),
				(error: Error) => this.#deps.logger.warn('silenced call not recorded', { callId: invite.callId, error }),
			);
		});
	}

	/**
	 * A settings change or a block while `leg` rings: it stops ringing for its
	 * callee, and is recorded as the new settings say (`as`); the caller
	 * hears it ring on, exactly like a call nobody answers.
	 */
	withdraw(call: Call, leg: Leg, as: Withdrawn): void {
		call.withdraw(leg, as);
		this.#deps.book.changed(call);
		this.#deps.presence.notifyUser(leg.user.id, 'cancelled', { callId: call.id });
		if (as === 'silenced') {
			this.#notifySilenced(call.caller, leg.user.id, call.id, call.media);
		}
	}

	#notifySilenced(caller: User, calleeId: string, callId: string, media: Media): void {
		const from = { handle: caller.handle, displayName: caller.displayName, verified: caller.verified };
		this.#deps.presence.notifyUser(calleeId, 'silenced', { callId, from, media });
	}

	/** Ends the call when no callee is ringing or in it any more. */
	endIfOver(call: Call): void {
		if (call.over) {
			void this.end(call, 'over');
		}
	}

	/** Ends the call and every leg still going: ringing ones are cancelled, those in it answered. */
	async end(call: Call, reason: 'hangup' | 'over'): Promise<void> {
		const { book, rooms, presence, observer } = this.#deps;
		const wasActive = call.state === 'active';
		const ended = call.end(reason);
		if (!ended) {
			return;
		}
		book.ended(call);
		// NOTE: before any await: the room access goes with the state, at once.
		rooms.removeParty(call, call.caller.id, reason === 'hangup' ? 'hangup' : 'callEnded');
		for (const { leg } of ended.filter(({ outcome }) => outcome === 'answered')) {
			rooms.removeParty(call, leg.user.id, 'callEnded');
		}
		for (const { leg, outcome } of ended) {
			if (outcome === 'answered') {
				presence.notifyUser(leg.user.id, 'ended', { callId: call.id, reason: 'hangup' });
			} else {
				presence.notifyUser(leg.user.id, 'cancelled', { callId: call.id });
			}
		}
		for (const { leg, outcome } of ended) {
			await this.recordLeg(call, leg, outcome);
		}
		call.callerDevice.notify('ended', { callId: call.id, reason });
		if (wasActive) {
			observer.safeEmit('callEnded', call.id);
		}
		observer.safeEmit('over', call.id, wasActive ? 'answered' : reason === 'hangup' ? 'cancelled' : 'not_answered');
	}

	/** History rows for both sides of one leg, once it has ended. */
	async recordLeg(call: Call, leg: Leg, outcome: LegOutcome): Promise<void> {
		if (outcome !== 'answered') {
			this.#deps.observer.safeEmit('outcome', outcome);
		}
		await this.#deps.history.leg(call, leg, outcome);
	}
}

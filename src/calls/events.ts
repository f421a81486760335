import { CALLER_OUTCOMES } from '../store';

/** A caller's outcome with one callee, as metrics count them: a history outcome, or `rate_limited` for an invite refused before it rang anyone. */
export const INVITE_OUTCOMES = [...CALLER_OUTCOMES, 'rate_limited'] as const;
export type InviteOutcome = (typeof INVITE_OUTCOMES)[number];

export type CallServiceEvents = {
	/** An invite went out (to at least one ringing callee). */
	invited: [callId: string, ringing: number];
	/** A caller's outcome with one callee, or `unavailable` / `rate_limited` for an invite that rang nobody. */
	outcome: [outcome: InviteOutcome];
	/** A call's first callee answered: the call went ringing -> active. */
	callStarted: [callId: string];
	/** A call that had been active ended (one that never was sends no callEnded). */
	callEnded: [callId: string];
	/** Any call ended: `answered` when someone had answered, `cancelled` when the caller hung up while it rang, else `not_answered`. */
	over: [callId: string, outcome: CallOverOutcome];
	/** A spam report (Reports.ts); `counted`: the reported account had rung the reporter. */
	report: [counted: boolean];
	/** An invite to someone who does not vouch for the caller, denied: the caller is new, or reported. */
	restricted: [reason: Standing];
};

/** How a call went, as a whole and without any callee's private reason (a block, settings, a decline are all `not_answered`). */
export type CallOverOutcome = 'answered' | 'cancelled' | 'not_answered';

/** Why a caller rings only those who vouch for it (Reports.ts). */
export type Standing = 'newAccount' | 'reported';

/**
 * Why a party lost its place in a call's room: `hangup` when it hung up
 * itself (call waiting included), `callEnded` when the call ended around it.
 */
export type PartyRemovedReason = 'hangup' | 'callEnded';

export type CallServiceAccessEvents = {
	/**
	 * A party of a call lost its access to the call's room: a callee hung up,
	 * or the call ended. Sent synchronously with the state change, after
	 * which `mayJoinRoom` refuses the party and `token` answers not_found; the
	 * listener puts the account's peers out of `roomId`.
	 */
	partyRemoved: [removal: { callId: string; roomId: string; userId: string; reason: PartyRemovedReason }];
};

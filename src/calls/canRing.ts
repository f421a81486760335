import type { RelationsBetween, UserSettings } from '../store';

/** How caller and callee stand: the callee's side, and blocks in both directions. */
export type Relations = RelationsBetween;

/** canRing's answer; `reason` is for logs and metrics, never for the caller. */
export type RingDecision = { allowed: true } | { allowed: false; reason: 'self' | 'blocked' | 'calls_disabled' | 'not_allowed' };

/**
 * Whether `caller` may ring `callee`. Pure: no I/O, the caller looks up
 * `relations` and the callee's `settings` first.
 *
 * In order: nobody rings themselves (`self`); a block in either direction wins
 * over everything else (`blocked`); calls must be on (`calls_disabled`); then
 * any allowFrom entry that matches lets the call ring, else `not_allowed`.
 *
 * NOTE: the reason is for logs and metrics only. The API never shows it to a
 * caller, who is told `unavailable` whatever it is, so a denial reveals neither
 * a block nor the callee's settings.
 */
export function canRing(
	caller: { id: string; verified: boolean },
	callee: { id: string },
	relations: Relations,
	settings: UserSettings,
): RingDecision {
	if (caller.id === callee.id) {
		return { allowed: false, reason: 'self' };
	}
	if (relations.calleeBlockedCaller || relations.callerBlockedCallee) {
		return { allowed: false, reason: 'blocked' };
	}
	if (!settings.calls.enabled) {
		return { allowed: false, reason: 'calls_disabled' };
	}
	const { allowFrom } = settings.calls;
	const allowed = allowFrom.everyone ||
		(allowFrom.contacts && relations.calleeHasCallerAsContact) ||
		(allowFrom.following && relations.calleeFollowsCaller) ||
		(allowFrom.verified && caller.verified);
	return allowed ? { allowed: true } : { allowed: false, reason: 'not_allowed' };
}

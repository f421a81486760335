/** Who may ring an account: what GET / PATCH /api/me/settings expose. */
export type UserSettings = {
	/** Listed in the directory search. */
	discoverable: boolean;
	calls: {
		enabled: boolean;
		allowFrom: {
			/** People in my address book. */
			contacts: boolean;
			/** People I follow. */
			following: boolean;
			/** Verified accounts. */
			verified: boolean;
			everyone: boolean;
		};
	};
};

/** Discoverable; calls on; contacts and people I follow may ring me. */
export const DEFAULT_SETTINGS: Readonly<UserSettings> = Object.freeze({
	discoverable: true,
	calls: Object.freeze({
		enabled: true,
		allowFrom: Object.freeze({ contacts: true, following: true, verified: false, everyone: false }),
	}),
});

/** How caller and callee stand: the callee's side, and blocks in both directions. */
export type Relations = {
	calleeHasCallerAsContact: boolean;
	calleeFollowsCaller: boolean;
	calleeBlockedCaller: boolean;
	callerBlockedCallee: boolean;
};

export type RingDecision = { allowed: true } | { allowed: false; reason: 'self' | 'blocked' | 'calls_disabled' | 'not_allowed' };

/**
 * Whether `caller` may ring `callee`. Pure. A block in either direction wins
 * over everything; then calls must be enabled; then any allowFrom entry that
 * matches lets the call ring.
 *
 * The reason is for logs and metrics only: a caller is told `unavailable`
 * whatever it is, so denials reveal neither blocks nor settings.
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

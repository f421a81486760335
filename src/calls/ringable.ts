import type { Logger } from '../logging';
import type { Store, User } from '../store';
import type { Call } from './Call';
import { canRing } from './canRing';
import type { Standing } from './events';
import type { Presence } from './Presence';

/**
 * Which of `handles` ring for `caller`'s invite: each that screenCallee
 * lets ring and that `call` (a running call it adds to) has not rung yet.
 * The rest are `unavailable`, the one answer for every reason; of those,
 * `silenced` are the callees whose settings silence the caller (by handle).
 */
export async function screenInvite(deps: RingableDeps, caller: User, handles: string[], call?: Call): Promise<{ invited: Record<string, 'ringing' | 'unavailable'>; ringable: User[]; silenced: Map<string, User> }> {
	const invited: Record<string, 'ringing' | 'unavailable'> = {};
	const ringable: User[] = [];
	const silenced = new Map<string, User>();
	const standing = await deps.standing(caller);
	for (const handle of handles) {
		const screened = await screenCallee(deps, caller, handle, { standing });
		const fresh = screened.verdict !== 'deny' && !call?.legOf(screened.callee.id);
		invited[handle] = fresh && screened.verdict === 'ring' ? 'ringing' : 'unavailable';
		if (fresh && screened.verdict === 'ring') {
			ringable.push(screened.callee);
		} else if (fresh && screened.verdict === 'silence') {
			silenced.set(handle, screened.callee);
		}
	}
	return { invited, ringable, silenced };
}

export type RingableDeps = {
	store: Store;
	presence: Presence;
	logger: Logger;
	/** Whether the caller rings only those who vouch for it, and why (Reports.ts). */
	standing(caller: User): Promise<Standing | undefined>;
	/** An invite denied for the caller's standing. */
	held(reason: Standing): void;
};

/** What an invite does to one callee: ring it, silence it (its settings say so), or nothing. */
export type Screened = { verdict: 'ring' | 'silence'; callee: User } | { verdict: 'deny' };

/**
 * Whether `caller` may ring the account `handle` now: one path for every
 * reason (unknown handle, a block either way, the callee's settings,
 * offline), so that nothing after it can tell them apart. A caller that
 * allowFrom does not let ring is `silence`d instead when the callee's
 * silenceOthers is on, online or not (never a blocked one, nor with calls
 * off). A caller of `standing` (new, or reported) rings only a callee who
 * has it as a contact or follows it, and is never silenced. `online: false`
 * leaves out the presence check (an invite already ringing).
 */
export async function screenCallee(deps: RingableDeps, caller: User, handle: string, { online = true, standing = undefined as Standing | undefined } = {}): Promise<Screened> {
	const callee = await deps.store.userByHandle(handle);
	if (!callee) {
		return { verdict: 'deny' };
	}
	const relations = await deps.store.relationsBetween(caller.id, callee.id);
	const decision = canRing({ id: caller.id, verified: caller.verified }, { id: callee.id }, relations, callee.settings);
	// NOTE: asked whatever the decision, so that a denial takes as long as an offline callee (a fleet asks Redis).
	const connected = online ? await deps.presence.isOnline(callee.id) : true;
	const held = standing !== undefined && !relations.calleeHasCallerAsContact && !relations.calleeFollowsCaller;
	if (held && decision.allowed) {
		deps.held(standing);
	}
	if (decision.allowed && connected && !held) {
		return { verdict: 'ring', callee };
	}
	if (held) {
		deps.logger.debug('invite denied', { callerId: caller.id, reason: standing });
		return { verdict: 'deny' };
	}
	const silence = !decision.allowed && decision.reason === 'not_allowed' && callee.settings.calls.silenceOthers;
	deps.logger.debug('invite denied', { callerId: caller.id, reason: decision.allowed ? 'offline' : decision.reason, silenced: silence });
	return silence ? { verdict: 'silence', callee } : { verdict: 'deny' };
}

import type { Logger } from '../logging';
import type { Store, User } from '../store';
import type { Call } from './Call';
import { canRing } from './canRing';
import type { Presence } from './Presence';

/**
 * Which of `handles` ring for `caller`'s invite: each that ringableCallee
 * allows and that `call` (a running call it adds to) has not rung yet. The
 * rest are `unavailable`, the one answer for every reason.
 */
export async function screenInvite(deps: RingableDeps, caller: User, handles: string[], call?: Call): Promise<{ invited: Record<string, 'ringing' | 'unavailable'>; ringable: User[] }> {
	const invited: Record<string, 'ringing' | 'unavailable'> = {};
	const ringable: User[] = [];
	for (const handle of handles) {
		const callee = await ringableCallee(deps, caller, handle);
		invited[handle] = callee && !call?.legOf(callee.id) ? 'ringing' : 'unavailable';
		if (callee && invited[handle] === 'ringing') {
			ringable.push(callee);
		}
	}
	return { invited, ringable };
}

export type RingableDeps = { store: Store; presence: Presence; logger: Logger };

/**
 * The account `handle` if `caller` may ring it now, else undefined: one path
 * for every reason (unknown handle, a block either way, the callee's
 * settings, offline), so that nothing after it can tell them apart.
 * `online: false` leaves out the presence check (an invite already ringing).
 */
export async function ringableCallee(deps: RingableDeps, caller: User, handle: string, { online = true } = {}): Promise<User | undefined> {
	const callee = await deps.store.userByHandle(handle);
	if (!callee) {
		return undefined;
	}
	const relations = await deps.store.relationsBetween(caller.id, callee.id);
	const decision = canRing({ id: caller.id, verified: caller.verified }, { id: callee.id }, relations, callee.settings);
	// NOTE: asked whatever the decision, so that a denial takes as long as an offline callee (a fleet asks Redis).
	const connected = online ? await deps.presence.isOnline(callee.id) : true;
	if (!decision.allowed || !connected) {
		deps.logger.debug('invite denied', { callerId: caller.id, reason: decision.allowed ? 'offline' : decision.reason });
		return undefined;
	}
	return callee;
}

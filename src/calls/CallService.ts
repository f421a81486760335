import { randomUUID } from 'node:crypto';
import type { Claims, TokenService } from '../auth';
import type { CallsConfig } from '../config';
import { AppError, NotFoundError } from '../errors';
import type { Logger } from '../logging';
import type { Store, User } from '../store';
import { systemClock, TypedEmitter, type Clock } from '../util';
import { Call, CALL_ROOM_PREFIX, isCallRoom, type Leg, type Media } from './Call';
import { CallHistory } from './CallHistory';
import type { CallServiceAccessEvents, CallServiceEvents, PartyRemovedReason } from './events';
import { snapshotPartySession, type CallFleet, type CallSnapshot, type Party, type RemoteCallRequest, type RemoteCallRequests } from './fleet';
import { InviteLimiter, type InviteLimits } from './InviteLimiter';
import { LEG_STATES, type LegOutcome } from './legState';
import type { Device, Presence } from './Presence';
import { ringableCallee, type RingableDeps } from './ringable';

export type CallServiceDeps = {
	store: Store;
	presence: Presence;
	tokens: TokenService;
	config: CallsConfig;
	logger: Logger;
	clock?: Clock;
	/** The unsolicited-call limits: in memory by default; a cluster node's count in Redis. */
	inviteLimits?: InviteLimits;
	/** The other nodes of a fleet (cluster/FleetCalls.ts); none for a node alone. */
	fleet?: CallFleet;
};

/**
 * Calls between accounts: invites ring every connected device of each callee
 * the callee's settings allow, accept / decline / cancel / hang up, ring
 * timeouts, call waiting, unsolicited-call limits and call history.
 *
 * Privacy: a callee who may not be rung (blocked either way, not allowed by
 * settings, calls off, unknown handle, offline) is `unavailable`, decided by
 * one code path, and nothing that follows differs between those reasons.
 *
 * In a fleet a call is owned by the node it was placed on: that node holds
 * its state, runs its timers and writes its history, and publishes it
 * (`fleet.save`) so that a callee's device on another node can answer it
 * there (its request is sent to the owner). A node that takes over the calls
 * of a dead owner `adopt`s them.
 */
export class CallService {
	readonly observer: TypedEmitter<CallServiceEvents>;
	/** What the signaling layer acts on: room access revoked. */
	readonly events: TypedEmitter<CallServiceAccessEvents>;
	readonly #store: Store;
	readonly #presence: Presence;
	readonly #ringDeps: RingableDeps;
	readonly #tokens: TokenService;
	readonly #config: CallsConfig;
	readonly #logger: Logger;
	readonly #clock: Clock;
	readonly #limiter: InviteLimits;
	readonly #history: CallHistory;
	readonly #fleet: CallFleet | undefined;
	/** Calls in progress that this node owns: a call leaves the map as it ends. */
	readonly #calls = new Map<string, Call>();
	#draining = false;

	constructor(deps: CallServiceDeps) {
		this.#store = deps.store;
		this.#presence = deps.presence;
		this.#tokens = deps.tokens;
		this.#config = deps.config;
		this.#logger = deps.logger.child({ module: 'calls' });
		this.#ringDeps = { store: deps.store, presence: deps.presence, logger: this.#logger };
		this.#clock = deps.clock ?? systemClock;
		this.#limiter = deps.inviteLimits ?? new InviteLimiter(deps.config, this.#clock);
		this.#history = new CallHistory({ store: deps.store, clock: this.#clock, logger: this.#logger });
		this.#fleet = deps.fleet;
		this.observer = new TypedEmitter((event, error) => this.#logger.error('calls listener failed', { event, error }));
		this.events = new TypedEmitter((event, error) => this.#logger.error('calls listener failed', { event, error }));
	}

	/** Calls in progress (ringing or active). */
	get activeCalls(): number {
		return this.#calls.size;
	}

	/**
	 * Invites handles to a new call, or to the running call `callId` of the caller.
	 * @throws unavailable when no callee rings; rate_limited, premium_required for the caller's own situation
	 */
	async invite(claims: Claims, device: Device, request: { to: string[]; media?: Media; callId?: string }): Promise<{ callId: string; invited: Record<string, 'ringing' | 'unavailable'> }> {
		const caller = await this.#account(claims);
		if (this.#draining && !request.callId) {
			throw new AppError('draining');
		}
		if (this.#config.placeRequiresPremium && !claims.premium) {
			throw new AppError('premium_required', 'placing calls needs a premium account');
		}
		let call: Call | undefined;
		if (request.callId) {
			call = this.#calls.get(request.callId);
			if (!call || call.caller.id !== caller.id) {
				throw new NotFoundError('no such call');
			}
		}
		const handles = [...new Set(request.to)];
		try {
			await this.#limiter.check(caller.id, handles.length);
		} catch (error) {
			this.observer.safeEmit('outcome', 'rate_limited');
			throw error;
		}

		const invited: Record<string, 'ringing' | 'unavailable'> = {};
		const ringable: User[] = [];
		for (const handle of handles) {
			const callee = await ringableCallee(this.#ringDeps, caller, handle);
			invited[handle] = callee && !call?.legOf(callee.id) ? 'ringing' : 'unavailable';
			if (callee && invited[handle] === 'ringing') {
				ringable.push(callee);
			}
		}
		const now = this.#clock.now();
		const media = call?.media ?? request.media ?? 'video';
		for (const [handle, state] of Object.entries(invited)) {
			if (state === 'unavailable') {
				void this.#limiter.unanswered(caller.id, handle);
				this.observer.safeEmit('outcome', 'unavailable');
				await this.#history.unavailable(caller, handle, { callId: call?.id ?? randomUUID(), media, at: now });
			}
		}
		if (ringable.length === 0) {
			throw new AppError('unavailable');
		}

		const waiting = new Map<string, boolean>();
		for (const callee of ringable) {
			waiting.set(callee.id, await this.#inAnotherCall(callee.id, call?.id));
		}
		const isNew = !call;
		if (!call) {
			call = new Call({ id: randomUUID(), caller, callerDevice: device, callerSid: loginSession(claims), media, clock: this.#clock, logger: this.#logger });
			this.#calls.set(call.id, call);
		}
		const ringing = call;
		for (const callee of ringable) {
			ringing.ring(callee, this.#config.ringTimeoutSeconds * 1000, (leg) => void this.#timeout(ringing, leg));
		}
		try {
			// NOTE: published before anyone rings, so that a device on another node can answer at once.
			await this.#fleet?.save(call.snapshot(this.#fleet.nodeId));
		} catch (error) {
			for (const callee of ringable) {
				call.unring(call.legOf(callee.id)!);
			}
			if (isNew) {
				call.close();
				this.#calls.delete(call.id);
			}
			throw error;
		}
		for (const callee of ringable) {
			this.#notifyRinging(call, callee, waiting.get(callee.id)!);
		}
		this.observer.safeEmit('invited', call.id, ringable.length);
		return { callId: call.id, invited };
	}

	/** A callee's device answers: the other devices stop ringing; both sides get the room and a token. */
	async accept(claims: Party, device: Device, callId: string): Promise<{ callId: string; roomId: string; token: string }> {
		if (!this.#calls.has(callId)) {
			return this.#remote(claims, callId, 'accept', { party: party(claims), device: device.id });
		}
		const { call, leg } = this.#ringingLegOf(claims, callId, 'accepted');
		// Call waiting: answering ends the callee's other calls, here and on other nodes.
		for (const other of this.#calls.values()) {
			if (other !== call && other.isParty(leg.user.id)) {
				await this.hangup(claims, other.id);
			}
		}
		for (const other of await this.#fleet?.partyCalls(leg.user.id) ?? []) {
			await this.#fleet!.send(other, 'hangup', { party: party(claims) })
				.catch((error: unknown) => this.#logger.warn('call waiting: the other call did not hang up', { callId: other.id, error: (error as Error).message }));
		}
		LEG_STATES.assert(leg.state, 'accepted');
		const starts = call.state === 'ringing';
		const sid = loginSession(claims);
		call.settle(leg, 'accepted', sid);
		this.#changed(call);
		this.#presence.notifyUser(leg.user.id, 'answeredElsewhere', { callId }, device);
		const token = await this.#roomToken(leg.user, call.roomId, sid);
		const callerToken = await this.#roomToken(call.caller, call.roomId, call.callerSid);
		call.callerDevice.notify('accepted', { callId, handle: leg.user.handle, roomId: call.roomId, token: callerToken });
		this.observer.safeEmit('outcome', 'answered');
		if (starts) {
			this.observer.safeEmit('callStarted', callId);
		}
		return { callId, roomId: call.roomId, token };
	}

	async decline(claims: Party, device: Device, callId: string): Promise<void> {
		if (!this.#calls.has(callId)) {
			await this.#remote(claims, callId, 'decline', { party: party(claims), device: device.id });
			return;
		}
		const { call, leg } = this.#ringingLegOf(claims, callId, 'declined');
		call.settle(leg, 'declined');
		this.#changed(call);
		this.#presence.notifyUser(leg.user.id, 'ended', { callId, reason: 'declinedElsewhere' }, device);
		call.callerDevice.notify('declined', { callId, handle: leg.user.handle });
		void this.#limiter.unanswered(call.caller.id, leg.user.handle);
		await this.#recordLeg(call, leg, 'declined');
		this.#endIfOver(call);
	}

	/** The caller gives up: every ringing callee's devices get call.cancelled. */
	async cancel(claims: Party, callId: string): Promise<void> {
		this.#assertAccount(claims);
		const call = this.#calls.get(callId);
		if (!call) {
			await this.#remote(claims, callId, 'cancel', { party: party(claims) });
			return;
		}
		if (call.caller.id !== claims.sub) {
			throw new NotFoundError('no such call');
		}
		const ringing = call.legs().filter((leg) => leg.state === 'ringing');
		if (ringing.length === 0) {
			throw new AppError('invalid_state', 'nobody is ringing');
		}
		for (const leg of ringing) {
			call.settle(leg, 'cancelled');
		}
		this.#changed(call);
		for (const leg of ringing) {
			this.#presence.notifyUser(leg.user.id, 'cancelled', { callId });
			await this.#recordLeg(call, leg, 'cancelled');
		}
		this.#endIfOver(call);
	}

	/**
	 * A fresh room token for a party of a running call: room tokens expire
	 * (auth.tokenTtlSeconds), calls need not, and a reconnection needs a
	 * valid one. Only the login session that placed or answered the call gets
	 * one. @throws not_found when the caller is not (or no longer) in it, the
	 * same for every reason
	 */
	async token(claims: Party, callId: string): Promise<{ roomId: string; token: string }> {
		const sid = loginSession(claims);
		const call = this.#calls.get(callId);
		if (!call) {
			return this.#remote(claims, callId, 'token', { party: party(claims) });
		}
		if (call.partySession(claims.sub) !== sid) {
			throw new NotFoundError('no such call');
		}
		// NOTE: the party as the call holds it, not read from the store again, so that a party can get back
		// to its call while the store cannot answer. A deleted account's token opens no room: its session is gone.
		const user = call.caller.id === claims.sub ? call.caller : call.legOf(claims.sub)!.user;
		return { roomId: call.roomId, token: await this.#roomToken(user, call.roomId, sid) };
	}

	/**
	 * Whether the bearer may join the call room `roomId` now: the token grants
	 * exactly that room (a `*` grant never covers a call), and its `sub` is a
	 * current party of the live call (its caller, or a callee who accepted and
	 * has not hung up), on the login session the token was issued to when the
	 * token names one (`psid`). False for a room of no live call.
	 */
	async mayJoinRoom(claims: Claims, roomId: string): Promise<boolean> {
		if (!isCallRoom(roomId) || !claims.rooms?.includes(roomId)) {
			return false;
		}
		const callId = roomId.slice(CALL_ROOM_PREFIX.length);
		const call = this.#calls.get(callId);
		let sid = call?.partySession(claims.sub);
		if (!call && this.#fleet) {
			const elsewhere = await this.#fleet.get(callId);
			sid = elsewhere && snapshotPartySession(elsewhere, claims.sub);
		}
		if (sid === undefined) {
			return false;
		}
		const bound = claims.psid ?? claims.sid;
		return bound === undefined || bound === sid;
	}

	/** A party hangs up: the caller ends the call for everyone; a callee leaves it. */
	async hangup(claims: Party, callId: string): Promise<void> {
		this.#assertAccount(claims);
		const call = this.#calls.get(callId);
		if (!call) {
			await this.#remote(claims, callId, 'hangup', { party: party(claims) });
			return;
		}
		if (!call.isParty(claims.sub)) {
			throw new NotFoundError('no such call');
		}
		if (call.caller.id === claims.sub) {
			await this.#end(call, 'hangup');
			return;
		}
		const leg = call.legOf(claims.sub)!;
		call.settle(leg, 'answered');
		this.#changed(call);
		this.#removeParty(call, leg.user.id, 'hangup');
		await this.#recordLeg(call, leg, 'answered');
		this.#presence.notifyUser(leg.user.id, 'ended', { callId, reason: 'hangup' });
		call.callerDevice.notify('left', { callId, handle: leg.user.handle });
		this.#endIfOver(call);
	}

	/**
	 * A block or a settings change: ringing that is no longer allowed stops on
	 * the callee's devices. The caller's side keeps ringing until the timeout,
	 * exactly like a call nobody answers, so the change is not revealed.
	 */
	async recheck(userId: string, { fleet = true } = {}): Promise<void> {
		if (fleet) {
			this.#fleet?.recheck(userId);
		}
		for (const call of this.#calls.values()) {
			for (const leg of call.legs()) {
				if (leg.state !== 'ringing' || leg.silenced || (leg.user.id !== userId && call.caller.id !== userId)) {
					continue;
				}
				const callee = await ringableCallee(this.#ringDeps, call.caller, leg.user.handle, { online: false });
				if (!callee) {
					call.silence(leg);
					this.#changed(call);
					this.#presence.notifyUser(leg.user.id, 'cancelled', { callId: call.id });
				}
			}
		}
	}

	/** A device went away: a caller's only device ending means its ringing calls are cancelled. */
	async deviceGone(claims: Claims, device: Device): Promise<void> {
		for (const call of [...this.#calls.values()]) {
			if (call.callerDevice.id === device.id && call.state === 'ringing') {
				await this.cancel(claims, call.id).catch(() => undefined);
			}
		}
	}

	/** The calls this node owns, as the fleet sees them (owned by `owner`, this node's id). */
	snapshots(owner: string): CallSnapshot[] {
		return [...this.#calls.values()].map((call) => call.snapshot(owner));
	}

	/** Stops placing new calls; running ones go on. */
	drain(): void {
		this.#draining = true;
	}

	close(): void {
		for (const call of this.#calls.values()) {
			call.close();
		}
		this.#calls.clear();
		this.#history.close();
	}

	/**
	 * Takes over a call whose owner died, as the fleet last saw it (the fleet
	 * has already made this node its owner): the legs still ringing end as
	 * missed at once (their caller's device went with the owner), and a call
	 * that someone is in goes on here, to end with the right history when they
	 * hang up.
	 */
	async adopt(snapshot: CallSnapshot): Promise<void> {
		if (this.#calls.has(snapshot.id)) {
			return;
		}
		const users = new Map<string, User>();
		for (const id of [snapshot.caller.id, ...snapshot.legs.map((leg) => leg.id)]) {
			const user = await this.#store.userById(id);
			if (user) {
				users.set(id, user);
			}
		}
		if (!users.has(snapshot.caller.id)) {
			this.#fleet?.remove(snapshot);
			return;
		}
		const call = Call.restore(snapshot, users, { callerDevice: this.#presence.device(snapshot.caller.device), clock: this.#clock, logger: this.#logger });
		this.#calls.set(call.id, call);
		this.#logger.info('call taken over', { callId: call.id, from: snapshot.owner, state: call.state });
		this.#changed(call);
		for (const leg of call.legs().filter((l) => l.state === 'ringing')) {
			await this.#timeout(call, leg);
		}
		this.#endIfOver(call);
	}

	/** A request from another node for a call this node owns. @throws not_found when it does not own it (any more) */
	async answerRemote<R extends RemoteCallRequest>(callId: string, request: R, args: RemoteCallRequests[R]['args']): Promise<RemoteCallRequests[R]['result']> {
		if (!this.#calls.has(callId)) {
			throw new NotFoundError('no such call');
		}
		const answers: { [K in RemoteCallRequest]: (a: RemoteCallRequests[K]['args']) => Promise<RemoteCallRequests[K]['result']> } = {
			accept: (a) => this.accept(a.party, this.#presence.device(a.device), callId),
			decline: async (a) => (await this.decline(a.party, this.#presence.device(a.device), callId), null),
			cancel: async (a) => (await this.cancel(a.party, callId), null),
			hangup: async (a) => (await this.hangup(a.party, callId), null),
			token: (a) => this.token(a.party, callId),
		};
		return answers[request](args);
	}

	/** Sends a request for a call this node does not own to its owner. @throws not_found for no such call, as for a local one */
	async #remote<R extends RemoteCallRequest>(claims: Party, callId: string, request: R, args: RemoteCallRequests[R]['args']): Promise<RemoteCallRequests[R]['result']> {
		this.#assertAccount(claims);
		const call = await this.#fleet?.get(callId);
		if (!call || call.owner === this.#fleet!.nodeId) {
			throw new NotFoundError('no such call');
		}
		return this.#fleet!.send(call, request, args);
	}

	/** Whether the account is a party of a call other than `callId`, owned here or elsewhere. */
	async #inAnotherCall(userId: string, callId: string | undefined): Promise<boolean> {
		if ([...this.#calls.values()].some((other) => other.id !== callId && other.isParty(userId))) {
			return true;
		}
		return (await this.#fleet?.partyCalls(userId) ?? []).some((other) => other.id !== callId);
	}

	/** Publishes a call's new state to the fleet (in order: each save is sent before the next). */
	#changed(call: Call): void {
		this.#fleet?.save(call.snapshot(this.#fleet.nodeId))
			.catch((error: unknown) => this.#logger.warn('call state not published', { callId: call.id, error: (error as Error).message }));
	}

	#notifyRinging(call: Call, callee: User, waiting: boolean): void {
		this.#presence.notifyUser(callee.id, 'incoming', {
			callId: call.id,
			from: { handle: call.caller.handle, displayName: call.caller.displayName, verified: call.caller.verified },
			media: call.media,
			waiting,
		});
		call.callerDevice.notify('ringing', { callId: call.id, handle: callee.handle });
		this.#logger.info('call ringing', { callId: call.id, calleeId: callee.id });
	}

	async #timeout(call: Call, leg: Leg): Promise<void> {
		call.settle(leg, 'no_answer');
		this.#changed(call);
		if (!leg.silenced) {
			this.#presence.notifyUser(leg.user.id, 'missed', { callId: call.id });
		}
		call.callerDevice.notify('noAnswer', { callId: call.id, handle: leg.user.handle });
		void this.#limiter.unanswered(call.caller.id, leg.user.handle);
		await this.#recordLeg(call, leg, 'no_answer');
		this.#endIfOver(call);
	}

	/** Ends the call when no callee is ringing or in it any more. */
	#endIfOver(call: Call): void {
		if (call.over) {
			void this.#end(call, 'over');
		}
	}

	async #end(call: Call, reason: 'hangup' | 'over'): Promise<void> {
		const wasActive = call.state === 'active';
		const ended = call.end(reason);
		if (!ended) {
			return;
		}
		this.#calls.delete(call.id);
		this.#fleet?.remove(call.snapshot(this.#fleet.nodeId));
		// NOTE: before any await: the room access goes with the state, at once.
		this.#removeParty(call, call.caller.id, reason === 'hangup' ? 'hangup' : 'callEnded');
		for (const { leg } of ended.filter(({ outcome }) => outcome === 'answered')) {
			this.#removeParty(call, leg.user.id, 'callEnded');
		}
		for (const { leg, outcome } of ended) {
			if (outcome === 'answered') {
				this.#presence.notifyUser(leg.user.id, 'ended', { callId: call.id, reason: 'hangup' });
			} else {
				this.#presence.notifyUser(leg.user.id, 'cancelled', { callId: call.id });
			}
		}
		for (const { leg, outcome } of ended) {
			await this.#recordLeg(call, leg, outcome);
		}
		call.callerDevice.notify('ended', { callId: call.id, reason });
		if (wasActive) {
			this.observer.safeEmit('callEnded', call.id);
		}
	}

	/** History rows for both sides of one leg, once it has ended. */
	async #recordLeg(call: Call, leg: Leg, outcome: LegOutcome): Promise<void> {
		if (outcome !== 'answered') {
			this.observer.safeEmit('outcome', outcome);
		}
		await this.#history.leg(call, leg, outcome);
	}

	/** The callee's leg of a live call, which must be ringing (and not silenced) to become `to`. @throws not_found, invalid_state */
	#ringingLegOf(claims: Party, callId: string, to: 'accepted' | 'declined'): { call: Call; leg: Leg } {
		this.#assertAccount(claims);
		const call = this.#calls.get(callId);
		const leg = call?.legOf(claims.sub);
		if (!call || !leg) {
			throw new NotFoundError('no such call');
		}
		LEG_STATES.assert(leg.state, to);
		if (leg.silenced) {
			throw new AppError('invalid_state', 'the call is over');
		}
		return { call, leg };
	}

	#removeParty(call: Call, userId: string, reason: PartyRemovedReason): void {
		this.#logger.debug('room access revoked', { callId: call.id, userId, reason });
		const removal = { callId: call.id, roomId: call.roomId, userId, reason };
		this.events.safeEmit('partyRemoved', removal);
		this.#fleet?.partyRemoved(removal);
	}

	/** Another node's call lost a party: its peers here leave the call's room. */
	remotePartyRemoved(removal: CallServiceAccessEvents['partyRemoved'][0]): void {
		this.events.safeEmit('partyRemoved', removal);
	}

	/** Calls are an account's: a room token (no login session) cannot act on them. */
	#assertAccount(claims: Party): void {
		loginSession(claims);
	}

	async #account(claims: Claims): Promise<User> {
		const user = claims.sid ? await this.#store.userById(claims.sub) : undefined;
		if (!user) {
			throw new AppError('unauthorized', 'calls need an account token');
		}
		return user;
	}

	/** A token for the call's room, bound to the login session `sid` of the device it goes to. */
	async #roomToken(user: User, roomId: string, sid: string): Promise<string> {
		return this.#tokens.issue({ sub: user.id, handle: user.handle, name: user.displayName, verified: user.verified, premium: user.premium, rooms: [roomId], psid: sid });
	}
}

/** The login session of an account token. @throws unauthorized for any other token */
function loginSession(claims: Party): string {
	if (!claims.sid) {
		throw new AppError('unauthorized', 'calls need an account token');
	}
	return claims.sid;
}

/** Who acts, as a request to another node carries it. */
function party(claims: Party): Party {
	return { sub: claims.sub, sid: loginSession(claims) };
}

import { randomUUID } from 'node:crypto';
import type { Claims, TokenService } from '../auth';
import type { CallsConfig } from '../config';
import { AppError, NotFoundError } from '../errors';
import type { Logger } from '../logging';
import type { Store, User } from '../store';
import { systemClock, TypedEmitter, type Clock } from '../util';
import { Call, CALL_ROOM_PREFIX, isCallRoom, type Leg, type Media } from './Call';
import { CallHistory } from './CallHistory';
import type { CallServiceAccessEvents, CallServiceEvents, PartyRemovedReason, Standing } from './events';
import { CallBook } from './CallBook';
import { CallEnds } from './CallEnds';
import { CallRooms } from './CallRooms';
import { loginSession, partyOf, type CallFleet, type CallSnapshot, type Party, type PartyIdentity, type RemoteCallRequest, type RemoteCallRequests } from './fleet';
import { InviteLimiter, type InviteLimits } from './InviteLimiter';
import { publishedIdentity } from './partyIdentity';
import { LEG_STATES, type LegOutcome } from './legState';
import type { Device, Presence } from './Presence';
import { Reports } from './Reports';
import { screenCallee, screenInvite, type RingableDeps } from './ringable';

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
	/** What the signaling layer acts on: room access revoked (CallRooms). */
	readonly events: CallRooms['events'];
	/** Spam reports, and who rings only those who vouch for it. */
	readonly reports: Reports;
	readonly #store: Store;
	readonly #presence: Presence;
	readonly #ringDeps: RingableDeps;
	readonly #config: CallsConfig;
	readonly #logger: Logger;
	readonly #clock: Clock;
	readonly #limiter: InviteLimits;
	readonly #history: CallHistory;
	/** The calls this node owns (a call leaves the book as it ends), and the way to the fleet's others. */
	readonly #book: CallBook;
	readonly #rooms: CallRooms;
	readonly #ends: CallEnds;
	#draining = false;

	constructor(deps: CallServiceDeps) {
		this.#store = deps.store;
		this.#presence = deps.presence;
		this.#config = deps.config;
		this.#logger = deps.logger.child({ module: 'calls' });
		this.#clock = deps.clock ?? systemClock;
		this.#limiter = deps.inviteLimits ?? new InviteLimiter(deps.config, this.#clock);
		this.#history = new CallHistory({ store: deps.store, clock: this.#clock, logger: this.#logger });
		this.#book = new CallBook(deps.fleet, this.#logger);
		this.#rooms = new CallRooms({ book: this.#book, tokens: deps.tokens, logger: this.#logger });
		this.events = this.#rooms.events;
		this.observer = new TypedEmitter((event, error) => this.#logger.error('calls listener failed', { event, error }));
		this.reports = new Reports({ store: deps.store, config: deps.config, clock: this.#clock, observer: this.observer, ringing: (a, b) => this.#book.ringing(a, b) });
		const held = (reason: Standing) => this.observer.safeEmit('restricted', reason);
		this.#ringDeps = { store: deps.store, presence: deps.presence, logger: this.#logger, standing: (caller) => this.reports.restricted(caller), held };
		this.#ends = new CallEnds({ book: this.#book, rooms: this.#rooms, presence: this.#presence, history: this.#history, limiter: this.#limiter, observer: this.observer, logger: this.#logger });
	}

	/** Calls in progress (ringing or active). */
	get activeCalls(): number {
		return this.#book.size;
	}

	/** The device `deviceId` of the bearer's login session, as a party's identity (partyIdentity.ts). @throws e2ee_unavailable */
	async identity(claims: Party, deviceId: string | undefined): Promise<PartyIdentity | undefined> {
		return publishedIdentity(this.#store, claims, deviceId);
	}

	/**
	 * Invites handles to a new call, placed from the device `identity`, or to
	 * the running call `callId` of the caller.
	 * @throws unavailable when no callee rings; rate_limited, premium_required for the caller's own situation
	 */
	async invite(claims: Claims, device: Device, request: { to: string[]; media?: Media; callId?: string }, identity?: PartyIdentity): Promise<{ callId: string; invited: Record<string, 'ringing' | 'unavailable'> }> {
		const caller = await this.#account(claims);
		if (this.#draining && !request.callId) {
			throw new AppError('draining');
		}
		if (this.#config.placeRequiresPremium && !claims.premium) {
			throw new AppError('premium_required', 'placing calls needs a premium account');
		}
		let call: Call | undefined;
		if (request.callId) {
			call = this.#book.get(request.callId);
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

		const { invited, ringable, silenced } = await screenInvite(this.#ringDeps, caller, handles, call);
		const now = this.#clock.now();
		const media = call?.media ?? request.media ?? 'video';
		for (const [handle, state] of Object.entries(invited)) {
			if (state === 'unavailable') {
				const invite = { callId: call?.id ?? randomUUID(), media, at: now };
				void this.#limiter.unanswered(caller.id, handle);
				this.observer.safeEmit('outcome', 'unavailable');
				await this.#history.unavailable(caller, handle, invite);
				this.#ends.silenceAfterReply(caller, silenced.get(handle), invite);
			}
		}
		if (ringable.length === 0) {
			throw new AppError('unavailable');
		}

		const waiting = new Map<string, boolean>();
		for (const callee of ringable) {
			waiting.set(callee.id, await this.#book.inAnotherCall(callee.id, call?.id));
		}
		const isNew = !call;
		if (!call) {
			call = new Call({ id: randomUUID(), caller, callerDevice: device, callerSid: loginSession(claims), callerIdentity: identity, media, clock: this.#clock, logger: this.#logger });
			this.#book.add(call);
		}
		const ringing = call;
		const legs = ringable.map((callee) => ringing.ring(callee, this.#config.ringTimeoutSeconds * 1000, (leg) => void this.#ends.timeout(ringing, leg)));
		await this.#book.publish(call, { legs, isNew });
		for (const callee of ringable) {
			this.#notifyRinging(call, callee, waiting.get(callee.id)!);
		}
		this.observer.safeEmit('invited', call.id, ringable.length);
		return { callId: call.id, invited };
	}

	/** A callee's device (`identity`) answers: the other devices stop ringing; both sides get the room and a token. */
	async accept(claims: Party, device: Device, callId: string, identity?: PartyIdentity): Promise<{ callId: string; roomId: string; token: string }> {
		if (!this.#book.get(callId)) {
			return this.#remote(claims, callId, 'accept', { party: partyOf(claims), device: device.id, ...(identity ? { identity } : {}) });
		}
		const { call, leg } = this.#ringingLegOf(claims, callId, 'accepted');
		// Call waiting: answering ends the callee's other calls, here and on other nodes.
		for (const other of this.#book.values()) {
			if (other !== call && other.isParty(leg.user.id)) {
				await this.hangup(claims, other.id);
			}
		}
		await this.#book.hangUpElsewhere(partyOf(claims));
		LEG_STATES.assert(leg.state, 'accepted');
		const starts = call.state === 'ringing';
		const sid = loginSession(claims);
		call.settle(leg, 'accepted', sid, identity);
		this.#book.changed(call);
		this.#presence.notifyUser(leg.user.id, 'answeredElsewhere', { callId }, device);
		const token = await this.#rooms.token(leg.user, call, sid);
		const callerToken = await this.#rooms.token(call.caller, call, call.callerSid);
		call.callerDevice.notify('accepted', { callId, handle: leg.user.handle, roomId: call.roomId, token: callerToken });
		this.observer.safeEmit('outcome', 'answered');
		if (starts) {
			this.observer.safeEmit('callStarted', callId);
		}
		return { callId, roomId: call.roomId, token };
	}

	async decline(claims: Party, device: Device, callId: string): Promise<void> {
		if (!this.#book.get(callId)) {
			await this.#remote(claims, callId, 'decline', { party: partyOf(claims), device: device.id });
			return;
		}
		const { call, leg } = this.#ringingLegOf(claims, callId, 'declined');
		call.settle(leg, 'declined');
		this.#book.changed(call);
		this.#presence.notifyUser(leg.user.id, 'ended', { callId, reason: 'declinedElsewhere' }, device);
		call.callerDevice.notify('declined', { callId, handle: leg.user.handle });
		void this.#limiter.unanswered(call.caller.id, leg.user.handle);
		await this.#ends.recordLeg(call, leg, 'declined');
		this.#ends.endIfOver(call);
	}

	/** The caller gives up: every ringing callee's devices get call.cancelled. */
	async cancel(claims: Party, callId: string): Promise<void> {
		this.#assertAccount(claims);
		const call = this.#book.get(callId);
		if (!call) {
			await this.#remote(claims, callId, 'cancel', { party: partyOf(claims) });
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
		this.#book.changed(call);
		for (const leg of ringing) {
			this.#presence.notifyUser(leg.user.id, 'cancelled', { callId });
			await this.#ends.recordLeg(call, leg, 'cancelled');
		}
		this.#ends.endIfOver(call);
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
		const call = this.#book.get(callId);
		if (!call) {
			return this.#remote(claims, callId, 'token', { party: partyOf(claims) });
		}
		if (call.party(claims.sub)?.sid !== sid) {
			throw new NotFoundError('no such call');
		}
		// NOTE: the party as the call holds it, not read from the store again, so that a party can get back
		// to its call while the store cannot answer. A deleted account's token opens no room: its session is gone.
		const user = call.caller.id === claims.sub ? call.caller : call.legOf(claims.sub)!.user;
		return { roomId: call.roomId, token: await this.#rooms.token(user, call, sid) };
	}

	/** Whether the bearer may join the call room `roomId` now, and with which device (CallRooms.mayJoin). */
	async mayJoinRoom(claims: Claims, roomId: string): Promise<{ identity?: PartyIdentity } | undefined> {
		return this.#rooms.mayJoin(claims, roomId);
	}

	/** A party hangs up: the caller ends the call for everyone; a callee leaves it. */
	async hangup(claims: Party, callId: string): Promise<void> {
		this.#assertAccount(claims);
		const call = this.#book.get(callId);
		if (!call) {
			await this.#remote(claims, callId, 'hangup', { party: partyOf(claims) });
			return;
		}
		if (!call.isParty(claims.sub)) {
			throw new NotFoundError('no such call');
		}
		if (call.caller.id === claims.sub) {
			await this.#ends.end(call, 'hangup');
			return;
		}
		const leg = call.legOf(claims.sub)!;
		call.settle(leg, 'answered');
		this.#book.changed(call);
		this.#rooms.removeParty(call, leg.user.id, 'hangup');
		await this.#ends.recordLeg(call, leg, 'answered');
		this.#presence.notifyUser(leg.user.id, 'ended', { callId, reason: 'hangup' });
		call.callerDevice.notify('left', { callId, handle: leg.user.handle });
		this.#ends.endIfOver(call);
	}

	/**
	 * A block or a settings change: ringing that is no longer allowed stops on
	 * the callee's devices. The caller's side keeps ringing until the timeout,
	 * exactly like a call nobody answers, so the change is not revealed.
	 */
	async recheck(userId: string, { fleet = true } = {}): Promise<void> {
		if (fleet) {
			this.#book.recheckElsewhere(userId);
		}
		for (const call of this.#book.values()) {
			for (const leg of call.legs()) {
				if (leg.state !== 'ringing' || leg.withdrawn || (leg.user.id !== userId && call.caller.id !== userId)) {
					continue;
				}
				const { verdict } = await screenCallee(this.#ringDeps, call.caller, leg.user.handle, { online: false });
				if (verdict !== 'ring') {
					this.#ends.withdraw(call, leg, verdict === 'silence' ? 'silenced' : 'hidden');
				}
			}
		}
	}

	/** A device went away: a caller's only device ending means its ringing calls are cancelled. */
	async deviceGone(claims: Claims, device: Device): Promise<void> {
		for (const call of this.#book.values()) {
			if (call.callerDevice.id === device.id && call.state === 'ringing') {
				await this.cancel(claims, call.id).catch(() => undefined);
			}
		}
	}

	/** Whether this node owns the call `callId` (a request from another node may act on it here). */
	owns(callId: string): boolean {
		return this.#book.get(callId) !== undefined;
	}

	/** The calls this node owns, as the fleet sees them. */
	snapshots(): CallSnapshot[] {
		return this.#book.snapshots();
	}

	/** Stops placing new calls; running ones go on. */
	drain(): void {
		this.#draining = true;
	}

	close(): void {
		this.#book.close();
		this.#history.close();
	}

	/**
	 * Takes over a call whose owner died, as the fleet last saw it
	 * (FleetCalls has made this node its owner): the legs still ringing end
	 * as missed at once (their caller's device went with the owner), and a call
	 * that someone is in goes on here, to end with the right history when they
	 * hang up.
	 */
	async takeOver(call: Call): Promise<void> {
		if (this.#book.get(call.id)) {
			return;
		}
		this.#book.add(call);
		this.#logger.info('call taken over', { callId: call.id, state: call.state });
		this.#book.changed(call);
		for (const leg of call.legs().filter((l) => l.state === 'ringing')) {
			await this.#ends.timeout(call, leg);
		}
		this.#ends.endIfOver(call);
	}

	/** Sends a request for a call this node does not own to its owner. @throws not_found for no such call, as for a local one */
	async #remote<R extends RemoteCallRequest>(claims: Party, callId: string, request: R, args: RemoteCallRequests[R]['args']): Promise<RemoteCallRequests[R]['result']> {
		this.#assertAccount(claims);
		return this.#book.send(callId, request, args);
	}

	#notifyRinging(call: Call, callee: User, waiting: boolean): void {
		const { handle, displayName, verified } = call.caller;
		this.#presence.notifyUser(callee.id, 'incoming', { callId: call.id, from: { handle, displayName, verified }, media: call.media, waiting, e2ee: true });
		call.callerDevice.notify('ringing', { callId: call.id, handle: callee.handle });
		this.#logger.info('call ringing', { callId: call.id, calleeId: callee.id });
	}

	/** The callee's leg of a live call, which must be ringing (and not withdrawn) to become `to`. @throws not_found, invalid_state */
	#ringingLegOf(claims: Party, callId: string, to: 'accepted' | 'declined'): { call: Call; leg: Leg } {
		this.#assertAccount(claims);
		const call = this.#book.get(callId);
		const leg = call?.legOf(claims.sub);
		if (!call || !leg) {
			throw new NotFoundError('no such call');
		}
		LEG_STATES.assert(leg.state, to);
		if (leg.withdrawn) {
			throw new AppError('invalid_state', 'the call is over');
		}
		return { call, leg };
	}

	/** Another node's call lost a party: its peers here leave the call's room. */
	remotePartyRemoved(removal: CallServiceAccessEvents['partyRemoved'][0]): void {
		this.#rooms.removedElsewhere(removal);
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
}

import { randomUUID } from 'node:crypto';
import type { Claims, TokenService } from '../auth';
import type { CallsConfig } from '../config';
import { AppError, NotFoundError } from '../errors';
import type { Logger } from '../logging';
import type { Store, User } from '../store';
import { systemClock, TypedEmitter, type Clock, type Timer } from '../util';
import { canRing } from './canRing';
import { InviteLimiter } from './InviteLimiter';
import { assertTransition, calleeOutcome, isFinal, type LegState } from './legState';
import type { Device, Presence } from './Presence';

export type Media = 'audio' | 'video';

/** One callee of a call. */
type Leg = {
	user: User;
	state: LegState;
	everAccepted: boolean;
	/** Ringing was stopped on the callee's side (a block or settings change); the caller still sees it ring. */
	silenced: boolean;
	timer?: Timer;
	acceptedAt?: number;
	/** The login session that answered: the callee's room token is bound to it. */
	sid?: string;
};

type Call = {
	id: string;
	roomId: string;
	caller: User;
	callerDevice: Device;
	/** The login session that placed the call: the caller's room token ends with it. */
	callerSid: string;
	media: Media;
	startedAt: number;
	legs: Map<string, Leg>;
	ended: boolean;
};

export type CallServiceEvents = {
	/** An invite went out (to at least one ringing callee). */
	invited: [callId: string, ringing: number];
	/** A caller's outcome with one callee, or `unavailable` / `rate_limited` for an invite that rang nobody. */
	outcome: [outcome: 'answered' | 'declined' | 'no_answer' | 'cancelled' | 'unavailable' | 'rate_limited'];
	callStarted: [callId: string];
	callEnded: [callId: string];
};

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

/** Rooms of calls are `call-<callId>`: the prefix is reserved, no other room may use it. */
export const CALL_ROOM_PREFIX = 'call-';

/** Whether `roomId` names a call's room, which only the call's parties may join (CallService.mayJoinRoom). */
export function isCallRoom(roomId: string): boolean {
	return roomId.startsWith(CALL_ROOM_PREFIX);
}

export type CallServiceDeps = {
	store: Store;
	presence: Presence;
	tokens: TokenService;
	config: CallsConfig;
	logger: Logger;
	clock?: Clock;
};

/**
 * Calls between accounts: invites ring every connected device of each callee
 * the callee's settings allow, accept / decline / cancel / hang up, ring
 * timeouts, call waiting, unsolicited-call limits and call history.
 *
 * Privacy: a callee who may not be rung (blocked either way, not allowed by
 * settings, calls off, unknown handle, offline) is `unavailable`, decided by
 * one code path, and nothing that follows differs between those reasons.
 */
export class CallService {
	readonly observer: TypedEmitter<CallServiceEvents>;
	/** What the signaling layer acts on: room access revoked. */
	readonly events: TypedEmitter<CallServiceAccessEvents>;
	readonly #store: Store;
	readonly #presence: Presence;
	readonly #tokens: TokenService;
	readonly #config: CallsConfig;
	readonly #logger: Logger;
	readonly #clock: Clock;
	readonly #limiter: InviteLimiter;
	readonly #calls = new Map<string, Call>();
	#draining = false;

	constructor(deps: CallServiceDeps) {
		this.#store = deps.store;
		this.#presence = deps.presence;
		this.#tokens = deps.tokens;
		this.#config = deps.config;
		this.#logger = deps.logger.child({ module: 'calls' });
		this.#clock = deps.clock ?? systemClock;
		this.#limiter = new InviteLimiter(deps.config, this.#clock);
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
			if (!call || call.ended || call.caller.id !== caller.id) {
				throw new NotFoundError('no such call');
			}
		}
		const handles = [...new Set(request.to)];
		try {
			this.#limiter.check(caller.id, handles.length);
		} catch (error) {
			this.observer.safeEmit('outcome', 'rate_limited');
			throw error;
		}

		const invited: Record<string, 'ringing' | 'unavailable'> = {};
		const ringable: User[] = [];
		for (const handle of handles) {
			const callee = await this.#ringable(caller, handle);
			invited[handle] = callee && !call?.legs.has(callee.id) ? 'ringing' : 'unavailable';
			if (callee && invited[handle] === 'ringing') {
				ringable.push(callee);
			}
		}
		const now = this.#clock.now();
		const media = call?.media ?? request.media ?? 'video';
		for (const [handle, state] of Object.entries(invited)) {
			if (state === 'unavailable') {
				this.#limiter.unanswered(caller.id, handle);
				this.observer.safeEmit('outcome', 'unavailable');
				await this.#record(caller, { handle, displayName: handle }, 'outgoing', media, 'unavailable', now, 0, call?.id ?? randomUUID());
			}
		}
		if (ringable.length === 0) {
			throw new AppError('unavailable');
		}

		call ??= this.#newCall(caller, loginSession(claims), device, media, now);
		for (const callee of ringable) {
			this.#ring(call, callee);
		}
		this.observer.safeEmit('invited', call.id, ringable.length);
		return { callId: call.id, invited };
	}

	/** A callee's device answers: the other devices stop ringing; both sides get the room and a token. */
	async accept(claims: Claims, device: Device, callId: string): Promise<{ callId: string; roomId: string; token: string }> {
		const { call, leg } = this.#legOf(claims, callId);
		assertTransition(leg.state, 'accepted');
		if (leg.silenced) {
			throw new AppError('invalid_state', 'the call is over');
		}
		// Call waiting: answering ends the callee's other calls.
		for (const other of this.#calls.values()) {
			if (other !== call && this.#isParty(other, leg.user.id)) {
				await this.hangup(claims, other.id);
			}
		}
		this.#settle(call, leg, 'accepted');
		leg.everAccepted = true;
		leg.acceptedAt = this.#clock.now();
		leg.sid = loginSession(claims);
		this.#presence.notifyUser(leg.user.id, 'call.answeredElsewhere', { callId }, device);
		const token = await this.#roomToken(leg.user, call.roomId, leg.sid);
		const callerToken = await this.#roomToken(call.caller, call.roomId, call.callerSid);
		call.callerDevice.notify('call.accepted', { callId, handle: leg.user.handle, roomId: call.roomId, token: callerToken });
		this.observer.safeEmit('outcome', 'answered');
		if ([...call.legs.values()].filter((l) => l.everAccepted).length === 1) {
			this.observer.safeEmit('callStarted', callId);
		}
		this.#logger.info('call ringing -> active', { callId });
		return { callId, roomId: call.roomId, token };
	}

	async decline(claims: Claims, device: Device, callId: string): Promise<void> {
		const { call, leg } = this.#legOf(claims, callId);
		assertTransition(leg.state, 'declined');
		if (leg.silenced) {
			throw new AppError('invalid_state', 'the call is over');
		}
		this.#settle(call, leg, 'declined');
		this.#presence.notifyUser(leg.user.id, 'call.ended', { callId, reason: 'declinedElsewhere' }, device);
		if (!leg.silenced) {
			call.callerDevice.notify('call.declined', { callId, handle: leg.user.handle });
		}
		this.#limiter.unanswered(call.caller.id, leg.user.handle);
		await this.#recordLeg(call, leg, leg.silenced ? 'no_answer' : 'declined');
		this.#endIfOver(call);
	}

	/** The caller gives up: every ringing callee's devices get call.cancelled. */
	async cancel(claims: Claims, callId: string): Promise<void> {
		this.#assertAccount(claims);
		const call = this.#calls.get(callId);
		if (!call || call.caller.id !== claims.sub || call.ended) {
			throw new NotFoundError('no such call');
		}
		const ringing = [...call.legs.values()].filter((leg) => leg.state === 'ringing');
		if (ringing.length === 0) {
			throw new AppError('invalid_state', 'nobody is ringing');
		}
		for (const leg of ringing) {
			this.#settle(call, leg, 'cancelled');
			this.#presence.notifyUser(leg.user.id, 'call.cancelled', { callId });
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
	async token(claims: Claims, callId: string): Promise<{ roomId: string; token: string }> {
		const user = await this.#account(claims);
		const call = this.#calls.get(callId);
		const sid = loginSession(claims);
		if (!call || call.ended || this.#partySession(call, user.id) !== sid) {
			throw new NotFoundError('no such call');
		}
		return { roomId: call.roomId, token: await this.#roomToken(user, call.roomId, sid) };
	}

	/**
	 * Whether the bearer may join the call room `roomId` now: the token grants
	 * exactly that room (a `*` grant never covers a call), and its `sub` is a
	 * current party of the live call (its caller, or a callee who accepted and
	 * has not hung up), on the login session the token was issued to when the
	 * token names one (`psid`). False for a room of no live call.
	 */
	mayJoinRoom(claims: Claims, roomId: string): boolean {
		if (!isCallRoom(roomId) || !claims.rooms?.includes(roomId)) {
			return false;
		}
		const call = this.#calls.get(roomId.slice(CALL_ROOM_PREFIX.length));
		const sid = call && !call.ended ? this.#partySession(call, claims.sub) : undefined;
		if (sid === undefined) {
			return false;
		}
		const bound = claims.psid ?? claims.sid;
		return bound === undefined || bound === sid;
	}

	/** A party hangs up: the caller ends the call for everyone; a callee leaves it. */
	async hangup(claims: Claims, callId: string): Promise<void> {
		this.#assertAccount(claims);
		const call = this.#calls.get(callId);
		if (!call || call.ended || !this.#isParty(call, claims.sub)) {
			throw new NotFoundError('no such call');
		}
		if (call.caller.id === claims.sub) {
			await this.#end(call, 'hangup');
			return;
		}
		const leg = call.legs.get(claims.sub)!;
		this.#settle(call, leg, 'ended');
		this.#removeParty(call, leg.user.id, 'hangup');
		await this.#recordLeg(call, leg, 'answered');
		this.#presence.notifyUser(leg.user.id, 'call.ended', { callId, reason: 'hangup' });
		call.callerDevice.notify('call.left', { callId, handle: leg.user.handle });
		this.#endIfOver(call);
	}

	/**
	 * A block or a settings change: ringing that is no longer allowed stops on
	 * the callee's devices. The caller's side keeps ringing until the timeout,
	 * exactly like a call nobody answers, so the change is not revealed.
	 */
	async recheck(userId: string): Promise<void> {
		for (const call of this.#calls.values()) {
			for (const leg of call.legs.values()) {
				if (leg.state !== 'ringing' || leg.silenced || (leg.user.id !== userId && call.caller.id !== userId)) {
					continue;
				}
				const callee = await this.#ringable(call.caller, leg.user.handle, { online: false });
				if (!callee) {
					leg.silenced = true;
					this.#presence.notifyUser(leg.user.id, 'call.cancelled', { callId: call.id });
				}
			}
		}
	}

	/** A device went away: a caller's only device ending means its ringing calls are cancelled. */
	async deviceGone(claims: Claims, device: Device): Promise<void> {
		for (const call of [...this.#calls.values()]) {
			if (call.callerDevice === device && [...call.legs.values()].every((leg) => !leg.everAccepted)) {
				await this.cancel(claims, call.id).catch(() => undefined);
			}
		}
	}

	/** Stops placing new calls; running ones go on. */
	drain(): void {
		this.#draining = true;
	}

	close(): void {
		for (const call of this.#calls.values()) {
			for (const leg of call.legs.values()) {
				this.#clock.clearTimeout(leg.timer);
			}
		}
		this.#calls.clear();
	}

	/** The callee if it may be rung now, else undefined: one path for every reason. */
	async #ringable(caller: User, handle: string, { online = true } = {}): Promise<User | undefined> {
		const callee = await this.#store.userByHandle(handle);
		if (!callee) {
			return undefined;
		}
		const relations = await this.#store.relationsBetween(caller.id, callee.id);
		const decision = canRing({ id: caller.id, verified: caller.verified }, { id: callee.id }, relations, callee.settings);
		if (!decision.allowed || (online && !this.#presence.isOnline(callee.id))) {
			this.#logger.debug('invite denied', { callerId: caller.id, reason: decision.allowed ? 'offline' : decision.reason });
			return undefined;
		}
		return callee;
	}

	#newCall(caller: User, callerSid: string, device: Device, media: Media, now: number): Call {
		const id = randomUUID();
		const call: Call = { id, roomId: `${CALL_ROOM_PREFIX}${id}`, caller, callerDevice: device, callerSid, media, startedAt: now, legs: new Map(), ended: false };
		this.#calls.set(id, call);
		return call;
	}

	#ring(call: Call, callee: User): void {
		const leg: Leg = { user: callee, state: 'ringing', everAccepted: false, silenced: false };
		call.legs.set(callee.id, leg);
		const waiting = [...this.#calls.values()].some((other) => other !== call && this.#isParty(other, callee.id));
		this.#presence.notifyUser(callee.id, 'call.incoming', {
			callId: call.id,
			from: { handle: call.caller.handle, displayName: call.caller.displayName, verified: call.caller.verified },
			media: call.media,
			waiting,
		});
		call.callerDevice.notify('call.ringing', { callId: call.id, handle: callee.handle });
		leg.timer = this.#clock.setTimeout(() => void this.#timeout(call, leg), this.#config.ringTimeoutSeconds * 1000);
		this.#logger.info('call ringing', { callId: call.id, calleeId: callee.id });
	}

	async #timeout(call: Call, leg: Leg): Promise<void> {
		if (leg.state !== 'ringing' || call.ended) {
			return;
		}
		this.#settle(call, leg, 'missed');
		if (!leg.silenced) {
			this.#presence.notifyUser(leg.user.id, 'call.missed', { callId: call.id });
		}
		call.callerDevice.notify('call.noAnswer', { callId: call.id, handle: leg.user.handle });
		this.#limiter.unanswered(call.caller.id, leg.user.handle);
		await this.#recordLeg(call, leg, 'no_answer');
		this.#endIfOver(call);
	}

	#settle(call: Call, leg: Leg, state: LegState): void {
		assertTransition(leg.state, state);
		this.#logger.debug('leg state', { callId: call.id, calleeId: leg.user.id, from: leg.state, to: state });
		leg.state = state;
		if (state !== 'ringing') {
			this.#clock.clearTimeout(leg.timer);
			leg.timer = undefined;
		}
	}

	/** Ends the call when no callee is ringing or in it any more. */
	#endIfOver(call: Call): void {
		if (!call.ended && [...call.legs.values()].every((leg) => isFinal(leg.state))) {
			void this.#end(call, 'over');
		}
	}

	async #end(call: Call, reason: 'hangup' | 'over'): Promise<void> {
		if (call.ended) {
			return;
		}
		call.ended = true;
		this.#calls.delete(call.id);
		// NOTE: before any await: the room access goes with the state, at once.
		this.#removeParty(call, call.caller.id, reason === 'hangup' ? 'hangup' : 'callEnded');
		for (const leg of call.legs.values()) {
			if (leg.state === 'accepted') {
				this.#removeParty(call, leg.user.id, 'callEnded');
			}
		}
		for (const leg of call.legs.values()) {
			if (leg.state === 'ringing') {
				this.#settle(call, leg, 'cancelled');
				this.#presence.notifyUser(leg.user.id, 'call.cancelled', { callId: call.id });
				await this.#recordLeg(call, leg, 'cancelled');
			} else if (leg.state === 'accepted') {
				this.#settle(call, leg, 'ended');
				this.#presence.notifyUser(leg.user.id, 'call.ended', { callId: call.id, reason: 'hangup' });
				await this.#recordLeg(call, leg, 'answered');
			}
		}
		call.callerDevice.notify('call.ended', { callId: call.id, reason });
		if ([...call.legs.values()].some((leg) => leg.everAccepted)) {
			this.observer.safeEmit('callEnded', call.id);
		}
		this.#logger.info('call ended', { callId: call.id, reason });
	}

	/** History rows for both sides of one leg, once it has settled. */
	async #recordLeg(call: Call, leg: Leg, callerOutcome: 'answered' | 'declined' | 'no_answer' | 'cancelled'): Promise<void> {
		const duration = leg.acceptedAt ? this.#clock.now() - leg.acceptedAt : 0;
		if (callerOutcome !== 'answered') {
			this.observer.safeEmit('outcome', callerOutcome);
		}
		await this.#record(call.caller, { handle: leg.user.handle, displayName: leg.user.displayName }, 'outgoing', call.media, callerOutcome, call.startedAt, duration, call.id);
		await this.#record(leg.user, { handle: call.caller.handle, displayName: call.caller.displayName }, 'incoming', call.media, calleeOutcome(leg), call.startedAt, duration, call.id);
	}

	async #record(user: User, other: { handle: string; displayName: string }, direction: 'outgoing' | 'incoming', media: Media, outcome: string, startedAt: number, durationMs: number, callId: string): Promise<void> {
		try {
			await this.#store.addCallRecord({
				callId, userId: user.id, otherHandle: other.handle, otherDisplayName: other.displayName, direction, media, outcome, startedAt, durationMs,
			});
		} catch (error) {
			// The account may have been deleted meanwhile.
			this.#logger.debug('call record not written', { callId, error: (error as Error).message });
		}
	}

	#legOf(claims: Claims, callId: string): { call: Call; leg: Leg } {
		this.#assertAccount(claims);
		const call = this.#calls.get(callId);
		const leg = call?.legs.get(claims.sub);
		if (!call || !leg || call.ended) {
			throw new NotFoundError('no such call');
		}
		return { call, leg };
	}

	#isParty(call: Call, userId: string): boolean {
		return this.#partySession(call, userId) !== undefined;
	}

	/** The login session through which `userId` is a party of the call (caller, or a callee in it), if it is one. */
	#partySession(call: Call, userId: string): string | undefined {
		if (call.caller.id === userId) {
			return call.callerSid;
		}
		const leg = call.legs.get(userId);
		return leg?.state === 'accepted' ? leg.sid : undefined;
	}

	#removeParty(call: Call, userId: string, reason: PartyRemovedReason): void {
		this.#logger.debug('room access revoked', { callId: call.id, userId, reason });
		this.events.safeEmit('partyRemoved', { callId: call.id, roomId: call.roomId, userId, reason });
	}

	/** Calls are an account's: a room token (no login session) cannot act on them. */
	#assertAccount(claims: Claims): void {
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
function loginSession(claims: Claims): string {
	if (!claims.sid) {
		throw new AppError('unauthorized', 'calls need an account token');
	}
	return claims.sid;
}

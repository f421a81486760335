import type { Logger } from '../logging';
import type { CallMedia, User } from '../store';
import type { Clock, Timer } from '../util';
import { CALL_STATES, type CallState } from './callState';
import type { CallParty, CallSnapshot, PartyIdentity } from './fleet';
import { LEG_STATES, type LegOutcome, type LegState, type Withdrawn } from './legState';
import type { Device } from './Presence';

export type Media = CallMedia;

/** Rooms of calls are `call-<callId>`: the prefix is reserved, no other room may use it. */
export const CALL_ROOM_PREFIX = 'call-';

/** Whether `roomId` names a call's room, which only the call's parties may join (CallService.mayJoinRoom). */
export function isCallRoom(roomId: string): boolean {
	return roomId.startsWith(CALL_ROOM_PREFIX);
}

/** One callee of a call. Its call changes it (Call.settle, Call.withdraw); everyone else reads it. */
export type Leg = {
	readonly user: User;
	readonly state: LegState;
	/** Ringing was stopped on the callee's side (a block or settings change); the caller still sees it ring. */
	readonly withdrawn?: Withdrawn;
	/** When the callee answered. */
	readonly acceptedAt?: number;
	/** The login session that answered: the callee's room token is bound to it. */
	readonly sid?: string;
	/** The device that answered, for the call's end-to-end encryption. */
	readonly identity?: PartyIdentity;
};

type LegRecord = { -readonly [K in keyof Leg]: Leg[K] } & { timer?: Timer };

/**
 * One call: its caller, its legs (one per callee rung) and their ring timers,
 * and its state (callState.ts). Every change of state goes through the
 * tables, which throw InvalidStateError for an illegal one, and is logged
 * `old -> new` once.
 */
export class Call {
	readonly id: string;
	readonly roomId: string;
	readonly caller: User;
	readonly callerDevice: Device;
	/** The login session that placed the call: the caller's room token ends with it. */
	readonly callerSid: string;
	/** The device that placed the call, for its end-to-end encryption. */
	readonly callerIdentity: PartyIdentity | undefined;
	readonly media: Media;
	readonly startedAt: number;
	readonly #legs = new Map<string, LegRecord>();
	readonly #clock: Clock;
	readonly #logger: Logger;
	#state: CallState = 'ringing';

	constructor(init: { id: string; caller: User; callerDevice: Device; callerSid: string; callerIdentity?: PartyIdentity; media: Media; clock: Clock; logger: Logger; startedAt?: number }) {
		this.id = init.id;
		this.roomId = `${CALL_ROOM_PREFIX}${init.id}`;
		this.caller = init.caller;
		this.callerDevice = init.callerDevice;
		this.callerSid = init.callerSid;
		this.callerIdentity = init.callerIdentity;
		this.media = init.media;
		this.#clock = init.clock;
		this.startedAt = init.startedAt ?? init.clock.now();
		this.#logger = init.logger.child({ callId: init.id });
	}

	/**
	 * A call another node owned, as it last published it (a fleet's node took
	 * it over: its owner died). Its legs come back in their states, without
	 * ring timers: the taker settles those still ringing. `users`: the
	 * accounts of the caller and callees, by id.
	 */
	static restore(snapshot: CallSnapshot, users: ReadonlyMap<string, User>, init: { callerDevice: Device; clock: Clock; logger: Logger }): Call {
		const caller = users.get(snapshot.caller.id);
		if (!caller) {
			throw new Error('the caller of the call is not known');
		}
		const call = new Call({ id: snapshot.id, caller, callerSid: snapshot.caller.sid, callerIdentity: snapshot.caller.identity, media: snapshot.media, startedAt: snapshot.startedAt, ...init });
		for (const leg of snapshot.legs) {
			const user = users.get(leg.id);
			if (user) {
				call.#legs.set(user.id, { user, state: leg.state, withdrawn: leg.withdrawn ?? (leg.silenced ? 'hidden' : undefined), acceptedAt: leg.acceptedAt, sid: leg.sid, identity: leg.identity });
			}
		}
		if (snapshot.legs.some((leg) => leg.acceptedAt !== undefined)) {
			call.#state = 'active';
		}
		return call;
	}

	/** The call as the fleet sees it (calls/fleet.ts), owned by the node `owner`. */
	snapshot(owner: string): CallSnapshot {
		return {
			id: this.id,
			owner,
			media: this.media,
			startedAt: this.startedAt,
			caller: {
				id: this.caller.id, handle: this.caller.handle, sid: this.callerSid, device: this.callerDevice.id,
				...(this.callerIdentity ? { identity: this.callerIdentity } : {}),
			},
			legs: this.legs().map((leg) => ({
				id: leg.user.id, handle: leg.user.handle, state: leg.state, silenced: leg.withdrawn !== undefined,
				...(leg.withdrawn === undefined ? {} : { withdrawn: leg.withdrawn }),
				...(leg.sid === undefined ? {} : { sid: leg.sid }),
				...(leg.identity === undefined ? {} : { identity: leg.identity }),
				...(leg.acceptedAt === undefined ? {} : { acceptedAt: leg.acceptedAt }),
			})),
		};
	}

	get state(): CallState {
		return this.#state;
	}

	legs(): Leg[] {
		return [...this.#legs.values()];
	}

	legOf(userId: string): Leg | undefined {
		return this.#legs.get(userId);
	}

	/** Adds a ringing leg for `callee`; `onTimeout` runs if it still rings after `timeoutMs`. */
	ring(callee: User, timeoutMs: number, onTimeout: (leg: Leg) => void): Leg {
		const leg: LegRecord = { user: callee, state: 'ringing' };
		this.#legs.set(callee.id, leg);
		leg.timer = this.#clock.setTimeout(() => {
			leg.timer = undefined;
			onTimeout(leg);
		}, timeoutMs);
		return leg;
	}

	/** Takes back a leg just rung that could not be published (a fleet's Redis is away): as if it never rang. */
	unring(leg: Leg): void {
		const record = this.#record(leg);
		this.#clock.clearTimeout(record.timer);
		this.#legs.delete(record.user.id);
	}

	/**
	 * Moves a leg on (a leg that stops ringing loses its ring timer). The first
	 * leg accepted, by the login session `sid` on the device `identity`, makes
	 * the call active.
	 * @throws InvalidStateError
	 */
	settle(leg: Leg, to: LegState, sid?: string, identity?: PartyIdentity): void {
		const record = this.#record(leg);
		LEG_STATES.assert(record.state, to);
		this.#logger.debug(`call leg ${record.state} -> ${to}`, { calleeId: record.user.id, from: record.state, to });
		record.state = to;
		this.#clock.clearTimeout(record.timer);
		record.timer = undefined;
		if (to === 'accepted') {
			record.acceptedAt = this.#clock.now();
			record.sid = sid;
			record.identity = identity;
			if (this.#state === 'ringing') {
				this.#to('active');
			}
		}
	}

	/** Ringing stops on the callee's side only; the leg goes on ringing for the caller. */
	withdraw(leg: Leg, as: Withdrawn): void {
		this.#record(leg).withdrawn = as;
	}

	/**
	 * Ends the call, and with it every leg still going: a ringing one is
	 * cancelled, one in the call ends answered. Returns those legs, in the
	 * order they were rung, with their outcome; undefined when the call had
	 * already ended.
	 */
	end(reason: 'hangup' | 'over'): { leg: Leg; outcome: LegOutcome }[] | undefined {
		if (this.#state === 'ended') {
			return undefined;
		}
		this.#to('ended', { reason });
		const ended: { leg: Leg; outcome: LegOutcome }[] = [];
		for (const leg of this.#legs.values()) {
			if (leg.state === 'ringing' || leg.state === 'accepted') {
				const outcome = leg.state === 'ringing' ? 'cancelled' : 'answered';
				this.settle(leg, outcome);
				ended.push({ leg, outcome });
			}
		}
		return ended;
	}

	/** Whether no leg is ringing or in the call any more. */
	get over(): boolean {
		return this.legs().every((leg) => LEG_STATES.isFinal(leg.state));
	}

	isParty(userId: string): boolean {
		return this.party(userId) !== undefined;
	}

	/** How `userId` is a party of the call (caller, or a callee in it): its login session and device, if it is one. */
	party(userId: string): CallParty | undefined {
		if (this.caller.id === userId) {
			return { sid: this.callerSid, identity: this.callerIdentity };
		}
		const leg = this.#legs.get(userId);
		return leg?.state === 'accepted' && leg.sid !== undefined ? { sid: leg.sid, identity: leg.identity } : undefined;
	}

	/** Stops every ring timer: the node is closing. */
	close(): void {
		for (const leg of this.#legs.values()) {
			this.#clock.clearTimeout(leg.timer);
			leg.timer = undefined;
		}
	}

	#to(state: CallState, fields: Record<string, unknown> = {}): void {
		CALL_STATES.assert(this.#state, state);
		this.#logger.info(`call ${this.#state} -> ${state}`, { from: this.#state, to: state, ...fields });
		this.#state = state;
	}

	#record(leg: Leg): LegRecord {
		const record = this.#legs.get(leg.user.id);
		if (record !== leg) {
			throw new Error('the leg is not one of this call');
		}
		return record;
	}
}

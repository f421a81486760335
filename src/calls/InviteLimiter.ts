import type { CallsConfig } from '../config';
import { AppError } from '../errors';
import type { Clock } from '../util';

type CallerState = {
	/** When each recent invite went out (one per callee invited). */
	invites: number[];
	/** Callees who did not answer, with when, within the last day. */
	unanswered: Map<string, number>;
	/** Until when the caller may not invite, after crossing a limit. */
	coolDownUntil: number;
};

const DAY_MS = 24 * 3600 * 1000;

/**
 * What CallService asks of its invite limits: this class in memory, or on a
 * cluster node RedisInviteLimiter.ts, the same rules across the fleet.
 */
export type InviteLimits = {
	/** Counts `count` invites by the caller. @throws rate_limited */
	check(callerId: string, count: number): Promise<void> | void;
	/** A callee (by handle) did not answer this caller. Never throws. */
	unanswered(callerId: string, calleeHandle: string): Promise<void> | void;
};

/**
 * Unsolicited-call protection, per caller: at most `invitesPerMinute`
 * invites a minute and `unansweredPerDay` distinct callees who did not answer
 * in 24 h; crossing either starts a cool-down of `coolDownSeconds` during which
 * every invite is refused with rate_limited. In this process: a node alone.
 */
export class InviteLimiter implements InviteLimits {
	readonly #config: CallsConfig;
	readonly #clock: Clock;
	readonly #callers = new Map<string, CallerState>();

	constructor(config: CallsConfig, clock: Clock) {
		this.#config = config;
		this.#clock = clock;
	}

	/** Counts `count` invites by the caller. @throws rate_limited */
	check(callerId: string, count: number): void {
		const now = this.#clock.now();
		const state = this.#state(callerId, now);
		if (state.coolDownUntil > now) {
			throw new AppError('rate_limited', 'too many call invites; try again later');
		}
		if (state.invites.length + count > this.#config.invitesPerMinute || state.unanswered.size >= this.#config.unansweredPerDay) {
			state.coolDownUntil = now + this.#config.coolDownSeconds * 1000;
			throw new AppError('rate_limited', 'too many call invites; try again later');
		}
		for (let i = 0; i < count; i++) {
			state.invites.push(now);
		}
	}

	/** A callee (by handle) did not answer this caller. */
	unanswered(callerId: string, calleeHandle: string): void {
		const now = this.#clock.now();
		this.#state(callerId, now).unanswered.set(calleeHandle, now);
	}

	#state(callerId: string, now: number): CallerState {
		let state = this.#callers.get(callerId);
		if (!state) {
			state = { invites: [], unanswered: new Map(), coolDownUntil: 0 };
			this.#callers.set(callerId, state);
		}
		state.invites = state.invites.filter((at) => now - at < 60_000);
		for (const [handle, at] of state.unanswered) {
			if (now - at >= DAY_MS) {
				state.unanswered.delete(handle);
			}
		}
		return state;
	}
}

import type { CallsConfig } from '../config';
import type { ReportedAccount, Store, User } from '../store';
import type { Clock, TypedEmitter } from '../util';
import type { CallServiceEvents, Standing } from './events';

/** A report counts only if the reported account rang the reporter this recently. */
export const REPORTABLE_FOR_MS = 30 * 24 * 3600_000;
const HOUR_MS = 3600_000;

/**
 * Spam reports and the standing of callers (docs/http-api.md, reports). A
 * report counts against an account only if it rang the reporter within 30
 * days (a call in its history) or rings it now; enough reports from different accounts within the window put it in
 * a cool-down, and a new account starts in one: such a caller rings only the
 * people who have it as a contact or follow it. Its other invites are denied
 * like any other (`unavailable`, never silenced), so it cannot tell.
 * The reports live in the store, so every node of a fleet counts the same.
 */
export class Reports {
	readonly #store: Store;
	readonly #config: Pick<CallsConfig, 'reportsBeforeCoolDown' | 'reportWindowHours' | 'newAccountHours'>;
	readonly #clock: Clock;
	readonly #observer: TypedEmitter<CallServiceEvents>;
	readonly #ringing: (callerId: string, calleeId: string) => Promise<boolean>;

	/** `ringing`: whether a call of the first account rings the second now (CallBook.ringing). */
	constructor(deps: { store: Store; config: CallsConfig; clock: Clock; observer: TypedEmitter<CallServiceEvents>; ringing: (callerId: string, calleeId: string) => Promise<boolean> }) {
		this.#store = deps.store;
		this.#ringing = deps.ringing;
		this.#config = deps.config;
		this.#clock = deps.clock;
		this.#observer = deps.observer;
	}

	/** `reporterId` reports the account `handle`, if there is one; whether it counted (never shown to anyone). */
	async report(reporterId: string, handle: string): Promise<boolean> {
		const now = this.#clock.now();
		const reported = await this.#store.userByHandle(handle);
		const counted = reported !== undefined && reported.id !== reporterId
			&& (await this.#store.rangSince(reporterId, reported.handle, now - REPORTABLE_FOR_MS) || await this.#ringing(reported.id, reporterId));
		if (counted) {
			await this.#store.addReport({ reporterId, reportedId: reported.id, at: now });
		}
		this.#observer.safeEmit('report', counted);
		return counted;
	}

	/** The accounts reported since `since`, most reports first: for operators. */
	reported(since: number, limit: number): Promise<ReportedAccount[]> {
		return this.#store.reportedAccounts(since, limit);
	}

	/**
	 * Whether `caller` now rings only those who vouch for it (have it as a
	 * contact or follow it): a new account, or one reported enough lately.
	 * NOTE: asks the store every time, new account or not, so that the check takes as long either way.
	 */
	async restricted(caller: User): Promise<Standing | undefined> {
		const now = this.#clock.now();
		const { reportsBeforeCoolDown, reportWindowHours, newAccountHours } = this.#config;
		const reports = await this.#store.reportsAgainst(caller.id, now - reportWindowHours * HOUR_MS);
		if (newAccountHours > 0 && caller.createdAt > now - newAccountHours * HOUR_MS) {
			return 'newAccount';
		}
		return reports >= reportsBeforeCoolDown ? 'reported' : undefined;
	}
}

import type { Clock } from '../util';

/** Who knocks: a guest by the name they typed, or an account by its handle (and login session). */
export type Knocker =
	| { kind: 'guest'; name: string }
	| { kind: 'account'; userId: string; handle: string; displayName: string; verified: boolean; sid: string | undefined };

/** What became of a knock: it waits for the owner, or the owner let it in or kept it out. */
export type KnockState = 'waiting' | 'admitted' | 'denied';

/** Someone asking to join a link's call whose owner admits each person. */
export type Knock = {
	readonly id: string;
	readonly linkId: string;
	readonly ownerId: string;
	/** The room-token subject the knocker gets once admitted: a fresh guest id, or the account's id. */
	readonly sub: string;
	readonly knocker: Knocker;
	readonly at: number;
	/** A digest of the knocker's address: a denial keeps that address from knocking on the link for a while. */
	readonly addressKey: string;
	readonly state: KnockState;
};

/**
 * Where the knocks live while they wait and a little after: a node alone
 * keeps them in memory (LocalKnocks); a fleet in Redis (RedisKnocks), so the
 * knocker may ask, and the owner answer, through any node. A knock lasts
 * `ttlMs` from its start, then it is gone, answered or not.
 */
export interface Knocks {
	add(knock: Knock, ttlMs: number): Promise<void>;
	get(id: string): Promise<Knock | undefined>;
	/**
	 * Moves a waiting knock on the link `linkId` to `state`, kept at least `keepMs` more for the
	 * knocker to learn it; the knock as it was, or undefined when there was no such waiting knock.
	 */
	settle(id: string, linkId: string, state: 'admitted' | 'denied', keepMs: number): Promise<Knock | undefined>;
	/** Drops the knock on the link `linkId`; what it was, if it was waiting. */
	remove(id: string, linkId: string): Promise<Knock | undefined>;
	/** The link's knocks that wait, oldest first. */
	waiting(linkId: string): Promise<Knock[]>;
}

/** The knocks of a node alone, on the calls' clock. */
export class LocalKnocks implements Knocks {
	readonly #knocks = new Map<string, { knock: Knock; until: number }>();
	readonly #clock: Clock;

	constructor(clock: Clock) {
		this.#clock = clock;
	}

	async add(knock: Knock, ttlMs: number): Promise<void> {
		this.#sweep();
		this.#knocks.set(knock.id, { knock, until: this.#clock.now() + ttlMs });
	}

	async get(id: string): Promise<Knock | undefined> {
		this.#sweep();
		return this.#knocks.get(id)?.knock;
	}

	async settle(id: string, linkId: string, state: 'admitted' | 'denied', keepMs: number): Promise<Knock | undefined> {
		this.#sweep();
		const entry = this.#knocks.get(id);
		if (entry?.knock.linkId !== linkId || entry.knock.state !== 'waiting') {
			return undefined;
		}
		this.#knocks.set(id, { knock: { ...entry.knock, state }, until: Math.max(entry.until, this.#clock.now() + keepMs) });
		return entry.knock;
	}

	async remove(id: string, linkId: string): Promise<Knock | undefined> {
		this.#sweep();
		const knock = this.#knocks.get(id)?.knock;
		if (knock?.linkId !== linkId) {
			return undefined;
		}
		this.#knocks.delete(id);
		return knock.state === 'waiting' ? knock : undefined;
	}

	async waiting(linkId: string): Promise<Knock[]> {
		this.#sweep();
		return [...this.#knocks.values()].map((entry) => entry.knock)
			.filter((knock) => knock.linkId === linkId && knock.state === 'waiting')
			.sort((a, b) => a.at - b.at);
	}

	/** Forgets knocks past their time. NOTE: on every call, so that the map holds only live knocks without a timer. */
	#sweep(): void {
		const now = this.#clock.now();
		for (const [id, entry] of this.#knocks) {
			if (entry.until <= now) {
				this.#knocks.delete(id);
			}
		}
	}
}

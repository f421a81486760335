import type { Redis } from 'ioredis';
import { z } from 'zod';
import { clusterUnavailable } from '../cluster';
import type { Knock, Knocks } from './Knocks';

// NOTE: one script, so that two owners' devices answering at once on two nodes cannot both settle
// a knock: Redis runs it atomically. KEYS: the knock's hash. ARGV: the new state, how long to keep it
// at least (ms), the link it must be on. Returns the knock's JSON when it was waiting, else nil.
const SETTLE = `
if redis.call('HGET', KEYS[1], 'link') ~= ARGV[3] or redis.call('HGET', KEYS[1], 'state') ~= 'waiting' then return nil end
redis.call('HSET', KEYS[1], 'state', ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return redis.call('HGET', KEYS[1], 'knock')
`;

// KEYS: the knock's hash, the link's set of knocks. ARGV: the knock's id, the link it must be on.
const REMOVE = `
if redis.call('HGET', KEYS[1], 'link') ~= ARGV[2] then return nil end
local state = redis.call('HGET', KEYS[1], 'state')
local knock = redis.call('HGET', KEYS[1], 'knock')
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if state == 'waiting' then return knock end
return nil
`;

/** A knock as another node wrote it: read back as untrusted. */
const storedKnock = z.object({
	id: z.string().max(64),
	linkId: z.string().max(64),
	ownerId: z.string().max(128),
	sub: z.string().max(128),
	knocker: z.discriminatedUnion('kind', [
		z.object({ kind: z.literal('guest'), name: z.string().max(64) }),
		z.object({
			kind: z.literal('account'), userId: z.string().max(128), handle: z.string().max(64), displayName: z.string().max(64),
			verified: z.boolean(), sid: z.string().max(64).optional(),
		}),
	]),
	at: z.number(),
	addressKey: z.string().max(64),
});

/**
 * The knocks of a fleet, in Redis: the hash `PREFIX knock:ID` (the knock as
 * JSON, and its state) and the sorted set `PREFIX knocks:LINK` of a link's
 * knocks by time, both expiring with the knock. While Redis is away knocking
 * and answering answer service_unavailable: a knock held in one node's memory
 * would be lost to the others.
 */
export class RedisKnocks implements Knocks {
	readonly #redis: Redis;
	readonly #keyPrefix: string;

	constructor(deps: { redis: Redis; keyPrefix: string }) {
		this.#redis = deps.redis;
		this.#keyPrefix = deps.keyPrefix;
	}

	async add(knock: Knock, ttlMs: number): Promise<void> {
		const { state, ...rest } = knock;
		await this.#run(this.#redis.multi()
			.hset(this.#key(knock.id), { knock: JSON.stringify(rest), state, link: knock.linkId })
			.pexpire(this.#key(knock.id), ttlMs)
			.zadd(this.#linkKey(knock.linkId), knock.at, knock.id)
			.pexpire(this.#linkKey(knock.linkId), ttlMs)
			.exec());
	}

	async get(id: string): Promise<Knock | undefined> {
		const stored = await this.#run(this.#redis.hgetall(this.#key(id)));
		return this.#parse(stored.knock, stored.state);
	}

	async settle(id: string, linkId: string, state: 'admitted' | 'denied', keepMs: number): Promise<Knock | undefined> {
		const knock = await this.#run(this.#redis.eval(SETTLE, 1, this.#key(id), state, keepMs, linkId));
		return this.#parse(knock, 'waiting');
	}

	async remove(id: string, linkId: string): Promise<Knock | undefined> {
		const knock = await this.#run(this.#redis.eval(REMOVE, 2, this.#key(id), this.#linkKey(linkId), id, linkId));
		return this.#parse(knock, 'waiting');
	}

	async waiting(linkId: string): Promise<Knock[]> {
		const ids = await this.#run(this.#redis.zrange(this.#linkKey(linkId), 0, -1));
		const knocks = await Promise.all(ids.map((id) => this.get(id)));
		return knocks.filter((knock): knock is Knock => knock?.state === 'waiting' && knock.linkId === linkId);
	}

	#parse(json: unknown, state: unknown): Knock | undefined {
		if (typeof json !== 'string' || (state !== 'waiting' && state !== 'admitted' && state !== 'denied')) {
			return undefined;
		}
		let value: unknown;
		try {
			value = JSON.parse(json);
		} catch {
			return undefined;
		}
		const parsed = storedKnock.safeParse(value);
		return parsed.success ? { ...parsed.data, state } as Knock : undefined;
	}

	async #run<T>(command: Promise<T>): Promise<T> {
		try {
			return await command;
		} catch (error) {
			throw clusterUnavailable(error);
		}
	}

	#key(id: string): string {
		return `${this.#keyPrefix}knock:${id}`;
	}

	#linkKey(linkId: string): string {
		return `${this.#keyPrefix}knocks:${linkId}`;
	}
}

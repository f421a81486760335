import type { Redis } from 'ioredis';
import type { CallsConfig } from '../config';
import { AppError } from '../errors';
import type { Logger } from '../logging';
import type { Clock } from '../util';
import type { InviteLimits } from './InviteLimiter';

const DAY_MS = 24 * 3600 * 1000;

// NOTE: one script, so that two nodes checking the same caller at once cannot both pass the last
// free invite: Redis runs it atomically. The same rules as InviteLimiter.ts.
// KEYS: invites sent (zset by time), callees who did not answer (zset by time), cool-down (until).
// ARGV: now, count, invitesPerMinute, unansweredPerDay, coolDownMs, a nonce for the members.
const CHECK = `
local now = tonumber(ARGV[1])
if tonumber(redis.call('GET', KEYS[3]) or '0') > now then return 0 end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 60000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - ${DAY_MS})
local count = tonumber(ARGV[2])
if redis.call('ZCARD', KEYS[1]) + count > tonumber(ARGV[3]) or redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then
	local coolDownMs = tonumber(ARGV[5])
	if coolDownMs > 0 then redis.call('SET', KEYS[3], now + coolDownMs, 'PX', coolDownMs) end
	return 0
end
for i = 1, count do redis.call('ZADD', KEYS[1], now, ARGV[6] .. ':' .. i) end
redis.call('PEXPIRE', KEYS[1], 60000)
return 1
`;

/**
 * The unsolicited-call limits of a fleet, in Redis: a caller's invites count
 * on every node they place them from, so invites spread over nodes trip the
 * per-minute limit at the same count as on one node. While Redis is away the
 * node falls back to `insurance` (its own memory), as the other limits do.
 */
export class RedisInviteLimiter implements InviteLimits {
	readonly #redis: Redis;
	readonly #keyPrefix: string;
	readonly #config: CallsConfig;
	readonly #clock: Clock;
	readonly #insurance: InviteLimits;
	readonly #logger: Logger;

	constructor(deps: { redis: Redis; keyPrefix: string; config: CallsConfig; clock: Clock; insurance: InviteLimits; logger: Logger }) {
		this.#redis = deps.redis;
		this.#keyPrefix = deps.keyPrefix;
		this.#config = deps.config;
		this.#clock = deps.clock;
		this.#insurance = deps.insurance;
		this.#logger = deps.logger.child({ module: 'cluster' });
	}

	/** Counts `count` invites by the caller. @throws rate_limited */
	async check(callerId: string, count: number): Promise<void> {
		const [sent, unanswered, coolDown] = this.#keys(callerId);
		let allowed: unknown;
		try {
			allowed = await this.#redis.eval(CHECK, 3, sent, unanswered, coolDown, this.#clock.now(), count,
				this.#config.invitesPerMinute, this.#config.unansweredPerDay, this.#config.coolDownSeconds * 1000, `${this.#clock.now()}:${Math.random().toString(36).slice(2)}`);
		} catch (error) {
			this.#logger.warn('invite limits in memory: cluster redis unavailable', { error: (error as Error).message });
			return this.#insurance.check(callerId, count);
		}
		if (allowed !== 1) {
			throw new AppError('rate_limited', 'too many call invites; try again later');
		}
	}

	/** A callee (by handle) did not answer this caller. Never throws. */
	async unanswered(callerId: string, calleeHandle: string): Promise<void> {
		const [, unanswered] = this.#keys(callerId);
		try {
			await this.#redis.multi().zadd(unanswered, this.#clock.now(), calleeHandle).pexpire(unanswered, DAY_MS).exec();
		} catch {
			await this.#insurance.unanswered(callerId, calleeHandle);
		}
	}

	/** The caller's keys, in one hash slot (`{id}`) should the Redis be a Redis Cluster. */
	#keys(callerId: string): [sent: string, unanswered: string, coolDown: string] {
		const base = `${this.#keyPrefix}invites:{${callerId}}`;
		return [`${base}:sent`, `${base}:unanswered`, `${base}:cooldown`];
	}
}

import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';

/**
 * Makes the rate limiters the node's limits use: `name` keeps each limit's
 * counters apart. A node alone counts in memory; a node of a cluster counts
 * in the fleet's Redis, so a limit holds across the fleet (sign-ups from one
 * address over two nodes trip at the same count as on one).
 */
export type LimiterFactory = (name: string, points: number, durationSeconds: number) => RateLimiterAbstract;

/** Limits of a node alone: in this process. */
export const memoryLimiters: LimiterFactory = (_name, points, duration) => new RateLimiterMemory({ points, duration });

/**
 * Limits of a fleet, in Redis under `keyPrefix` + `limit:NAME`. NOTE: while
 * Redis is away each limiter falls back to its insurance limiter, in this
 * node's memory with the same points: the limit then holds per node, rather
 * than refusing every request or letting all through.
 */
export function redisLimiters(redis: Redis, keyPrefix: string): LimiterFactory {
	return (name, points, duration) => new RateLimiterRedis({
		storeClient: redis,
		keyPrefix: `${keyPrefix}limit:${name}`,
		points,
		duration,
		insuranceLimiter: new RateLimiterMemory({ points, duration }),
	});
}

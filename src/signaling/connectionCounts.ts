import { RateLimiterRes } from 'rate-limiter-flexible';
import type { LimiterFactory } from '../cluster';

/** Gives a counted connection's place back. Call it when the connection ends; calls after the first do nothing. */
export type Release = () => void;

/**
 * Connections at once per client address: `take` counts one more for `ip`
 * and resolves to its release, or to undefined (counting nothing) when `ip`
 * already has `max`. It rejects only when the count itself failed.
 */
export type ConnectionCounts = {
	take(ip: string): Promise<Release | undefined>;
};

/** Counts of a node alone, in this process: a connection counts for as long as it is open. */
export function memoryConnectionCounts(max: number): ConnectionCounts {
	const perIp = new Map<string, number>();
	return {
		take(ip) {
			const count = perIp.get(ip) ?? 0;
			if (count >= max) {
				return Promise.resolve(undefined);
			}
			perIp.set(ip, count + 1);
			return Promise.resolve(once(() => {
				const left = (perIp.get(ip) ?? 1) - 1;
				if (left <= 0) {
					perIp.delete(ip);
				} else {
					perIp.set(ip, left);
				}
			}));
		},
	};
}

/**
 * How long the fleet keeps an address's count, from the first connection
 * that count saw. NOTE: a node killed with connections open never counts them
 * down, so the count must expire: their share of the address's allowance is
 * held for at most this long, not for ever. The price is that connections
 * still open when the count expires are forgotten (they are not counted down
 * when they close, see fleetConnectionCounts): an address that keeps its
 * connections open can open `max` more in each window. A longer window
 * holds a dead node's share longer; a shorter one forgets more often.
 */
export const FLEET_COUNT_SECONDS = 6 * 3600;

/**
 * Counts of a cluster node, in the fleet's limiters (rate-limiter-flexible):
 * a connection takes a point, its release gives it back, so connections from
 * one address over several nodes count together. While Redis is away the
 * limiter's insurance counts in this node's memory.
 */
export function fleetConnectionCounts(limiters: LimiterFactory, max: number): ConnectionCounts {
	const limiter = limiters('connections', max, FLEET_COUNT_SECONDS);
	/** Gives a point back while the count it was taken from lasts: a new count would start below zero. */
	const giveBack = (ip: string, countedUntil: number): Promise<unknown> =>
		Date.now() < countedUntil ? limiter.reward(ip, 1) : Promise.resolve();
	return {
		async take(ip) {
			const counted = await limiter.consume(ip, 1).catch(async (rejection: unknown) => {
				if (!(rejection instanceof RateLimiterRes)) {
					throw rejection;
				}
				// NOTE: a refused consume still adds its point; take it back before refusing, or
				// each refusal would keep the address's count above the limit after one closes.
				await giveBack(ip, Date.now() + rejection.msBeforeNext);
				return undefined;
			});
			if (!counted) {
				return undefined;
			}
			const countedUntil = Date.now() + counted.msBeforeNext;
			// NOTE: with the insurance limiter a failed reward does not reject; nothing to do if one did.
			return once(() => void giveBack(ip, countedUntil).catch(() => undefined));
		},
	};
}

function once(release: () => void): Release {
	let released = false;
	return () => {
		if (!released) {
			released = true;
			release();
		}
	};
}

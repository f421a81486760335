import type { Request, RequestHandler, Response } from 'express';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { AppError } from '../errors';
import { claimsOf } from './auth';

/**
 * At most the limiter's points per its duration per client IP (`req.ip`, or
 * what `keyOf` says); over it, 429 rate_limited with Retry-After. The limiter
 * counts in memory or, on a cluster node, in the fleet's Redis
 * (cluster/limiters.ts).
 */
export function rateLimitPerIp(limiter: RateLimiterAbstract, keyOf: (req: Request) => string | undefined = (req) => req.ip): RequestHandler {
	return (req, res, next) => {
		limiter.consume(keyOf(req) ?? 'unknown').then(() => next(), (rejection: unknown) =>
			next(refusal(res, rejection, 'too many requests from this address; try again later')));
	};
}

/** Sets Retry-After from a limiter's rejection and makes the 429, or passes on a limiter's own failure. */
function refusal(res: Response, rejection: unknown, message: string): unknown {
	const msBeforeNext = (rejection as { msBeforeNext?: unknown } | null)?.msBeforeNext;
	if (typeof msBeforeNext !== 'number') {
		return rejection;
	}
	res.setHeader('Retry-After', String(Math.max(1, Math.ceil(msBeforeNext / 1000))));
	return new AppError('rate_limited', message);
}

/**
 * At most the limiter's points per its duration per account, after
 * requireAuth (keyed by the token's subject); over it, 429 rate_limited with
 * Retry-After.
 */
export function rateLimitPerAccount(limiter: RateLimiterAbstract): RequestHandler {
	return rateLimitPerCaller(limiter, (res) => claimsOf(res).sub, 'too many requests from this account; try again later');
}

/**
 * Failed attempts per key, as rate-limiter-flexible's login endpoint
 * protection: at most the limiter's points in failures per window, which
 * starts with the first failure; a success starts the count again. Over the
 * limit every attempt is refused with 429 rate_limited and Retry-After, a
 * good one too, until the window ends.
 */
export function failureLimit(limiter: RateLimiterAbstract, message: string) {
	return {
		/** Runs `attempt` unless `key` is over the limit; a throw counts as a failure. */
		async attempt<T>(key: string, res: Response, attempt: () => Promise<T>): Promise<T> {
			// NOTE: the point is taken before the attempt, so that concurrent attempts cannot all
			// pass a check made before any of them failed; a success gives it back with the rest.
			await limiter.consume(key).catch((rejection: unknown) => {
				throw refusal(res, rejection, message);
			});
			const result = await attempt();
			await limiter.delete(key);
			return result;
		},
	};
}

/** At most the limiter's points per its duration per server API key (after the API's auth, `res.locals.api`). */
export function rateLimitPerApiKey(limiter: RateLimiterAbstract): RequestHandler {
	return rateLimitPerCaller(limiter, (res) => (res.locals.api as { key: string }).key, 'too many calls with this API key; try again later');
}

/** The limit per caller an earlier handler authenticated, keyed by `keyOf`. */
function rateLimitPerCaller(limiter: RateLimiterAbstract, keyOf: (res: Response) => string, message: string): RequestHandler {
	return (_req, res, next) => {
		limiter.consume(keyOf(res)).then(() => next(), (rejection: unknown) => next(refusal(res, rejection, message)));
	};
}

import type { Request, RequestHandler } from 'express';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { AppError } from '../errors';

/**
 * At most `points` requests per `durationSeconds` per client IP (`req.ip`,
 * or what `keyOf` says); over it, 429 rate_limited with Retry-After. In
 * memory: this release is one node.
 */
export function rateLimitPerIp(points: number, durationSeconds: number, keyOf: (req: Request) => string | undefined = (req) => req.ip): RequestHandler {
	const limiter = new RateLimiterMemory({ points, duration: durationSeconds });
	return (req, res, next) => {
		limiter.consume(keyOf(req) ?? 'unknown').then(() => next(), (rejection: { msBeforeNext?: number }) => {
			if (typeof rejection?.msBeforeNext !== 'number') {
				next(rejection);
				return;
			}
			res.setHeader('Retry-After', String(Math.ceil(rejection.msBeforeNext / 1000)));
			next(new AppError('rate_limited', 'too many requests from this address; try again later'));
		});
	};
}

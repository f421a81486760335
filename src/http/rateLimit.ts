import type { RequestHandler } from 'express';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { AppError } from '../errors';

/**
 * At most `points` requests per `durationSeconds` per client IP; over it,
 * 429 rate_limited with Retry-After. In memory: this release is one node.
 */
export function rateLimitPerIp(points: number, durationSeconds: number): RequestHandler {
	const limiter = new RateLimiterMemory({ points, duration: durationSeconds });
	return (req, res, next) => {
		limiter.consume(req.ip ?? 'unknown').then(() => next(), (rejection: { msBeforeNext?: number }) => {
			if (typeof rejection?.msBeforeNext !== 'number') {
				next(rejection);
				return;
			}
			res.setHeader('Retry-After', String(Math.ceil(rejection.msBeforeNext / 1000)));
			next(new AppError('rate_limited', 'too many requests from this address; try again later'));
		});
	};
}

import type { RequestHandler } from 'express';
import { originAllowed } from '../auth';
import { AppError } from '../errors';

/** Refuses API requests from a browser Origin that is not allowed (403 forbidden). */
export function originCheck(allowedOrigins: readonly string[], dev: boolean): RequestHandler {
	return (req, _res, next) => {
		next(originAllowed(req.headers.origin, allowedOrigins, dev) ? undefined : new AppError('forbidden', 'origin not allowed'));
	};
}

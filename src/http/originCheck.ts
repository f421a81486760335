import cors from 'cors';
import type { RequestHandler } from 'express';
import { originAllowed } from '../auth';
import { AppError } from '../errors';

/** Refuses API requests from a browser Origin that is not allowed (403 forbidden). */
export function originCheck(allowedOrigins: readonly string[], dev: boolean): RequestHandler {
	return (req, _res, next) => {
		next(originAllowed(req.headers.origin, allowedOrigins, dev) ? undefined : new AppError('forbidden', 'origin not allowed'));
	};
}

/**
 * CORS for the API: a page on one of `http.allowedOrigins` (or a loopback
 * origin in dev mode) may call it from the browser with a bearer token; other
 * origins get no CORS headers, so their browsers cannot read the answers (and
 * originCheck refuses their requests). No cookies are involved, so no
 * credentials mode.
 */
export function crossOrigin(allowedOrigins: readonly string[], dev: boolean): RequestHandler {
	return cors({
		origin: (origin, callback) => callback(null, origin !== undefined && originAllowed(origin, allowedOrigins, dev)),
		methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
		allowedHeaders: ['Authorization', 'Content-Type'],
		maxAge: 600,
	});
}

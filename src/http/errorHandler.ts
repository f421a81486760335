import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, toWire } from '../errors';
import type { Logger } from '../logging';

/** Unknown routes get a JSON 404 in the same shape as every other error. */
export const notFoundHandler: RequestHandler = (_req, _res, next) => {
	next(new AppError('not_found', 'no such route'));
};

/** The one place an HTTP error becomes a response. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
	return (err: unknown, req, res, _next) => {
		// body-parser's errors carry a status and a type; map the ones a client causes.
		const type = (err as { type?: string } | null)?.type;
		const errStatus = (err as { status?: unknown } | null)?.status;
		const mapped =
			type === 'entity.too.large' ? new AppError('payload_too_large') :
			type === 'entity.parse.failed' ? new AppError('validation_failed', 'the body is not valid JSON') :
			// Other client errors of the body parser or router (an unknown encoding or
			// charset, a broken percent-encoding): the request's fault, never internal.
			!(err instanceof AppError) && typeof errStatus === 'number' && errStatus >= 400 && errStatus < 500
				? new AppError('validation_failed', 'the request could not be read') :
			err;
		const { status, error } = toWire(mapped);
		if (error.code === 'service_unavailable') {
			// The store is down or restarting: expected to pass, one warning per request, no stack.
			logger.warn('request failed: store unavailable', { method: req.method, path: req.path, error: (mapped as Error).cause });
			res.set('Retry-After', '5');
		} else if (status >= 500) {
			logger.error('request failed', { method: req.method, path: req.path, error: err });
		} else {
			logger.debug('request refused', { method: req.method, path: req.path, code: error.code });
		}
		res.status(status).json({ error });
	};
}

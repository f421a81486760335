import type { Request, RequestHandler } from 'express';
import type { Claims } from '../auth';
import { AppError } from '../errors';

export type Authenticate = (token: string) => Promise<Claims>;

/** The bearer token of a request, if any. */
export function bearerToken(req: Request): string | undefined {
	const header = req.headers.authorization;
	const match = header && /^Bearer ([^\s]{1,8192})$/i.exec(header);
	return match ? match[1] : undefined;
}

/** Requires a valid token; its claims go to `res.locals.claims`. */
export function requireAuth(authenticate: Authenticate): RequestHandler {
	return (req, res, next) => {
		const token = bearerToken(req);
		if (!token) {
			next(new AppError('unauthorized', 'a bearer token is required'));
			return;
		}
		authenticate(token).then((claims) => {
			res.locals.claims = claims;
			next();
		}, next);
	};
}

/** The claims requireAuth put on the response. */
export function claimsOf(res: { locals: Record<string, unknown> }): Claims {
	return res.locals.claims as Claims;
}

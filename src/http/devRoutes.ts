import { randomUUID } from 'node:crypto';
import { Router, json } from 'express';
import { z } from 'zod';
import { fromThisHost, type TokenService } from '../auth';
import { memoryLimiters } from '../cluster';
import { CALL_ROOM_PREFIX, isCallRoom } from '../calls';
import { ValidationError } from '../errors';
import { isLinkRoom, LINK_ROOM_PREFIX } from '../links';
import { displayName, roomId } from '../signaling';
import { rateLimitPerIp } from './rateLimit';

const devTokenRequest = z.object({
	name: displayName,
	// NOTE: calls' rooms are the call's parties' alone, and links' rooms their lobby's, whatever a token grants.
	room: roomId.refine((room) => !isCallRoom(room), { error: `the ${CALL_ROOM_PREFIX} prefix is reserved for calls` })
		.refine((room) => !isLinkRoom(room), { error: `the ${LINK_ROOM_PREFIX} prefix is reserved for call links` }).optional(),
}).strict();

/**
 * POST /api/dev/token `{ name, room? }` -> `{ token }`: a token for anyone
 * on this host, granting `room` (or any room without it; never a call's or a link's). Mounted only in dev
 * mode. A request from another host, or through a proxy (X-Forwarded-For,
 * Forwarded, X-Real-IP), gets the 404 of an unmounted route; at most
 * `perMinute` a minute per peer address.
 */
export function devRoutes({ tokens, perMinute }: { tokens: TokenService; perMinute: number }): Router {
	const router = Router();
	router.post(
		'/api/dev/token',
		// NOTE: the TCP peer, not req.ip: with http.trustProxy req.ip comes from a header.
		(req, _res, next) => next(fromThisHost(req.socket.remoteAddress, req.headers) ? undefined : 'route'),
		// In memory: dev mode is one node on a developer's machine.
		rateLimitPerIp(memoryLimiters('devToken', perMinute, 60), (req) => req.socket.remoteAddress),
		json({ limit: '4kb' }),
		async (req, res, next) => {
			try {
				const body = devTokenRequest.safeParse(req.body);
				if (!body.success) {
					throw new ValidationError(body.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message.replace(/^Invalid input: /, '')}`).join('; '));
				}
				const token = await tokens.issue({ sub: `dev-${randomUUID()}`, name: body.data.name, rooms: [body.data.room ?? '*'] });
				res.json({ token });
			} catch (error) {
				next(error);
			}
		},
	);
	return router;
}

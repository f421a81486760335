import { randomUUID } from 'node:crypto';
import { Router, json } from 'express';
import { z } from 'zod';
import type { TokenService } from '../auth';
import { ValidationError } from '../errors';
import { displayName, roomId } from '../signaling/schemas';

const devTokenRequest = z.object({
	name: displayName,
	room: roomId.optional(),
}).strict();

/**
 * POST /api/dev/token `{ name, room? }` -> `{ token }`: a token for anyone,
 * granting `room` (or any room without it). Mounted only in dev mode.
 */
export function devRoutes({ tokens }: { tokens: TokenService }): Router {
	const router = Router();
	router.post('/api/dev/token', json({ limit: '4kb' }), async (req, res, next) => {
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
	});
	return router;
}

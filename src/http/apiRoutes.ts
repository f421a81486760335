import { json, Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { ApiCaller, ApiKeys, TokenService } from '../auth';
import { isCallRoom } from '../calls';
import type { LimiterFactory } from '../cluster';
import type { ApiScope, AuthConfig } from '../config';
import { AppError } from '../errors';
import { isLinkRoom } from '../links';
import { DATA_MAX, METADATA_MAX, roomSettingsSchema, type RoomService } from '../rooms';
import { id, roomId } from '../signaling';
import { displayText } from '../util';
import { bearerToken } from './auth';
import { rateLimitPerApiKey } from './rateLimit';
import { validate } from './validate';

const MIN_TOKEN_SECONDS = 60;
/** Calls a minute per API key: room for a busy backend, a bound for a runaway one. */
const CALLS_PER_MINUTE = 6000;

/** A participant's stable id in the platform's product: the token's `sub`. */
const identitySchema = z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:@-]+$/, { error: 'expected 1-128 letters, digits, _ . : @ or -' });

/** At most `max` bytes of UTF-8. */
const bytes = (max: number) => z.string().refine((text) => Buffer.byteLength(text) <= max, { error: `expected at most ${max} bytes` });

const muteBody = z.strictObject({
	producerId: id.optional(),
	kind: z.enum(['audio', 'video']).optional(),
	muted: z.boolean(),
}).refine((body) => (body.producerId === undefined) !== (body.kind === undefined), { error: 'expected producerId or kind, not both' });

const updateBody = z.strictObject({
	metadata: bytes(METADATA_MAX).optional(),
	permissions: z.strictObject({ canPublish: z.boolean().optional(), canSubscribe: z.boolean().optional() }).optional(),
}).refine((body) => body.metadata !== undefined || body.permissions !== undefined, { error: 'expected metadata or permissions' });

const dataBody = z.strictObject({
	data: bytes(DATA_MAX),
	identities: z.array(z.string().min(1).max(128)).min(1).max(100).optional(),
	topic: z.string().min(1).max(128).optional(),
});

/** A room the API creates: its id (no call's or link's room) and settings; e2ee off and 300 s empty timeout unless said. */
const createBody = roomSettingsSchema.extend({
	roomId: roomId.refine((room) => !isCallRoom(room) && !isLinkRoom(room), { error: 'calls\' and links\' rooms are not the API\'s' }),
	emptyTimeoutSeconds: roomSettingsSchema.shape.emptyTimeoutSeconds.default(300),
	e2ee: z.boolean().default(false),
	metadata: bytes(METADATA_MAX).optional(),
});

const mintBody = (maxTtl: number) => z.strictObject({
	identity: identitySchema,
	name: displayText(64).optional(),
	rooms: z.array(z.union([z.literal('*'), roomId.refine((room) => !isCallRoom(room) && !isLinkRoom(room), {
		error: 'the call- and link- prefixes are reserved for calls between accounts and call links',
	})])).min(1).max(100),
	ttlSeconds: z.number().int().min(MIN_TOKEN_SECONDS).max(maxTtl).optional(),
});

/**
 * The server API (docs/server-api.md), `/api/v1/`: for a platform's
 * backend, with a short-lived JWT of one of `auth.apiKeys` (auth/ApiKeys.ts)
 * whose scopes allow the route. `POST /api/v1/tokens` mints access tokens for
 * the platform's users; `GET /api/v1/rooms` lists the rooms of every node;
 * `DELETE` ends a room or removes a participant, on every node; `POST .../mute`, `PATCH` a participant
 * and `POST .../data` control participants, on every node (rooms/RoomControls.ts). Without any key
 * configured every route answers 404.
 */
export function apiRoutes({ keys, tokens, rooms, config, limiters }: {
	keys: ApiKeys; tokens: TokenService; rooms: RoomService; config: { auth: AuthConfig }; limiters: LimiterFactory;
}): Router {
	const router = Router();
	const body = mintBody(config.auth.tokenTtlSeconds);
	// NOTE: counted per key, once it is verified: one backend's burst does not stop another's.
	const limit = rateLimitPerApiKey(limiters('apiCalls', CALLS_PER_MINUTE, 60));

	router.post('/api/v1/tokens', apiAuth(keys, 'tokens'), limit, async (req, res) => {
		const { identity, name, rooms, ttlSeconds = config.auth.tokenTtlSeconds } = validate(body, req.body);
		const token = await tokens.issue({ sub: identity, ...(name ? { name } : {}), rooms: [...new Set(rooms)] }, ttlSeconds);
		res.status(201).json({ token, expiresAt: new Date(Date.now() + ttlSeconds * 1000).toISOString() });
	});

	router.post('/api/v1/rooms', apiAuth(keys, 'rooms'), limit, async (req, res) => {
		const { roomId: room, ...settings } = validate(createBody, req.body);
		await rooms.create(room, settings);
		res.status(201).json({ roomId: room, settings });
	});

	router.get('/api/v1/rooms', apiAuth(keys, 'read'), limit, async (_req, res) => {
		res.json(await rooms.list());
	});

	router.delete('/api/v1/rooms/:roomId', apiAuth(keys, 'rooms'), limit, (req, res) => {
		rooms.end(validate(roomId, req.params.roomId, 'roomId'));
		res.status(204).end();
	});

	router.delete('/api/v1/rooms/:roomId/participants/:identity', apiAuth(keys, 'rooms'), limit, async (req, res) => {
		const { room, identity } = participantOf(req.params);
		await rooms.remove(room, identity);
		res.status(204).end();
	});

	router.post('/api/v1/rooms/:roomId/participants/:identity/mute', apiAuth(keys, 'rooms'), limit, async (req, res) => {
		const { room, identity } = participantOf(req.params);
		res.json(await rooms.controls.mute(room, identity, validate(muteBody, req.body)));
	});

	router.patch('/api/v1/rooms/:roomId/participants/:identity', apiAuth(keys, 'rooms'), limit, async (req, res) => {
		const { room, identity } = participantOf(req.params);
		res.json(await rooms.controls.update(room, identity, validate(updateBody, req.body)));
	});

	router.post('/api/v1/rooms/:roomId/data', apiAuth(keys, 'rooms'), limit, async (req, res) => {
		res.json(await rooms.controls.send(validate(roomId, req.params.roomId, 'roomId'), validate(dataBody, req.body)));
	});
	return router;
}

/**
 * The body parser of the data route, mounted before the one of every /api route (16 KiB, too small
 * for a data message of 16 KiB in JSON). NOTE: a body already read is not read again.
 */
export function apiDataBody(): Router {
	return Router().use('/api/v1/rooms/:roomId/data', json({ limit: '100kb' }));
}

/** A participant route's room and identity. */
function participantOf(params: { roomId?: unknown; identity?: unknown }): { room: string; identity: string } {
	// NOTE: any sub a token may carry, not only the API's own identities: an account's or a guest's too.
	return { room: validate(roomId, params.roomId, 'roomId'), identity: validate(z.string().min(1).max(128), params.identity, 'identity') };
}

/** The caller of an API route: a valid API token whose key has `scope`; its caller goes to `res.locals.api`. */
function apiAuth(keys: ApiKeys, scope: ApiScope): RequestHandler {
	return (req, res, next) => {
		if (!keys.enabled) {
			next('route');
			return;
		}
		const token = bearerToken(req);
		if (!token) {
			next(new AppError('unauthorized', 'an API token is required (docs/server-api.md)'));
			return;
		}
		keys.verify(token).then((caller: ApiCaller) => {
			if (!caller.scopes.has(scope)) {
				throw new AppError('forbidden', `the API key ${caller.key} lacks the ${scope} scope`);
			}
			res.locals.api = caller;
			next();
		}).catch(next);
	};
}

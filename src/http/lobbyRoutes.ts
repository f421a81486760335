import { Router, type Request } from 'express';
import { z } from 'zod';
import type { AccountService } from '../accounts';
import type { LimiterFactory } from '../cluster';
import type { LinksConfig } from '../config';
import { AppError } from '../errors';
import { NO_SUCH_LINK, type LinkLobby, type Visitor } from '../links';
import { displayText } from '../util';
import { bearerToken, claimsOf, requireAuth } from './auth';
import { linkId } from './linkRoutes';
import { rateLimitPerAccount, rateLimitPerIp } from './rateLimit';
import { validate } from './validate';

/** A knock's id: 16 random bytes in base64url. */
const knockId = z.string().regex(/^[A-Za-z0-9_-]{22}$/, { error: 'expected 22 letters, digits, _ or -' });
/** A knocker asks after its knock about every 1.5 s: this leaves room for a few behind one address. */
const KNOCK_POLLS_PER_MINUTE = 240;
/** An owner's devices list and answer knocks. */
const ANSWERS_PER_MINUTE = 120;

const joinBody = z.strictObject({ name: displayText(64).optional() });
const answerBody = z.strictObject({ admit: z.boolean() });

/**
 * The lobby of call links (docs/http-api.md, call links): `POST
 * /api/links/:id/join` (no token, or an account's) is in at once or knocks;
 * the knocker asks after its knock (`GET`) or withdraws it (`DELETE
 * /api/links/:id/knocks/:knockId`); the owner lists the knocks that wait and
 * answers each (`/api/me/links/:id/knocks`).
 */
export function lobbyRoutes({ accounts, lobby, config, limiters }: {
	accounts: AccountService; lobby: LinkLobby; config: { links: LinksConfig }; limiters: LimiterFactory;
}): Router {
	const router = Router();
	const auth = requireAuth((token) => accounts.authenticate(token));
	const joinLimit = rateLimitPerIp(limiters('linkJoins', config.links.knocksPerMinute, 60));
	const pollLimit = rateLimitPerIp(limiters('knockPolls', KNOCK_POLLS_PER_MINUTE, 60));
	const answerLimit = rateLimitPerAccount(limiters('knockAnswers', ANSWERS_PER_MINUTE, 60));

	router.post('/api/links/:id/join', joinLimit, async (req, res) => {
		const id = linkId.safeParse(req.params.id);
		const body = validate(joinBody, req.body ?? {});
		const visitor = await visitorOf(req, accounts, body.name);
		if (!id.success) {
			throw new AppError('not_found', NO_SUCH_LINK);
		}
		const entry = await lobby.enter(id.data, visitor, req.ip ?? 'unknown');
		res.status(entry.state === 'admitted' ? 200 : 202).json(entry);
	});

	router.get('/api/links/:id/knocks/:knockId', pollLimit, async (req, res) => {
		const [id, knock] = ids(req);
		res.json(await lobby.knock(id, knock));
	});

	router.delete('/api/links/:id/knocks/:knockId', pollLimit, async (req, res) => {
		const [id, knock] = ids(req);
		await lobby.withdraw(id, knock);
		res.status(204).end();
	});

	router.get('/api/me/links/:id/knocks', auth, answerLimit, async (req, res) => {
		const id = validate(linkId, req.params.id, 'id');
		res.json({ knocks: await lobby.waiting(claimsOf(res).sub, id) });
	});

	router.post('/api/me/links/:id/knocks/:knockId', auth, answerLimit, async (req, res) => {
		const [id, knock] = ids(req);
		const { admit } = validate(answerBody, req.body);
		await lobby.answer(claimsOf(res).sub, id, knock, admit);
		res.status(204).end();
	});
	return router;
}

function ids(req: Request): [string, string] {
	return [validate(linkId, req.params.id, 'id'), validate(knockId, req.params.knockId, 'knockId')];
}

/**
 * Who opens the link: the account of a bearer token (which must be an
 * account's, and then the account's name is used), or a guest, who must give a name.
 */
async function visitorOf(req: Request, accounts: AccountService, name: string | undefined): Promise<Visitor> {
	const token = bearerToken(req);
	if (token === undefined) {
		if (!name) {
			throw new AppError('validation_failed', 'name: a guest gives a name, 1-64 characters');
		}
		return { kind: 'guest', name };
	}
	const claims = await accounts.authenticate(token);
	if (claims.handle === undefined || claims.sid === undefined) {
		throw new AppError('unauthorized', 'expected an account token, or none');
	}
	return { kind: 'account', claims };
}

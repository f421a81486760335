import { Router } from 'express';
import { z } from 'zod';
import type { AccountService } from '../accounts';
import type { AccountsConfig } from '../config';
import type { LimiterFactory } from '../cluster';
import { AppError } from '../errors';
import { NO_SUCH_LINK, type CallLinks, type OwnLink } from '../links';
import { displayText } from '../util';
import { claimsOf, requireAuth } from './auth';
import { rateLimitPerAccount, rateLimitPerIp } from './rateLimit';
import { validate } from './validate';

/** A link id in a path: what CallLinks makes (22 characters of base64url), and room to grow. */
export const linkId = z.string().regex(/^[A-Za-z0-9_-]{22,64}$/, { error: 'expected 22-64 letters, digits, _ or -' });

const createBody = z.strictObject({
	admit: z.enum(['anyone', 'owner']),
	title: displayText(64, 0).default(''),
});

/**
 * Call links (docs/http-api.md): `POST`, `GET /api/me/links` and
 * `DELETE /api/me/links/:id` (account token) make, list and revoke the
 * account's links to group calls; `GET /api/links/:id` (public) shows a live
 * one's title and owner. NOTE: the end-to-end secret of a link's call lives
 * only in the link's fragment (`/l/<id>#e2ee=...`), which browsers never send:
 * no route here takes or returns it.
 */
export function linkRoutes({ accounts, links, config, limiters }: {
	accounts: AccountService; links: CallLinks; config: { accounts: AccountsConfig }; limiters: LimiterFactory;
}): Router {
	const router = Router();
	const auth = requireAuth((token) => accounts.authenticate(token));
	const writeLimit = rateLimitPerAccount(limiters('links', config.accounts.relationWritesPerMinute, 60));
	const lookupLimit = rateLimitPerIp(limiters('linkLookups', config.accounts.searchesPerMinute, 60));

	router.post('/api/me/links', auth, writeLimit, async (req, res) => {
		const body = validate(createBody, req.body);
		res.status(201).json(ownLink(await links.create(claimsOf(res).sub, body)));
	});

	router.get('/api/me/links', auth, async (_req, res) => {
		res.json({ links: (await links.list(claimsOf(res).sub)).map(ownLink) });
	});

	router.delete('/api/me/links/:id', auth, writeLimit, async (req, res) => {
		const id = validate(linkId, req.params.id, 'id');
		await links.revoke(claimsOf(res).sub, id);
		res.status(204).end();
	});

	router.get('/api/links/:id', lookupLimit, async (req, res) => {
		const id = linkId.safeParse(req.params.id);
		const found = id.success ? await links.lookup(id.data) : undefined;
		if (!found) {
			throw new AppError('not_found', NO_SUCH_LINK);
		}
		res.json(found);
	});
	return router;
}

function ownLink(link: OwnLink) {
	return {
		id: link.id, path: `/l/${link.id}`, admit: link.admit, title: link.title,
		createdAt: new Date(link.createdAt).toISOString(), lastUsedAt: new Date(link.lastUsedAt).toISOString(), expiresAt: new Date(link.expiresAt).toISOString(),
	};
}

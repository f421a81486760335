import { Router } from 'express';
import { z } from 'zod';
import type { AccountService } from '../accounts';
import type { CallService } from '../calls';
import type { AccountsConfig, CallsConfig } from '../config';
import type { LimiterFactory } from '../cluster';
import { AppError } from '../errors';
import { handle } from '../signaling';
import { bearerToken, claimsOf, requireAuth } from './auth';
import { rateLimitPerAccount } from './rateLimit';
import { validate } from './validate';

const reportsQuery = z.strictObject({
	hours: z.coerce.number().int().min(1).max(8760).optional(),
	limit: z.coerce.number().int().min(1).max(500).default(100),
});

/**
 * Spam reports (docs/http-api.md): `POST /api/me/reports/:handle` blocks the
 * account at once and reports it (it counts if it rang the reporter within
 * 30 days: calls/Reports.ts); `GET /api/admin/reports` (admin token) lists
 * the accounts reported lately. Nothing here, nor anywhere, shows a reported
 * account who reported it, or that anyone did.
 */
export function reportRoutes({ accounts, calls, config, limiters }: {
	accounts: AccountService; calls: CallService; config: { accounts: AccountsConfig; calls: CallsConfig }; limiters: LimiterFactory;
}): Router {
	const router = Router();
	const auth = requireAuth((token) => accounts.authenticate(token));
	// NOTE: a report is a block and more: under the same per-account budget as relation writes.
	const reportLimit = rateLimitPerAccount(limiters('reports', config.accounts.relationWritesPerMinute, 60));

	router.post('/api/me/reports/:handle', auth, reportLimit, async (req, res) => {
		const reported = validate(handle, req.params.handle, 'handle');
		const claims = claimsOf(res);
		await accounts.setRelation(claims, 'block', reported, true);
		await calls.reports.report(claims.sub, reported);
		res.status(204).end();
	});

	router.get('/api/admin/reports', async (req, res) => {
		const token = bearerToken(req);
		if (!token || !accounts.isAdminToken(token)) {
			throw new AppError('unauthorized', 'the admin token is required');
		}
		const query = validate(reportsQuery, req.query, 'query');
		const hours = query.hours ?? config.calls.reportWindowHours;
		const since = Date.now() - hours * 3600_000;
		const reported = await calls.reports.reported(since, query.limit);
		res.json({
			since: new Date(since).toISOString(),
			accounts: reported.map((r) => ({
				handle: r.handle, reports: r.reports, lastReportAt: new Date(r.lastReportAt).toISOString(),
				coolingDown: hours === config.calls.reportWindowHours && r.reports >= config.calls.reportsBeforeCoolDown,
			})),
		});
	});
	return router;
}

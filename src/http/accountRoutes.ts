import { Router, json } from 'express';
import { z } from 'zod';
import type { AccountService } from '../accounts';
import type { AccountsConfig } from '../config';
import { AppError } from '../errors';
import { displayName, handle } from '../signaling';
import type { RelationKind } from '../store';
import { bearerToken, claimsOf, requireAuth } from './auth';
import type { LimiterFactory } from '../cluster';
import { failureLimit, rateLimitPerAccount, rateLimitPerIp } from './rateLimit';
import { validate } from './validate';

const password = z.string().min(8, { error: 'expected at least 8 characters' }).max(256);

const signupBody = z.strictObject({ handle, password, displayName });
const loginBody = z.strictObject({ handle, password: z.string().min(1).max(256) });
const refreshBody = z.strictObject({ refreshToken: z.string().min(1).max(256) });
const passwordBody = z.strictObject({ currentPassword: z.string().min(1).max(256), newPassword: password });
const deleteBody = z.strictObject({ password: z.string().min(1).max(256) });
const searchQuery = z.strictObject({
	q: z.string().trim().min(1).max(64),
	after: handle.optional(),
	limit: z.coerce.number().int().min(1).max(50).default(20),
});
const settingsPatch = z.strictObject({
	discoverable: z.boolean().optional(),
	calls: z.strictObject({
		enabled: z.boolean().optional(),
		allowFrom: z.strictObject({
			contacts: z.boolean().optional(),
			following: z.boolean().optional(),
			verified: z.boolean().optional(),
			everyone: z.boolean().optional(),
		}).optional(),
		silenceOthers: z.boolean().optional(),
	}).optional(),
});
const historyQuery = z.strictObject({
	/** The `next` of the previous page: `<started at ms>` or `<started at ms>-<seq>`. */
	before: z.string().regex(/^\d{1,16}(-\d{1,16})?$/, { error: 'expected the next value of a previous page' })
		.transform((cursor) => {
			const [startedAt, seq] = cursor.split('-');
			return { startedAt: Number(startedAt), seq: seq === undefined ? Number.MAX_SAFE_INTEGER : Number(seq) };
		}).optional(),
	limit: z.coerce.number().int().min(1).max(100).default(50),
});
const flagsBody = z.strictObject({ verified: z.boolean().optional(), premium: z.boolean().optional() });
/** A device id the browser chose: random enough to be its own, short enough to index. */
const deviceId = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, { error: 'expected 16-64 of A-Z, a-z, 0-9, _ and -' });
/** The alphabet and length of 65 bytes in base64url; AccountService checks that they are a P-256 point. */
const deviceBody = z.strictObject({
	publicKey: z.string().regex(/^[A-Za-z0-9_-]{87}$/, { error: 'expected an uncompressed P-256 point as base64url without padding (87 characters)' }),
});

const RELATIONS: Record<string, RelationKind> = { contacts: 'contact', follows: 'follow', blocks: 'block' };

/**
 * The account API: sign-up and login (public, rate-limited per IP; failed
 * logins also per handle), the caller's own account, relations (rate-limited
 * per account) and settings (token required), the account's devices' end-to-end
 * encryption keys (publishing rate-limited per account), the directory (token
 * required, rate-limited) and the admin API (admin token).
 */
export function accountRoutes({ accounts, config, limiters }: { accounts: AccountService; config: AccountsConfig; limiters: LimiterFactory }): Router {
	const router = Router();
	const auth = requireAuth((token) => accounts.authenticate(token));
	router.use('/api', json({ limit: '16kb' }));

	const signupLimit = rateLimitPerIp(limiters('signup', config.signupsPerHour, 3600));
	const loginLimit = rateLimitPerIp(limiters('login', config.loginsPerMinute, 60));
	// NOTE: counters of their own, so that refreshing clients behind one
	// address cannot lock out logins; and password checks with a stolen access
	// token (password change, deletion) are as limited as logins.
	const refreshLimit = rateLimitPerIp(limiters('refresh', config.loginsPerMinute, 60));
	const passwordLimit = rateLimitPerIp(limiters('password', config.loginsPerMinute, 60));
	const searchLimit = rateLimitPerIp(limiters('search', config.searchesPerMinute, 60));
	const relationLimit = rateLimitPerAccount(limiters('relations', config.relationWritesPerMinute, 60));
	const deviceLimit = rateLimitPerAccount(limiters('devices', config.deviceWritesPerMinute, 60));
	// NOTE: per handle as typed, whether or not an account has it (an unknown handle and a wrong
	// password get the same answers, over the limit too), and whatever the address: a guesser
	// cannot spread over addresses, and the owner's own login starts the count again.
	const loginFailures = failureLimit(limiters('loginFailures', config.loginFailuresPerAccount, config.loginFailureWindowSeconds),
		'too many failed logins for this handle; try again later');

	router.post('/api/auth/signup', signupLimit, async (req, res) => {
		res.status(201).json(await accounts.signup(validate(signupBody, req.body)));
	});
	router.post('/api/auth/login', loginLimit, async (req, res) => {
		const body = validate(loginBody, req.body);
		res.json(await loginFailures.attempt(body.handle, res, () => accounts.login(body)));
	});
	router.post('/api/auth/refresh', refreshLimit, async (req, res) => {
		res.json(await accounts.refresh(validate(refreshBody, req.body).refreshToken));
	});
	router.post('/api/auth/logout', auth, async (_req, res) => {
		await accounts.logout(claimsOf(res));
		res.status(204).end();
	});

	router.get('/api/me', auth, async (_req, res) => {
		const user = await accounts.me(claimsOf(res));
		res.json({ handle: user.handle, displayName: user.displayName, verified: user.verified, premium: user.premium });
	});
	router.post('/api/me/password', passwordLimit, auth, async (req, res) => {
		const body = validate(passwordBody, req.body);
		await accounts.changePassword(claimsOf(res), body.currentPassword, body.newPassword);
		res.status(204).end();
	});
	router.delete('/api/me', passwordLimit, auth, async (req, res) => {
		await accounts.deleteAccount(claimsOf(res), validate(deleteBody, req.body).password);
		res.status(204).end();
	});

	router.get('/api/me/calls', auth, async (req, res) => {
		const query = validate(historyQuery, req.query, 'query');
		// NOTE: one more than a page tells whether there is a next one.
		const page = await accounts.callHistory(claimsOf(res), { ...query, limit: query.limit + 1 });
		const calls = page.slice(0, query.limit);
		res.json({
			calls: calls.map((c) => ({
				callId: c.callId,
				other: { handle: c.otherHandle, displayName: c.otherDisplayName },
				direction: c.direction,
				media: c.media,
				outcome: c.outcome,
				startedAt: new Date(c.startedAt).toISOString(),
				durationSeconds: Math.round(c.durationMs / 1000),
			})),
			next: page.length > query.limit && calls.at(-1)?.cursor ? `${calls.at(-1)!.cursor!.startedAt}-${calls.at(-1)!.cursor!.seq}` : undefined,
		});
	});

	router.get('/api/me/settings', auth, async (_req, res) => {
		res.json((await accounts.me(claimsOf(res))).settings);
	});
	router.patch('/api/me/settings', auth, async (req, res) => {
		const patch = validate(settingsPatch, req.body);
		const current = (await accounts.me(claimsOf(res))).settings;
		const merged = {
			discoverable: patch.discoverable ?? current.discoverable,
			calls: {
				enabled: patch.calls?.enabled ?? current.calls.enabled,
				allowFrom: { ...current.calls.allowFrom, ...stripUndefined(patch.calls?.allowFrom ?? {}) },
				silenceOthers: patch.calls?.silenceOthers ?? current.calls.silenceOthers,
			},
		};
		res.json(await accounts.updateSettings(claimsOf(res), merged));
	});

	for (const [path, kind] of Object.entries(RELATIONS)) {
		router.get(`/api/me/${path}`, auth, async (_req, res) => {
			res.json({ users: await accounts.listRelations(claimsOf(res), kind) });
		});
		router.put(`/api/me/${path}/:handle`, auth, relationLimit, async (req, res) => {
			await accounts.setRelation(claimsOf(res), kind, validate(handle, req.params.handle, 'handle'), true);
			res.status(204).end();
		});
		router.delete(`/api/me/${path}/:handle`, auth, relationLimit, async (req, res) => {
			await accounts.setRelation(claimsOf(res), kind, validate(handle, req.params.handle, 'handle'), false);
			res.status(204).end();
		});
	}

	router.get('/api/me/devices', auth, async (_req, res) => {
		const devices = await accounts.devices(claimsOf(res));
		res.json({ devices: devices.map((d) => ({ deviceId: d.deviceId, publicKey: d.publicKey, createdAt: new Date(d.createdAt).toISOString(), current: d.current })) });
	});
	router.put('/api/me/devices/:deviceId', auth, deviceLimit, async (req, res) => {
		const id = validate(deviceId, req.params.deviceId, 'deviceId');
		await accounts.publishDevice(claimsOf(res), id, validate(deviceBody, req.body).publicKey);
		res.status(204).end();
	});

	// NOTE: counted once authenticated: requests refused for their token use no quota.
	router.get('/api/users', auth, searchLimit, async (req, res) => {
		const query = validate(searchQuery, req.query, 'query');
		const page = await accounts.search(claimsOf(res), query.q, { after: query.after, limit: query.limit + 1 });
		const users = page.slice(0, query.limit);
		res.json({ users, next: page.length > query.limit ? users.at(-1)?.handle : undefined });
	});

	router.put('/api/admin/users/:handle', async (req, res) => {
		const token = bearerToken(req);
		if (!token || !accounts.isAdminToken(token)) {
			throw new AppError('unauthorized', 'the admin token is required');
		}
		const user = await accounts.setFlags(validate(handle, req.params.handle, 'handle'), validate(flagsBody, req.body));
		res.json({ handle: user.handle, verified: user.verified, premium: user.premium });
	});

	return router;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
	return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

import { TokenService } from '../../src/auth';
import { DEFAULT_SETTINGS } from '../../src/store';
import { signup as signupHelper, type TestAccount } from '../helpers/accounts';
import { startTestNode, type TestNode } from '../helpers/node';
import { SignalingClient } from '../helpers/signalingClient';
import { storeSql, storeTables } from '../helpers/storeSql';

/**
 * The accounts API (src/http/accountRoutes.ts) over real HTTP against a whole
 * node with a real SQLite file. Every refused request is checked twice: its
 * status and code, and a dump of every table before and after, to show it
 * changed nothing.
 */

const ADMIN = 'admin-token-of-the-accounts-test-0123456789';
const SQL = "x'; DROP TABLE users; --";
const TABLES = ['users', 'relations', 'sessions', 'call_history'];
/** body-parser's '16kb' is 16 * 1024 bytes. */
const BODY_LIMIT = 16 * 1024;

type Reply = { status: number; body: any; headers: Headers };
type CallOptions = { token?: string; body?: unknown; headers?: Record<string, string>; authorization?: string };

let node: TestNode;

/** A request; `body` is sent as is when a string, as JSON otherwise. */
async function call(method: string, path: string, { token, body, headers = {}, authorization }: CallOptions = {}): Promise<Reply> {
	const res = await fetch(`${node.url}${path}`, {
		method,
		headers: {
			...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
			...(token !== undefined ? { Authorization: `Bearer ${token}` } : {}),
			...(authorization !== undefined ? { Authorization: authorization } : {}),
			...headers,
		},
		body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
	});
	const text = await res.text();
	let parsed: unknown = text;
	try {
		parsed = text ? JSON.parse(text) : undefined;
	} catch {
		// Not JSON: kept as text, and the assertions on it will say so.
	}
	return { status: res.status, body: parsed, headers: res.headers };
}

/** `[label, status, code]`, to compare whole in loops so a failure names its case. */
function outcome(label: unknown, reply: Reply): [unknown, number, unknown] {
	return [label, reply.status, reply.body?.error?.code];
}

/**
 * Every row of every table, read through a second, read-only connection.
 * NOTE: but for users.relation_writes, a count that every relation write
 * bumps (docs/store.md): a PUT and its DELETE leave the data as it was.
 */
async function dump(): Promise<string> {
	const tables = await Promise.all(TABLES.map((table) => storeSql(node, `SELECT * FROM ${table} ORDER BY 1, 2, 3`)));
	return JSON.stringify(tables, (key, value: unknown) => (key === 'relation_writes' ? undefined : value));
}

const rows = (sql: string, ...params: unknown[]) => storeSql(node, sql, ...params);

const password = (handle: string) => `pw-${handle}-secret`;
const signup = (handle: string, displayName = handle) => signupHelper(node, handle, displayName);
const login = (handle: string, pw = password(handle)) => call('POST', '/api/auth/login', { body: { handle, password: pw } });
const handles = (reply: Reply): string[] => (reply.body?.users as { handle: string }[] | undefined)?.map((u) => u.handle) ?? [`no users: ${reply.status} ${JSON.stringify(reply.body)}`];

/** 'connected', or the code the socket.io handshake was refused with. */
async function handshake(token: string): Promise<string> {
	try {
		const client = await SignalingClient.connect(node.url, { token });
		client.disconnect();
		return 'connected';
	} catch (error) {
		return (error as { code?: string }).code ?? String(error);
	}
}

async function sidOf(token: string): Promise<string> {
	const { sid } = await node.tokens.verify(token);
	if (!sid) {
		throw new Error('not an account token');
	}
	return sid;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

beforeAll(async () => {
	node = await startTestNode({
		media: { workers: 1 },
		auth: { adminToken: ADMIN },
		// The limits have their own node below.
		accounts: { signupsPerHour: 100_000, loginsPerMinute: 100_000, searchesPerMinute: 100_000, relationWritesPerMinute: 100_000 },
	});
});
afterAll(() => node?.close());

describe('sign-up and handles', () => {
	test('sign-up answers 201 with an access token, a refresh token, its lifetime and the public user', async () => {
		const res = await call('POST', '/api/auth/signup', { body: { handle: 'Signup_Ok', password: 'a long password', displayName: '  Signup Person  ' } });
		expect(res.status).toBe(201);
		expect(Object.keys(res.body).sort()).toEqual(['expiresIn', 'refreshToken', 'token', 'user']);
		expect(res.body.user).toEqual({ handle: 'signup_ok', displayName: 'Signup Person', verified: false });
		expect(res.body.expiresIn).toBe(node.config.auth.tokenTtlSeconds);
		expect(res.body.refreshToken).toEqual(expect.any(String));
		expect(res.body.refreshToken).not.toBe(res.body.token);

		const claims = await node.tokens.verify(res.body.token);
		expect(claims).toMatchObject({ handle: 'signup_ok', name: 'Signup Person', verified: false, premium: false, sid: expect.any(String) });
		expect(Math.abs(claims.exp - Date.now() / 1000 - res.body.expiresIn)).toBeLessThan(60);
		const [row] = await rows('SELECT * FROM users WHERE handle = ?', 'signup_ok') as { id: string; password_hash: string }[];
		expect(row?.id).toBe(claims.sub);
		expect(row?.password_hash).toMatch(/^scrypt\$/);
		expect(row?.password_hash).not.toContain('a long password');

		expect(await call('GET', '/api/me', { token: res.body.token })).toMatchObject({
			status: 200, body: { handle: 'signup_ok', displayName: 'Signup Person', verified: false, premium: false },
		});
	});

	test('handles are 3-30 of a-z, 0-9 and _, stored lowercase', async () => {
		for (const handle of ['abc', 'h'.repeat(30), '0123456789', 'Mixed_Case_9']) {
			const res = await call('POST', '/api/auth/signup', { body: { handle, password: 'a long password', displayName: 'Valid' } });
			expect([handle, res.status, res.body.user?.handle]).toEqual([handle, 201, handle.toLowerCase()]);
		}
	});

	test('handles are case-insensitive: Ada_1 and ada_1 are one account, and a taken handle is 409 conflict that changes nothing', async () => {
		const first = await call('POST', '/api/auth/signup', { body: { handle: 'Ada_1', password: 'ada password', displayName: 'Ada' } });
		expect(first.status).toBe(201);
		const before = await dump();
		for (const handle of ['ada_1', 'ADA_1', 'aDa_1']) {
			const taken = await call('POST', '/api/auth/signup', { body: { handle, password: 'another password', displayName: 'Impostor' } });
			expect(outcome(handle, taken)).toEqual([handle, 409, 'conflict']);
		}
		expect(await dump()).toBe(before);
		// The first account's password logs in under every spelling; the impostors' does not.
		const firstId = (await node.tokens.verify(first.body.token)).sub;
		for (const handle of ['ada_1', 'ADA_1']) {
			const res = await login(handle, 'ada password');
			expect([handle, res.status, res.body.user?.handle]).toEqual([handle, 200, 'ada_1']);
			expect((await node.tokens.verify(res.body.token)).sub).toBe(firstId);
		}
		expect((await login('ada_1', 'another password')).status).toBe(401);
	});

	test('concurrent sign-ups of one handle: exactly one wins, the others get 409 conflict', async () => {
		const results = await Promise.all(Array.from({ length: 6 }, (_, i) =>
			call('POST', '/api/auth/signup', { body: { handle: i % 2 ? 'RACE_ONE' : 'race_one', password: 'a long password', displayName: `Racer ${i}` } })));
		expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
		expect(await rows('SELECT handle FROM users WHERE handle = ?', 'race_one')).toHaveLength(1);
	});

	test('bad sign-ups are 400 validation_failed and create nothing', async () => {
		const valid = { handle: 'bad_signup', password: 'a long password', displayName: 'Bad' };
		const bodies: [string, unknown][] = [
			...['ab', 'h'.repeat(31), 'has space', 'dash-ed', 'dot.ted', 'émile', 'ada😀', '', 'a\u0000bc', SQL, 'abc%', '../abc']
				.map((handle): [string, unknown] => [`handle ${JSON.stringify(handle)}`, { ...valid, handle }]),
			...[42, null, true, ['abc'], { h: 'abc' }].map((handle): [string, unknown] => [`handle ${JSON.stringify(handle)}`, { ...valid, handle }]),
			['no handle', { password: valid.password, displayName: 'Bad' }],
			['password of 7', { ...valid, password: '1234567' }],
			['password of 257', { ...valid, password: 'p'.repeat(257) }],
			['password a number', { ...valid, password: 12345678 }],
			['no password', { handle: valid.handle, displayName: 'Bad' }],
			['empty display name', { ...valid, displayName: '' }],
			['blank display name', { ...valid, displayName: '   ' }],
			['display name of 65', { ...valid, displayName: 'd'.repeat(65) }],
			['display name a number', { ...valid, displayName: 7 }],
			['no display name', { handle: valid.handle, password: valid.password }],
			// Accounts are addressed by handle only.
			['a phone number', { ...valid, phone: '+15555550100' }],
			['an email', { ...valid, email: 'bad@example.org' }],
			['flags', { ...valid, verified: true, premium: true }],
			['an array', [valid]],
		];
		const before = await dump();
		for (const [label, body] of bodies) {
			expect(outcome(label, await call('POST', '/api/auth/signup', { body }))).toEqual([label, 400, 'validation_failed']);
		}
		expect(await dump()).toBe(before);
		expect((await call('POST', '/api/auth/signup', { body: valid })).status).toBe(201);
	});
});

describe('login, refresh and logout', () => {
	let user: TestAccount;
	beforeAll(async () => {
		user = await signup('session_user', 'Session User');
	});

	test('login: the same 401 for an unknown handle and a wrong password, and no session is created', async () => {
		const before = await dump();
		const wrong = await login('session_user', 'not the password');
		const unknown = await login('nobody_by_that_name', 'not the password');
		expect(outcome('wrong password', wrong)).toEqual(['wrong password', 401, 'unauthorized']);
		expect([unknown.status, unknown.body]).toEqual([wrong.status, wrong.body]);
		expect(await dump()).toBe(before);
	});

	test('login with the right password opens a new session; both sessions work', async () => {
		const res = await login('SESSION_USER', password('session_user'));
		expect(res.status).toBe(200);
		expect(Object.keys(res.body).sort()).toEqual(['expiresIn', 'refreshToken', 'token', 'user']);
		expect(res.body.user).toEqual({ handle: 'session_user', displayName: 'Session User', verified: false });
		expect(await sidOf(res.body.token)).not.toBe(await sidOf(user.token));
		expect((await call('GET', '/api/me', { token: res.body.token })).status).toBe(200);
		expect((await call('GET', '/api/me', { token: user.token })).status).toBe(200);
	});

	test('an account stored before display names were checked still signs in: its token carries the name without the unsafe characters', async () => {
		await signup('old_name_user', 'Old Name');
		await rows('UPDATE users SET display_name = ? WHERE handle = ?', 'Old\r\n\u202eName', 'old_name_user');
		const res = await login('old_name_user', password('old_name_user'));
		expect(res.status).toBe(200);
		const claims = await node.tokens.verify(res.body.token);
		expect(claims.name).toBe('OldName');
		expect((await call('GET', '/api/me', { token: res.body.token })).status).toBe(200);
		const client = await SignalingClient.connect(node.url, { token: res.body.token });
		client.disconnect();
	});

	test('bad logins are 400 validation_failed and change nothing', async () => {
		const bodies: [string, unknown][] = [
			['bad handle', { handle: 'ab', password: 'whatever pw' }],
			['SQL handle', { handle: SQL, password: 'whatever pw' }],
			['empty password', { handle: 'session_user', password: '' }],
			['password of 257', { handle: 'session_user', password: 'p'.repeat(257) }],
			['no password', { handle: 'session_user' }],
			['unknown key', { handle: 'session_user', password: password('session_user'), remember: true }],
		];
		const before = await dump();
		for (const [label, body] of bodies) {
			expect(outcome(label, await call('POST', '/api/auth/login', { body }))).toEqual([label, 400, 'validation_failed']);
		}
		expect(await dump()).toBe(before);
	});

	test('refresh rotates: a new pair for the same session; the old refresh token used again at once gets the same refresh token, and stops working at the next rotation', async () => {
		const start = await login('session_user');
		const sid = await sidOf(start.body.token);
		const first = await call('POST', '/api/auth/refresh', { body: { refreshToken: start.body.refreshToken } });
		expect(first.status).toBe(200);
		expect(first.body).toEqual({ token: expect.any(String), refreshToken: expect.any(String), expiresIn: node.config.auth.tokenTtlSeconds, user: start.body.user });
		expect(first.body.refreshToken).not.toBe(start.body.refreshToken);
		expect(await sidOf(first.body.token)).toBe(sid);
		expect((await call('GET', '/api/me', { token: first.body.token })).status).toBe(200);

		const reused = await call('POST', '/api/auth/refresh', { body: { refreshToken: start.body.refreshToken } });
		expect([reused.status, reused.body.refreshToken, await sidOf(reused.body.token)]).toEqual([200, first.body.refreshToken, sid]);
		const second = await call('POST', '/api/auth/refresh', { body: { refreshToken: first.body.refreshToken } });
		expect(second.status).toBe(200);
		// Two rotations back: a copy, refused (and the session is revoked: test/integration/sessionEnded.test.ts).
		expect((await call('POST', '/api/auth/refresh', { body: { refreshToken: start.body.refreshToken } })).status).toBe(401);
		expect((await call('POST', '/api/auth/refresh', { body: { refreshToken: second.body.refreshToken } })).status).toBe(401);
	});

	test('bad refresh requests: 401 for unknown tokens, 400 for malformed bodies; nothing changes', async () => {
		const before = await dump();
		for (const refreshToken of ['garbage', SQL, `${user.refreshToken.slice(0, -1)}${user.refreshToken.endsWith('A') ? 'B' : 'A'}`, 'A'.repeat(256)]) {
			expect(outcome(refreshToken, await call('POST', '/api/auth/refresh', { body: { refreshToken } }))).toEqual([refreshToken, 401, 'unauthorized']);
		}
		for (const body of [{}, { refreshToken: '' }, { refreshToken: 'A'.repeat(257) }, { refreshToken: user.token }, { refreshToken: 42 }, { refreshToken: user.refreshToken, extra: 1 }]) {
			expect(outcome(body, await call('POST', '/api/auth/refresh', { body }))).toEqual([body, 400, 'validation_failed']);
		}
		expect(await dump()).toBe(before);
	});

	test('logout: that session\'s token is refused on HTTP and on the socket.io handshake, its refresh token too; other sessions go on', async () => {
		const ending = await login('session_user');
		const staying = await login('session_user');
		// Before: the handshake succeeds, so a refusal below is the logout's doing.
		expect(await handshake(ending.body.token)).toBe('connected');

		const res = await call('POST', '/api/auth/logout', { token: ending.body.token });
		expect(res.status).toBe(204);
		expect(outcome('after logout', await call('GET', '/api/me', { token: ending.body.token }))).toEqual(['after logout', 401, 'unauthorized']);
		expect(await handshake(ending.body.token)).toBe('unauthorized');
		expect((await call('POST', '/api/auth/refresh', { body: { refreshToken: ending.body.refreshToken } })).status).toBe(401);
		expect((await call('POST', '/api/auth/logout', { token: ending.body.token })).status).toBe(401);

		expect((await call('GET', '/api/me', { token: staying.body.token })).status).toBe(200);
		expect(await handshake(staying.body.token)).toBe('connected');
		expect((await call('POST', '/api/auth/refresh', { body: { refreshToken: staying.body.refreshToken } })).status).toBe(200);
	});
});

describe('password change and account deletion', () => {
	test('password change: other sessions are refused afterwards (HTTP, socket.io, refresh); the current one still works', async () => {
		const current = await signup('pw_change');
		const others = [await login('pw_change'), await login('pw_change')];
		const before = await dump();
		const refused: [string, unknown, number, string][] = [
			['wrong current password', { currentPassword: 'not it at all', newPassword: 'a new password' }, 403, 'forbidden'],
			['new password of 7', { currentPassword: password('pw_change'), newPassword: '1234567' }, 400, 'validation_failed'],
			['no new password', { currentPassword: password('pw_change') }, 400, 'validation_failed'],
			['unknown key', { currentPassword: password('pw_change'), newPassword: 'a new password', handle: 'someone_else' }, 400, 'validation_failed'],
		];
		for (const [label, body, status, code] of refused) {
			expect(outcome(label, await call('POST', '/api/me/password', { token: current.token, body }))).toEqual([label, status, code]);
		}
		expect(await dump()).toBe(before);
		expect(await handshake(others[0]!.body.token)).toBe('connected');

		const res = await call('POST', '/api/me/password', { token: current.token, body: { currentPassword: password('pw_change'), newPassword: 'a new password' } });
		expect(res.status).toBe(204);
		for (const other of others) {
			expect((await call('GET', '/api/me', { token: other.body.token })).status).toBe(401);
			expect((await call('POST', '/api/auth/refresh', { body: { refreshToken: other.body.refreshToken } })).status).toBe(401);
		}
		expect(await handshake(others[0]!.body.token)).toBe('unauthorized');
		expect((await call('GET', '/api/me', { token: current.token })).status).toBe(200);
		expect(await handshake(current.token)).toBe('connected');
		expect((await call('POST', '/api/auth/refresh', { body: { refreshToken: current.refreshToken } })).status).toBe(200);
		expect((await login('pw_change')).status).toBe(401);
		expect((await login('pw_change', 'a new password')).status).toBe(200);
	});

	test('deletion: the account goes, its relations leave other users\' lists, its tokens are refused, its handle can sign up again', async () => {
		const doomed = await signup('del_me', 'Doomed');
		const friend = await signup('del_friend', 'Friend');
		const foe = await signup('del_foe', 'Foe');
		for (const kind of ['contacts', 'follows']) {
			expect((await call('PUT', `/api/me/${kind}/del_me`, { token: friend.token })).status).toBe(204);
		}
		expect((await call('PUT', '/api/me/blocks/del_me', { token: foe.token })).status).toBe(204);
		expect((await call('PUT', '/api/me/contacts/del_friend', { token: doomed.token })).status).toBe(204);
		expect((await call('PUT', '/api/me/blocks/del_foe', { token: doomed.token })).status).toBe(204);
		expect(handles(await call('GET', '/api/me/contacts', { token: friend.token }))).toEqual(['del_me']);
		expect(handles(await call('GET', '/api/users?q=del_me', { token: friend.token }))).toEqual(['del_me']);

		const before = await dump();
		const refused: [string, unknown, number, string][] = [
			['wrong password', { password: 'not the password' }, 403, 'forbidden'],
			['another user\'s password', { password: password('del_friend') }, 403, 'forbidden'],
			['no password', {}, 400, 'validation_failed'],
			['unknown key', { password: password('del_me'), handle: 'del_friend' }, 400, 'validation_failed'],
		];
		for (const [label, body, status, code] of refused) {
			expect(outcome(label, await call('DELETE', '/api/me', { token: doomed.token, body }))).toEqual([label, status, code]);
		}
		expect(outcome('no body', await call('DELETE', '/api/me', { token: doomed.token }))).toEqual(['no body', 400, 'validation_failed']);
		expect(await dump()).toBe(before);

		expect((await call('DELETE', '/api/me', { token: doomed.token, body: { password: password('del_me') } })).status).toBe(204);
		for (const kind of ['contacts', 'follows']) {
			expect([kind, handles(await call('GET', `/api/me/${kind}`, { token: friend.token }))]).toEqual([kind, []]);
		}
		expect(handles(await call('GET', '/api/me/blocks', { token: foe.token }))).toEqual([]);
		expect(await rows('SELECT * FROM relations WHERE owner_id = ? OR target_id = ?', doomed.id, doomed.id)).toEqual([]);
		expect(await rows('SELECT * FROM sessions WHERE user_id = ?', doomed.id)).toEqual([]);
		expect(handles(await call('GET', '/api/users?q=del_me', { token: friend.token }))).toEqual([]);

		expect((await call('GET', '/api/me', { token: doomed.token })).status).toBe(401);
		expect(await handshake(doomed.token)).toBe('unauthorized');
		expect((await call('POST', '/api/auth/refresh', { body: { refreshToken: doomed.refreshToken } })).status).toBe(401);
		expect((await login('del_me')).body).toEqual((await login('never_was_here')).body);
		// A relation to the gone handle is answered as any other, and stores nothing.
		expect(outcome('relation to the deleted', await call('PUT', '/api/me/contacts/del_me', { token: friend.token })))
			.toEqual(['relation to the deleted', 204, undefined]);
		expect(await rows('SELECT * FROM relations WHERE owner_id = ?', friend.id)).toEqual([]);

		// The handle is free again, for a new account that inherits nothing.
		const reborn = await signup('del_me', 'Reborn');
		expect(reborn.id).not.toBe(doomed.id);
		expect((await call('GET', '/api/me/settings', { token: reborn.token })).body).toEqual(DEFAULT_SETTINGS);
		expect(handles(await call('GET', '/api/me/contacts', { token: reborn.token }))).toEqual([]);
		expect(handles(await call('GET', '/api/me/blocks', { token: reborn.token }))).toEqual([]);
		expect(handles(await call('GET', '/api/me/contacts', { token: friend.token }))).toEqual([]);
		expect((await call('GET', '/api/me', { token: doomed.token })).status).toBe(401);
	});
});

describe('GET /api/me and settings', () => {
	let owner: TestAccount;
	let bystander: TestAccount;
	beforeAll(async () => {
		owner = await signup('settings_owner', 'Settings Owner');
		bystander = await signup('settings_by', 'Bystander');
	});
	const settingsOf = async (account: TestAccount) => (await call('GET', '/api/me/settings', { token: account.token })).body;

	test('GET /api/me is the account behind the token, with no private fields', async () => {
		const res = await call('GET', '/api/me', { token: owner.token });
		expect(res).toMatchObject({ status: 200, body: { handle: 'settings_owner', displayName: 'Settings Owner', verified: false, premium: false } });
		expect(Object.keys(res.body).sort()).toEqual(['displayName', 'handle', 'premium', 'verified']);
	});

	test('GET settings gives the defaults; PATCH merges deeply and answers the merged settings', async () => {
		expect(await settingsOf(owner)).toEqual(DEFAULT_SETTINGS);
		const expected = structuredClone(DEFAULT_SETTINGS) as { discoverable: boolean; calls: { enabled: boolean; allowFrom: Record<string, boolean> } };
		const steps: [unknown, (s: typeof expected) => void][] = [
			[{ calls: { allowFrom: { everyone: true } } }, (s) => { s.calls.allowFrom.everyone = true; }],
			[{ calls: { enabled: false } }, (s) => { s.calls.enabled = false; }],
			[{ discoverable: false }, (s) => { s.discoverable = false; }],
			[{ calls: { allowFrom: { contacts: false, verified: true } } }, (s) => { s.calls.allowFrom.contacts = false; s.calls.allowFrom.verified = true; }],
			[{}, () => undefined],
			[{ calls: {} }, () => undefined],
			[{ calls: { allowFrom: {} } }, () => undefined],
			[{ discoverable: true, calls: { enabled: true } }, (s) => { s.discoverable = true; s.calls.enabled = true; }],
		];
		for (const [patch, apply] of steps) {
			apply(expected);
			const res = await call('PATCH', '/api/me/settings', { token: owner.token, body: patch });
			expect([patch, res.status, res.body]).toEqual([patch, 200, expected]);
			expect([patch, await settingsOf(owner)]).toEqual([patch, expected]);
		}
		const [row] = await rows('SELECT settings FROM users WHERE handle = ?', 'settings_owner') as { settings: unknown }[];
		// JSON text in SQLite, JSONB (read as an object) in PostgreSQL.
		expect(typeof row!.settings === 'string' ? JSON.parse(row!.settings) : row!.settings).toEqual(expected);
		// Only the caller's settings changed.
		expect(await settingsOf(bystander)).toEqual(DEFAULT_SETTINGS);
	});

	test('PATCH settings: unknown keys, wrong types and other users\' fields are 400 validation_failed and change nothing', async () => {
		const bodies: unknown[] = [
			{ theme: 'dark' },
			{ calls: { ring: 'loud' } },
			{ calls: { allowFrom: { strangers: true } } },
			{ discoverable: 'false' },
			{ discoverable: 0 },
			{ discoverable: null },
			{ calls: null },
			{ calls: [] },
			{ calls: { enabled: 'yes' } },
			{ calls: { allowFrom: true } },
			{ calls: { allowFrom: { everyone: 'true' } } },
			// A valid part next to a bad one is not applied either.
			{ discoverable: false, theme: 'dark' },
			{ calls: { enabled: false, allowFrom: { everyone: 1 } } },
			// No way to name another account.
			{ handle: 'settings_by', discoverable: false },
			{ userId: bystander.id, discoverable: false },
			[],
			[{ discoverable: false }],
			'{"__proto__": {"discoverable": false}}',
			'{"calls": {"__proto__": {"enabled": false}}}',
			'{"constructor": {"prototype": {"discoverable": false}}}',
		];
		const before = await dump();
		const ownerBefore = await settingsOf(owner);
		for (const body of bodies) {
			expect(outcome(body, await call('PATCH', '/api/me/settings', { token: owner.token, body }))).toEqual([body, 400, 'validation_failed']);
		}
		expect(await dump()).toBe(before);
		expect(await settingsOf(owner)).toEqual(ownerBefore);
		expect(await settingsOf(bystander)).toEqual(DEFAULT_SETTINGS);
		// No prototype was polluted on the way.
		expect(({} as Record<string, unknown>).discoverable).toBeUndefined();
	});
});

describe('contacts, follows and blocks', () => {
	let owner: TestAccount;
	let other: TestAccount;
	beforeAll(async () => {
		owner = await signup('rel_owner', 'Rel Owner');
		other = await signup('rel_other', 'Rel Other');
		await signup('rel_x', 'Rel X');
		await signup('rel_y', 'Rel Y');
		await signup('rel_z', 'Rel Z');
	});
	const kinds = [['contacts', 'contact'], ['follows', 'follow'], ['blocks', 'block']] as const;
	const list = async (account: TestAccount, path: string) => handles(await call('GET', `/api/me/${path}`, { token: account.token }));

	test.each(kinds)('%s: PUT and DELETE are idempotent, GET lists the targets by handle with public fields only', async (path, kind) => {
		expect(await list(owner, path)).toEqual([]);
		for (const target of ['rel_y', 'REL_Y', 'rel_x', 'rel_y']) {
			const res = await call('PUT', `/api/me/${path}/${target}`, { token: owner.token });
			expect([target, res.status, res.body]).toEqual([target, 204, undefined]);
		}
		const listed = await call('GET', `/api/me/${path}`, { token: owner.token });
		expect(listed.body).toEqual({ users: [
			{ handle: 'rel_x', displayName: 'Rel X', verified: false },
			{ handle: 'rel_y', displayName: 'Rel Y', verified: false },
		] });
		expect(await rows('SELECT * FROM relations WHERE owner_id = ? AND kind = ?', owner.id, kind)).toHaveLength(2);
		// Kinds are independent, and a relation has one direction.
		for (const [otherPath] of kinds.filter(([p]) => p !== path)) {
			expect([otherPath, await list(owner, otherPath)]).toEqual([otherPath, []]);
		}
		expect(await list(other, path)).toEqual([]);

		for (let i = 0; i < 2; i++) {
			expect((await call('DELETE', `/api/me/${path}/rel_y`, { token: owner.token })).status).toBe(204);
		}
		expect(await list(owner, path)).toEqual(['rel_x']);
		// Removing what was never there is fine too.
		expect((await call('DELETE', `/api/me/${path}/rel_z`, { token: owner.token })).status).toBe(204);
		expect((await call('DELETE', `/api/me/${path}/Rel_X`, { token: owner.token })).status).toBe(204);
		expect(await list(owner, path)).toEqual([]);
	});

	test.each(kinds)('%s: an unknown handle 204 storing nothing; yourself 400, bad handles 400, changing nothing', async (path) => {
		await call('PUT', `/api/me/${path}/rel_x`, { token: owner.token });
		const relations = async () => JSON.stringify(await rows('SELECT * FROM relations ORDER BY 1, 2, 3'));
		const stored = await relations();
		for (const method of ['PUT', 'DELETE']) {
			for (const target of ['no_such_user', 'NO_SUCH_USER']) {
				const res = await call(method, `/api/me/${path}/${target}`, { token: owner.token });
				expect([method, target, res.status, res.body]).toEqual([method, target, 204, undefined]);
			}
		}
		expect(await relations()).toBe(stored);
		const before = await dump();
		const cases: [string, number, string][] = [
			['rel_owner', 400, 'validation_failed'],
			['REL_OWNER', 400, 'validation_failed'],
			['ab', 400, 'validation_failed'],
			['h'.repeat(31), 400, 'validation_failed'],
			['dash-ed', 400, 'validation_failed'],
			[encodeURIComponent(SQL), 400, 'validation_failed'],
			[encodeURIComponent("rel_x' OR '1'='1"), 400, 'validation_failed'],
			[encodeURIComponent('rel_x/../rel_y'), 400, 'validation_failed'],
			['%C3%A9mile', 400, 'validation_failed'],
		];
		for (const method of ['PUT', 'DELETE']) {
			for (const [target, status, code] of cases) {
				const label = `${method} ${target}`;
				expect(outcome(label, await call(method, `/api/me/${path}/${target}`, { token: owner.token }))).toEqual([label, status, code]);
			}
		}
		expect(await dump()).toBe(before);
		await call('DELETE', `/api/me/${path}/rel_x`, { token: owner.token });
	});

	test('nobody changes another user\'s relations: requests act on the caller\'s own lists only', async () => {
		await call('PUT', '/api/me/contacts/rel_other', { token: owner.token });
		await call('PUT', '/api/me/follows/rel_other', { token: owner.token });
		// The other side removing "its" relation removes nothing of the owner's.
		for (const path of ['contacts', 'follows', 'blocks']) {
			expect((await call('DELETE', `/api/me/${path}/rel_owner`, { token: other.token })).status).toBe(204);
		}
		expect(await list(owner, 'contacts')).toEqual(['rel_other']);
		expect(await list(owner, 'follows')).toEqual(['rel_other']);

		// A correctly signed token whose account and session do not match is refused.
		const crossed = await node.tokens.issue({ sub: other.id, handle: 'rel_other', sid: await sidOf(owner.token) });
		const before = await dump();
		for (const [method, route] of [['PUT', '/api/me/blocks/rel_x'], ['DELETE', '/api/me/contacts/rel_other'], ['GET', '/api/me/contacts'], ['PATCH', '/api/me/settings']]) {
			const res = await call(method!, route!, { token: crossed, body: method === 'PATCH' ? { discoverable: false } : undefined });
			expect(outcome(route, res)).toEqual([route, 401, 'unauthorized']);
		}
		expect(await dump()).toBe(before);
		await call('DELETE', '/api/me/contacts/rel_other', { token: owner.token });
		await call('DELETE', '/api/me/follows/rel_other', { token: owner.token });
	});
});

describe('directory search', () => {
	let finder: TestAccount;
	let bystander: TestAccount;
	const search = async (account: TestAccount, query: string) => call('GET', `/api/users?${query}`, { token: account.token });
	/** Every discoverable account under "srch", in handle order: the same for every searcher. */
	const VISIBLE = ['srch_alpha', 'srch_beta', 'srch_blocked', 'srch_blocker', 'srch_gamma', 'zz_by_name'];

	beforeAll(async () => {
		finder = await signup('finder', 'Finder');
		bystander = await signup('onlooker', 'Onlooker');
		await signup('srch_alpha', 'Zed Alpha');
		await signup('srch_beta', 'Beta Person');
		await signup('srch_gamma', 'Gamma');
		await signup('zz_by_name', 'Srch By Name');
		const hidden = await signup('srch_hidden', 'Hidden');
		const blocker = await signup('srch_blocker', 'Blocker');
		await signup('srch_blocked', 'Blocked');
		await signup('uni_name', 'Émile Zola');
		await signup('uni_ascii', 'Emile Ascii');
		expect((await call('PATCH', '/api/me/settings', { token: hidden.token, body: { discoverable: false } })).status).toBe(200);
		expect((await call('PUT', '/api/me/blocks/finder', { token: blocker.token })).status).toBe(204);
		expect((await call('PUT', '/api/me/blocks/srch_blocked', { token: finder.token })).status).toBe(204);
	});

	test('prefix on handle and display name, case-insensitive; not the undiscoverable; blocks either way play no part', async () => {
		const res = await search(finder, 'q=srch');
		expect(res.status).toBe(200);
		expect(handles(res)).toEqual(VISIBLE);
		expect(res.body.users[0]).toEqual({ handle: 'srch_alpha', displayName: 'Zed Alpha', verified: false });
		for (const user of res.body.users) {
			expect(Object.keys(user).sort()).toEqual(['displayName', 'handle', 'verified']);
		}
		expect(handles(await search(finder, 'q=SRCH'))).toEqual(VISIBLE);
		expect(handles(await search(finder, 'q=sRcH%20bY'))).toEqual(['zz_by_name']);
		expect(handles(await search(finder, 'q=zed'))).toEqual(['srch_alpha']);
		expect(handles(await search(finder, 'q=%20%20srch_g%20'))).toEqual(['srch_gamma']);
		// A prefix, not a substring.
		expect(handles(await search(finder, 'q=alpha'))).toEqual([]);
		expect(handles(await search(finder, 'q=rch'))).toEqual([]);
		// The blocked finder sees the blocker as someone the blocker did not block does; nobody sees the hidden one.
		expect(handles(await search(finder, 'q=srch_b'))).toEqual(['srch_beta', 'srch_blocked', 'srch_blocker']);
		expect(handles(await search(bystander, 'q=srch_b'))).toEqual(['srch_beta', 'srch_blocked', 'srch_blocker']);
		expect(handles(await search(bystander, 'q=srch_h'))).toEqual([]);
	});

	test('turning discoverable off and on again takes effect at once', async () => {
		const shy = await signup('srch_shy', 'Shy');
		expect(handles(await search(finder, 'q=srch_s'))).toEqual(['srch_shy']);
		await call('PATCH', '/api/me/settings', { token: shy.token, body: { discoverable: false } });
		expect(handles(await search(finder, 'q=srch_s'))).toEqual([]);
		await call('PATCH', '/api/me/settings', { token: shy.token, body: { discoverable: true } });
		expect(handles(await search(finder, 'q=srch_s'))).toEqual(['srch_shy']);
		await call('PATCH', '/api/me/settings', { token: shy.token, body: { discoverable: false } });
	});

	test('paginated with after and limit: pages walk the whole result once, then next is absent', async () => {
		for (const limit of [1, 2, 3, 5, 6]) {
			const seen: string[] = [];
			let after: string | undefined;
			for (let page = 0; page < 10; page++) {
				const res = await search(finder, `q=srch&limit=${limit}${after ? `&after=${after}` : ''}`);
				expect(res.status).toBe(200);
				expect(res.body.users.length).toBeLessThanOrEqual(limit);
				seen.push(...handles(res));
				after = res.body.next;
				// next only when more follow: no page is empty, and the last one has none.
				expect(res.body.users.length).toBeGreaterThan(0);
				const more = seen.length < VISIBLE.length;
				expect(after).toBe(more ? res.body.users.at(-1).handle : undefined);
				if (after === undefined) {
					break;
				}
			}
			expect([limit, seen]).toEqual([limit, VISIBLE]);
		}
		expect(handles(await search(finder, 'q=srch&after=srch_beta'))).toEqual(VISIBLE.slice(2));
		expect(handles(await search(finder, 'q=srch&after=SRCH_BETA'))).toEqual(VISIBLE.slice(2));
		expect((await search(finder, 'q=srch')).body.next).toBeUndefined();
	});

	test('LIKE wildcards and SQL in the query are plain text', async () => {
		await signup('pct_name', '%Percent');
		await signup('und_name', '_Under');
		await signup('sql_name', SQL);
		const percent = await search(finder, 'q=%25');
		expect(handles(percent)).toEqual(['pct_name']);
		const under = await search(finder, 'q=_');
		expect(handles(under)).toContain('und_name');
		for (const user of under.body.users as { handle: string; displayName: string }[]) {
			expect([user.handle, user.handle.startsWith('_') || user.displayName.startsWith('_')]).toEqual([user.handle, true]);
		}
		expect(handles(await search(finder, 'q=%5C'))).toEqual([]);
		expect(handles(await search(finder, 'q=srch%25'))).toEqual([]);
		expect(handles(await search(finder, `q=${encodeURIComponent(SQL)}`))).toEqual(['sql_name']);
		expect(handles(await search(finder, `q=${encodeURIComponent("x' OR '1'='1")}`))).toEqual([]);
		expect(await storeTables(node)).toEqual(expect.arrayContaining(TABLES));
	});

	test('bad queries are 400 validation_failed', async () => {
		const queries = [
			'', 'q=', 'q=%20%20', `q=${'q'.repeat(65)}`, 'q=a&q=b', 'q[x]=a', 'q=a&page=2',
			'q=a&limit=0', 'q=a&limit=51', 'q=a&limit=-1', 'q=a&limit=1.5', 'q=a&limit=abc',
			'q=a&after=ab', 'q=a&after=NOT%20A%20HANDLE', `q=a&after=${encodeURIComponent(SQL)}`,
		];
		for (const query of queries) {
			expect(outcome(query, await search(finder, query))).toEqual([query, 400, 'validation_failed']);
		}
		expect((await search(finder, `q=${'q'.repeat(64)}`)).status).toBe(200);
		expect((await search(finder, 'q=srch&limit=50')).status).toBe(200);
	});

	test('a display name is found by a prefix in ASCII', async () => {
		// The precondition of the next test: the account exists and is discoverable.
		expect(handles(await search(finder, 'q=uni_'))).toEqual(['uni_ascii', 'uni_name']);
		expect(handles(await search(finder, 'q=EMILE'))).toEqual(['uni_ascii']);
	});

	// Regression, fixed (src/store/SqliteStore.ts, searchUsers): the prefix is lowercased in JS
	// (Unicode) but the display name with SQLite's lower(), which only folds
	// ASCII, so a name that starts with a non-ASCII letter is never found by it.
	test.each(['Émile', 'émile', 'ÉMILE'])('a display name starting with a non-ASCII letter is found by %s', async (query) => {
		expect(handles(await search(finder, `q=${encodeURIComponent(query)}`))).toEqual(['uni_name']);
	});
});

describe('call history GET /api/me/calls', () => {
	let caller: TestAccount;
	const T = Date.UTC(2025, 0, 1, 12);
	const record = (userId: string, callId: string, startedAt: number, durationMs = 0) => node.store.addCallRecord({
		callId, userId, otherHandle: 'history_peer', otherDisplayName: 'Peer', direction: 'outgoing', media: 'video', outcome: 'answered', startedAt, durationMs,
	});
	const ids = (reply: Reply): string[] => (reply.body?.calls as { callId: string }[] | undefined)?.map((c) => c.callId) ?? [`${reply.status}`];

	beforeAll(async () => {
		caller = await signup('history_user');
		const other = await signup('history_other');
		// NOTE: seeded through the store: the calls themselves are calls.test.ts's subject.
		await record(caller.id, 'c1', T, 61_500);
		await record(caller.id, 'c2', T + 60_000);
		await record(caller.id, 'c3', T + 120_000);
		await record(other.id, 'not-mine', T + 30_000);
	});

	test('newest first, the caller\'s own only, paginated with before and next', async () => {
		const all = await call('GET', '/api/me/calls', { token: caller.token });
		expect(all.status).toBe(200);
		expect(ids(all)).toEqual(['c3', 'c2', 'c1']);
		expect(all.body.next).toBeUndefined();
		expect(all.body.calls[2]).toEqual({
			callId: 'c1', other: { handle: 'history_peer', displayName: 'Peer' }, direction: 'outgoing', media: 'video', outcome: 'answered',
			startedAt: new Date(T).toISOString(), durationSeconds: 62,
		});
		const first = await call('GET', '/api/me/calls?limit=2', { token: caller.token });
		// `next` is a cursor: the last row's start time and its place among calls of that millisecond.
		expect([ids(first), first.body.next]).toEqual([['c3', 'c2'], expect.stringMatching(new RegExp(`^${T + 60_000}-\\d+$`))]);
		const second = await call('GET', `/api/me/calls?limit=2&before=${first.body.next}`, { token: caller.token });
		expect([ids(second), second.body.next]).toEqual([['c1'], undefined]);
		// A full last page has no next either: never an empty page to fetch.
		const exact = await call('GET', '/api/me/calls?limit=3', { token: caller.token });
		expect([ids(exact), exact.body.next]).toEqual([['c3', 'c2', 'c1'], undefined]);
		expect(ids(await call('GET', '/api/me/calls', { token: (await signup('history_new')).token }))).toEqual([]);
	});

	test('bad queries are 400 validation_failed', async () => {
		for (const query of ['limit=0', 'limit=101', 'limit=x', 'before=-1', 'before=x', 'before=1.5', 'page=2', `before=${encodeURIComponent(SQL)}`]) {
			expect(outcome(query, await call('GET', `/api/me/calls?${query}`, { token: caller.token }))).toEqual([query, 400, 'validation_failed']);
		}
	});

	// Regression, fixed (src/http/accountRoutes.ts, GET /api/me/calls): the cursor `next` is a
	// start time and the next page takes calls started strictly before it, so
	// calls that started in the same millisecond as the last one of a page are
	// skipped.
	test('paging does not skip calls that started in the same millisecond', async () => {
		const tied = await signup('history_tied');
		await record(tied.id, 'tie-a', T);
		await record(tied.id, 'tie-b', T);
		const first = await call('GET', '/api/me/calls?limit=1', { token: tied.token });
		const second = await call('GET', `/api/me/calls?limit=1&before=${first.body.next}`, { token: tied.token });
		expect([...ids(first), ...ids(second)].sort()).toEqual(['tie-a', 'tie-b']);
	});
});

describe('admin PUT /api/admin/users/:handle', () => {
	let user: TestAccount;
	beforeAll(async () => {
		user = await signup('adm_user', 'Admin Subject');
	});

	test('the admin token is required: missing, wrong or a user\'s token is 401 and changes nothing', async () => {
		const before = await dump();
		const attempts: [string, CallOptions][] = [
			['no token', {}],
			['wrong token', { token: 'not-the-admin-token-but-as-long-as-it-0123' }],
			['the admin token plus a character', { token: `${ADMIN}x` }],
			['a prefix of the admin token', { token: ADMIN.slice(0, -1) }],
			['the user\'s own token', { token: user.token }],
			['Basic scheme', { authorization: `Basic ${ADMIN}` }],
			['no scheme', { authorization: ADMIN }],
			['admin token in another header', { headers: { 'X-Admin-Token': ADMIN } }],
		];
		for (const [label, options] of attempts) {
			const res = await call('PUT', '/api/admin/users/adm_user', { ...options, body: { verified: true, premium: true } });
			expect(outcome(label, res)).toEqual([label, 401, 'unauthorized']);
		}
		expect(await dump()).toBe(before);
	});

	test('bad input with the admin token: 400 for bad handles and bodies, 404 for unknown accounts; nothing changes', async () => {
		const before = await dump();
		const cases: [string, string, unknown, number, string][] = [
			['bad handle', 'ab', { verified: true }, 400, 'validation_failed'],
			['SQL handle', encodeURIComponent(SQL), { verified: true }, 400, 'validation_failed'],
			['unknown handle', 'nobody_known', { verified: true }, 404, 'not_found'],
			['string flag', 'adm_user', { verified: 'yes' }, 400, 'validation_failed'],
			['number flag', 'adm_user', { premium: 1 }, 400, 'validation_failed'],
			['unknown flag', 'adm_user', { admin: true }, 400, 'validation_failed'],
			['display name', 'adm_user', { displayName: 'Renamed' }, 400, 'validation_failed'],
			['array', 'adm_user', [{ verified: true }], 400, 'validation_failed'],
			['not JSON', 'adm_user', '{"verified": tru', 400, 'validation_failed'],
		];
		for (const [label, target, body, status, code] of cases) {
			expect(outcome(label, await call('PUT', `/api/admin/users/${target}`, { token: ADMIN, body }))).toEqual([label, status, code]);
		}
		expect(await dump()).toBe(before);
	});

	test('flags are set and show in GET /api/me at once, and in the user\'s next token (refresh or login), not in the one it holds', async () => {
		const holding = await node.tokens.verify(user.token);
		expect(holding).toMatchObject({ verified: false, premium: false });
		const set = await call('PUT', '/api/admin/users/ADM_USER', { token: ADMIN, body: { verified: true } });
		expect(set).toMatchObject({ status: 200, body: { handle: 'adm_user', verified: true, premium: false } });
		expect(Object.keys(set.body).sort()).toEqual(['handle', 'premium', 'verified']);
		expect((await call('GET', '/api/me', { token: user.token })).body).toMatchObject({ verified: true, premium: false });
		expect(await node.tokens.verify(user.token)).toMatchObject({ verified: false, premium: false });

		const refreshed = await call('POST', '/api/auth/refresh', { body: { refreshToken: user.refreshToken } });
		expect(await node.tokens.verify(refreshed.body.token)).toMatchObject({ verified: true, premium: false });
		expect(refreshed.body.user).toEqual({ handle: 'adm_user', displayName: 'Admin Subject', verified: true });

		// Flags not in the body keep their value.
		expect((await call('PUT', '/api/admin/users/adm_user', { token: ADMIN, body: { premium: true } })).body).toEqual({ handle: 'adm_user', verified: true, premium: true });
		expect(await node.tokens.verify((await login('adm_user')).body.token)).toMatchObject({ verified: true, premium: true });
		expect((await call('PUT', '/api/admin/users/adm_user', { token: ADMIN, body: { verified: false } })).body).toEqual({ handle: 'adm_user', verified: false, premium: true });
		expect((await call('PUT', '/api/admin/users/adm_user', { token: ADMIN, body: {} })).body).toEqual({ handle: 'adm_user', verified: false, premium: true });
		expect(await node.tokens.verify((await login('adm_user')).body.token)).toMatchObject({ verified: false, premium: true });
		// The directory shows verification (not premium).
		await call('PUT', '/api/admin/users/adm_user', { token: ADMIN, body: { verified: true } });
		expect((await call('GET', '/api/users?q=adm_user', { token: user.token })).body.users).toEqual([{ handle: 'adm_user', displayName: 'Admin Subject', verified: true }]);
	});
});

describe('tokens', () => {
	let victim: TestAccount;
	let target: TestAccount;
	/** Every route that needs an account token, with a body it would accept. */
	let routes: [string, string, unknown][];
	beforeAll(async () => {
		victim = await signup('tok_victim', 'Victim');
		target = await signup('tok_target', 'Target');
		await call('PUT', '/api/me/contacts/tok_target', { token: victim.token });
		routes = [
			['POST', '/api/auth/logout', undefined],
			['GET', '/api/me', undefined],
			['POST', '/api/me/password', { currentPassword: password('tok_victim'), newPassword: 'taken over' }],
			['DELETE', '/api/me', { password: password('tok_victim') }],
			['GET', '/api/me/calls', undefined],
			['GET', '/api/me/settings', undefined],
			['PATCH', '/api/me/settings', { discoverable: false, calls: { enabled: false } }],
			...['contacts', 'follows', 'blocks'].flatMap((path): [string, string, unknown][] => [
				['GET', `/api/me/${path}`, undefined],
				['PUT', `/api/me/${path}/tok_target`, undefined],
				['DELETE', `/api/me/${path}/tok_target`, undefined],
			]),
			['GET', '/api/users?q=tok', undefined],
		];
	});

	test('every non-public route refuses a missing, garbage, expired, forged or revoked token with 401 unauthorized, and changes nothing', async () => {
		const claims = await node.tokens.verify(victim.token);
		const live = { sub: claims.sub, handle: claims.handle, name: claims.name, sid: claims.sid };
		const otherNode = await TokenService.create({ ...node.config.auth, secret: 'another-nodes-secret-long-enough-0123456789' }, { dev: false });
		const [header, , signature] = victim.token.split('.');
		const loggedOut = await login('tok_victim');
		expect((await call('POST', '/api/auth/logout', { token: loggedOut.body.token })).status).toBe(204);
		const future = Math.floor(Date.now() / 1000) + 3600;
		const tokens: [string, CallOptions][] = [
			['no token', {}],
			['empty bearer', { authorization: 'Bearer ' }],
			['garbage', { token: 'garbage' }],
			['three dots', { token: 'a.b.c' }],
			['wrong scheme', { authorization: `Token ${victim.token}` }],
			['trailing junk', { authorization: `Bearer ${victim.token} extra` }],
			['too long', { token: 'x'.repeat(9000) }],
			['expired', { token: await node.tokens.issue(live, -10) }],
			['another secret', { token: await otherNode.issue(live) }],
			['alg none', { token: `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...live, exp: future })}.` }],
			['payload edited', { token: `${header}.${b64({ ...live, premium: true, exp: future })}.${signature}` }],
			['logged out', { token: loggedOut.body.token }],
			['session of another account', { token: await node.tokens.issue({ ...live, sub: target.id }) }],
		];
		const before = await dump();
		for (const [method, path, body] of routes) {
			for (const [label, options] of tokens) {
				const res = await call(method, path, { ...options, body });
				expect(outcome(`${method} ${path} with ${label}`, res)).toEqual([`${method} ${path} with ${label}`, 401, 'unauthorized']);
			}
		}
		expect(await dump()).toBe(before);
		expect((await login('tok_victim')).status).toBe(200);
		expect(handles(await call('GET', '/api/me/contacts', { token: victim.token }))).toEqual(['tok_target']);
		expect(await handshake(victim.token)).toBe('connected');
	});

	test('a token that is not an account\'s (no login session) is refused by the account routes', async () => {
		const devToken = await node.tokens.issue({ sub: `dev-${victim.id}`, name: 'Dev', rooms: ['*'] });
		const sameSub = await node.tokens.issue({ sub: victim.id, handle: 'tok_victim' });
		const before = await dump();
		for (const [method, path, body] of routes) {
			for (const [label, token] of [['dev token', devToken], ['account id without a session', sameSub]] as const) {
				const res = await call(method, path, { token, body });
				expect(outcome(`${method} ${path} with ${label}`, res)).toEqual([`${method} ${path} with ${label}`, 401, 'unauthorized']);
			}
		}
		expect(await dump()).toBe(before);
	});
});

describe('bodies: size, JSON, SQL', () => {
	let user: TestAccount;
	/** Every route that reads a body, with one it would accept (as far as parsing goes). */
	let bodyRoutes: [string, string, Record<string, unknown>, CallOptions][];
	beforeAll(async () => {
		user = await signup('body_user', 'Body User');
		await signup('body_target');
		bodyRoutes = [
			['POST', '/api/auth/signup', { handle: 'body_new', password: 'a long password', displayName: 'New' }, {}],
			['POST', '/api/auth/login', { handle: 'body_user', password: password('body_user') }, {}],
			['POST', '/api/auth/refresh', { refreshToken: user.refreshToken }, {}],
			['POST', '/api/me/password', { currentPassword: password('body_user'), newPassword: 'a new password' }, { token: user.token }],
			['DELETE', '/api/me', { password: password('body_user') }, { token: user.token }],
			['PATCH', '/api/me/settings', { discoverable: false }, { token: user.token }],
			['PUT', '/api/me/contacts/body_target', {}, { token: user.token }],
			['PUT', '/api/admin/users/body_user', { verified: true }, { token: ADMIN }],
		];
	});

	/** `body` padded with a `pad` string to exactly `bytes` bytes of JSON. */
	const padded = (body: Record<string, unknown>, bytes: number): string => {
		const bare = JSON.stringify({ ...body, pad: '' });
		return JSON.stringify({ ...body, pad: 'p'.repeat(bytes - Buffer.byteLength(bare)) });
	};

	test('over 16 kB is 413 payload_too_large on every route that reads a body, and changes nothing; 16 kB exactly is read', async () => {
		const before = await dump();
		for (const [method, path, body, options] of bodyRoutes) {
			for (const bytes of [BODY_LIMIT + 1, 64 * 1024, 1024 * 1024]) {
				const label = `${method} ${path} ${bytes}`;
				expect(outcome(label, await call(method, path, { ...options, body: padded(body, bytes) }))).toEqual([label, 413, 'payload_too_large']);
			}
			// At the limit the body is parsed, and refused for its unknown key.
			const label = `${method} ${path} at the limit`;
			const expected = path === '/api/me/contacts/body_target' ? 204 : 400;
			expect(outcome(label, await call(method, path, { ...options, body: padded(body, BODY_LIMIT) }))[1]).toBe(expected);
		}
		// The contacts PUT ignores its body; undo it. (Both count in the user's relation writes.)
		await call('DELETE', '/api/me/contacts/body_target', { token: user.token });
		expect(await dump()).toBe(before);
	});

	test('bodies that are not JSON objects are 400 validation_failed on every route that reads one, and change nothing', async () => {
		const bad: [string, string, Record<string, string>][] = [
			['truncated', '{"handle": ', {}],
			['not JSON', 'not json at all', {}],
			['XML', '<xml/>', {}],
			['single quotes', "{'handle': 'x'}", {}],
			['a JSON string', '"text"', {}],
			['a JSON number', '42', {}],
			['null', 'null', {}],
			['an array', '[]', {}],
			['text/plain', '{"handle":"x"}', { 'Content-Type': 'text/plain' }],
			['form', 'handle=x&password=y', { 'Content-Type': 'application/x-www-form-urlencoded' }],
		];
		const before = await dump();
		for (const [method, path, , options] of bodyRoutes.filter(([, p]) => !p.startsWith('/api/me/contacts'))) {
			for (const [what, body, headers] of bad) {
				const label = `${method} ${path} ${what}`;
				expect(outcome(label, await call(method, path, { ...options, body, headers }))).toEqual([label, 400, 'validation_failed']);
			}
			// An empty JSON body reads as {}: an empty patch where every field is optional.
			const empty = `${method} ${path} empty`;
			const optional = path === '/api/me/settings' || path.startsWith('/api/admin/');
			expect([empty, (await call(method, path, { ...options, body: '' })).status]).toEqual([empty, optional ? 200 : 400]);
		}
		expect(await dump()).toBe(before);
	});

	// Regression, fixed (src/http/errorHandler.ts): only two body-parser error types are
	// mapped; every other client error from the parsers and the router (bad
	// Content-Encoding, unknown charset, malformed percent-encoding in a path
	// parameter) becomes 500 internal, logged as a node fault.
	test.each([
		['an unknown Content-Encoding', 'PATCH', '/api/me/settings', { 'Content-Encoding': 'compress-me' }, '{}'],
		['a body that is not gzip under Content-Encoding: gzip', 'PATCH', '/api/me/settings', { 'Content-Encoding': 'gzip' }, '{}'],
		['an unknown charset', 'PATCH', '/api/me/settings', { 'Content-Type': 'application/json; charset=no-such-charset' }, '{}'],
		['a malformed percent-encoding in the handle', 'PUT', '/api/me/contacts/%E0%A4%A', {}, undefined],
	] as const)('%s is a 4xx, not 500 internal', async (_what, method, path, headers, body) => {
		const res = await call(method, path, { token: user.token, headers, body });
		expect(res.status).toBeGreaterThanOrEqual(400);
		expect(res.status).toBeLessThan(500);
	});

	test('SQL-looking strings: refused as handles, plain text as display names, passwords and queries; the tables are all there', async () => {
		const before = await dump();
		const asHandle: [string, string, CallOptions][] = [
			['POST', '/api/auth/signup', { body: { handle: SQL, password: 'a long password', displayName: 'X' } }],
			['POST', '/api/auth/login', { body: { handle: SQL, password: 'a long password' } }],
			['PUT', `/api/me/contacts/${encodeURIComponent(SQL)}`, { token: user.token }],
			['DELETE', `/api/me/blocks/${encodeURIComponent(SQL)}`, { token: user.token }],
			['PUT', `/api/admin/users/${encodeURIComponent(SQL)}`, { token: ADMIN, body: { verified: true } }],
			['GET', `/api/users?q=a&after=${encodeURIComponent(SQL)}`, { token: user.token }],
		];
		for (const [method, path, options] of asHandle) {
			expect(outcome(path, await call(method, path, options))).toEqual([path, 400, 'validation_failed']);
		}
		expect(await dump()).toBe(before);

		const plain = await call('POST', '/api/auth/signup', { body: { handle: 'sql_text', password: SQL, displayName: `${SQL} ${SQL}` } });
		expect(plain.status).toBe(201);
		expect((await call('GET', '/api/me', { token: plain.body.token })).body.displayName).toBe(`${SQL} ${SQL}`);
		expect((await login('sql_text', SQL)).status).toBe(200);
		expect((await login('sql_text', "' OR '1'='1")).status).toBe(401);
		expect((await call('GET', `/api/users?q=${encodeURIComponent(`${SQL} x`)}`, { token: user.token })).body.users).toEqual([
			{ handle: 'sql_text', displayName: `${SQL} ${SQL}`, verified: false },
		]);
		expect(await storeTables(node)).toEqual(expect.arrayContaining(TABLES));
		expect(Number((await rows('SELECT count(*) AS n FROM users'))[0]!.n)).toBeGreaterThan(10);
		expect((await login('body_user')).status).toBe(200);
	});
});

describe('rate limits per client IP (a node with small limits)', () => {
	const LIMIT = 3;
	let limited: TestNode;
	let main: TestNode;
	const accounts: { token: string }[] = [];
	beforeAll(async () => {
		// NOTE: the helpers above talk to `node`; this block points it at its own
		// node and puts the main one back afterwards.
		main = node;
		limited = await startTestNode({ media: { workers: 1 }, accounts: { signupsPerHour: LIMIT, loginsPerMinute: LIMIT, searchesPerMinute: LIMIT } });
		node = limited;
	});
	afterAll(async () => {
		node = main;
		await limited?.close();
	});

	const retryAfter = (reply: Reply): number => Number(reply.headers.get('retry-after'));

	test('sign-ups per hour: over the limit, 429 rate_limited with Retry-After, and no account is created', async () => {
		for (let i = 0; i < LIMIT; i++) {
			const res = await call('POST', '/api/auth/signup', { body: { handle: `limit_${i}`, password: password(`limit_${i}`), displayName: `L${i}` } });
			expect([i, res.status]).toEqual([i, 201]);
			accounts.push(res.body);
		}
		const before = await dump();
		for (const handle of ['limit_over', 'limit_over2']) {
			const res = await call('POST', '/api/auth/signup', { body: { handle, password: 'a long password', displayName: 'Over' } });
			expect(outcome(handle, res)).toEqual([handle, 429, 'rate_limited']);
			expect(retryAfter(res)).toBeGreaterThanOrEqual(1);
			expect(retryAfter(res)).toBeLessThanOrEqual(3600);
			expect(res.body.token).toBeUndefined();
		}
		expect(await dump()).toBe(before);
	});

	test('logins per minute: over the limit, 429 even with the right password, no token and no session', async () => {
		expect((await login('limit_0', 'wrong password')).status).toBe(401);
		for (let i = 1; i < LIMIT; i++) {
			expect((await login('limit_0')).status).toBe(200);
		}
		const before = await dump();
		const res = await login('limit_0');
		expect(outcome('login over the limit', res)).toEqual(['login over the limit', 429, 'rate_limited']);
		expect(retryAfter(res)).toBeGreaterThanOrEqual(1);
		expect(retryAfter(res)).toBeLessThanOrEqual(60);
		expect(res.body.token).toBeUndefined();
		expect(await dump()).toBe(before);
	});

	test('searches per minute: over the limit, 429 with Retry-After; other routes are not limited', async () => {
		const token = accounts[1]!.token;
		for (let i = 0; i < LIMIT; i++) {
			expect((await call('GET', '/api/users?q=limit', { token })).status).toBe(200);
		}
		const res = await call('GET', '/api/users?q=limit', { token });
		expect(outcome('search over the limit', res)).toEqual(['search over the limit', 429, 'rate_limited']);
		expect(retryAfter(res)).toBeGreaterThanOrEqual(1);
		expect(retryAfter(res)).toBeLessThanOrEqual(60);
		for (let i = 0; i < LIMIT + 2; i++) {
			expect((await call('GET', '/api/me', { token })).status).toBe(200);
			expect((await call('PUT', '/api/me/contacts/limit_2', { token })).status).toBe(204);
		}
	});

	test('refreshes count apart from logins; password checks with an access token are limited like logins', async () => {
		// Logins of this address are used up (the test above): refreshes still go, up to their own limit.
		let refreshToken = (accounts[2] as unknown as { refreshToken: string }).refreshToken;
		for (let i = 0; i < LIMIT; i++) {
			const res = await call('POST', '/api/auth/refresh', { body: { refreshToken } });
			expect([i, res.status]).toEqual([i, 200]);
			refreshToken = res.body.refreshToken;
		}
		expect(outcome('refresh over the limit', await call('POST', '/api/auth/refresh', { body: { refreshToken } })))
			.toEqual(['refresh over the limit', 429, 'rate_limited']);

		// Guessing the password with a stolen access token: limited, and the account stays.
		const token = accounts[0]!.token;
		for (let i = 0; i < LIMIT; i++) {
			const res = await call(i % 2 ? 'DELETE' : 'POST', i % 2 ? '/api/me' : '/api/me/password',
				{ token, body: i % 2 ? { password: `guess ${i}` } : { currentPassword: `guess ${i}`, newPassword: 'a new password' } });
			expect([i, res.status]).toEqual([i, 403]);
		}
		const before = await dump();
		const res = await call('DELETE', '/api/me', { token, body: { password: password('limit_0') } });
		expect(outcome('deletion over the limit', res)).toEqual(['deletion over the limit', 429, 'rate_limited']);
		expect(await dump()).toBe(before);
	});

	test('with no auth.adminToken configured the admin API refuses every token', async () => {
		for (const token of [undefined, '', 'null', ADMIN, accounts[0]!.token]) {
			const res = await call('PUT', '/api/admin/users/limit_0', { token, body: { verified: true } });
			expect(outcome(token, res)).toEqual([token, 401, 'unauthorized']);
		}
		expect((await call('GET', '/api/me', { token: accounts[0]!.token })).body.verified).toBe(false);
	});
});

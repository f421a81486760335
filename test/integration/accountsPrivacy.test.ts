import { signup, type TestAccount } from '../helpers/accounts';
import { startTestNode, type TestNode } from '../helpers/node';
import { storeSql, watchCommits } from '../helpers/storeSql';

/**
 * What the account routes tell an attacker, over real HTTP against a whole
 * node with a real SQLite file: a block must not show in the directory or in
 * the relation routes, a hidden account must not be told from an unknown
 * handle, and passwords cannot be guessed faster by changing address.
 */

type Reply = { status: number; body: any; text: string; headers: Headers };

async function request(node: TestNode, method: string, path: string, { token, body, headers = {} }: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Reply> {
	const res = await fetch(`${node.url}${path}`, {
		method,
		headers: {
			...(token ? { Authorization: `Bearer ${token}` } : {}),
			...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
			...headers,
		},
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	const text = await res.text();
	return { status: res.status, text, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

/** What a client can compare between two answers: status, the headers that vary with the content, and the body. */
const visible = (reply: Reply) => ({
	status: reply.status, body: reply.text,
	...Object.fromEntries(['content-type', 'content-length', 'retry-after'].map((name) => [name, reply.headers.get(name)])),
});

const rows = storeSql;

const handles = (reply: Reply): string[] => (reply.body?.users as { handle: string }[] | undefined)?.map((u) => u.handle) ?? [`no users: ${reply.status} ${reply.text}`];
const KINDS = ['contacts', 'follows', 'blocks'] as const;

describe('blocks and hidden accounts do not show', () => {
	let node: TestNode;
	let owner: TestAccount;
	let stranger: TestAccount;
	let hidden: TestAccount;
	const hide = async (account: TestAccount) =>
		expect((await request(node, 'PATCH', '/api/me/settings', { token: account.token, body: { discoverable: false } })).status).toBe(200);

	beforeAll(async () => {
		node = await startTestNode({ media: { workers: 1 }, accounts: { signupsPerHour: 10_000, searchesPerMinute: 10_000, relationWritesPerMinute: 10_000 } });
		owner = await signup(node, 'priv_owner', 'Priv Owner');
		stranger = await signup(node, 'priv_stranger', 'Priv Stranger');
		await signup(node, 'priv_visible', 'Priv Visible');
		hidden = await signup(node, 'priv_hidden', 'Priv Hidden');
		await hide(hidden);
	});
	afterAll(() => node.close());

	test('the blocked account\'s search finds the blocker exactly as a stranger\'s does', async () => {
		const blocker = await signup(node, 'blk_blocker', 'Blk Blocker');
		const blocked = await signup(node, 'blk_blocked', 'Blk Blocked');
		await signup(node, 'blk_other', 'Blk Other');
		expect((await request(node, 'PUT', '/api/me/blocks/blk_blocked', { token: blocker.token })).status).toBe(204);
		for (const query of ['q=blk', 'q=blk_b', 'q=Blk%20Blocker', 'q=blk&limit=1', 'q=blk&after=blk_blocked']) {
			const seenByBlocked = await request(node, 'GET', `/api/users?${query}`, { token: blocked.token });
			const seenByStranger = await request(node, 'GET', `/api/users?${query}`, { token: stranger.token });
			expect([query, visible(seenByBlocked)]).toEqual([query, visible(seenByStranger)]);
		}
		expect(handles(await request(node, 'GET', '/api/users?q=blk', { token: blocked.token }))).toEqual(['blk_blocked', 'blk_blocker', 'blk_other']);
		// The block still applies: the blocked account cannot ring the blocker (one code for every reason).
		expect(await node.store.relationsBetween(blocked.id, blocker.id)).toMatchObject({ calleeBlockedCaller: true });
	});

	test('PUT and DELETE of a relation: the same 204 with no body for an unknown handle, a hidden account and a listed one', async () => {
		const answers: Record<string, unknown[]> = {};
		for (const target of ['priv_visible', 'priv_hidden', 'priv_nobody', 'PRIV_NOBODY']) {
			answers[target] = [];
			for (const kind of KINDS) {
				for (const method of ['PUT', 'PUT', 'DELETE', 'DELETE']) {
					answers[target]!.push([kind, method, visible(await request(node, method, `/api/me/${kind}/${target}`, { token: owner.token }))]);
				}
			}
		}
		expect(answers.priv_visible![0]).toEqual(['contacts', 'PUT', { status: 204, body: '', 'content-type': null, 'content-length': null, 'retry-after': null }]);
		expect(answers.priv_hidden).toEqual(answers.priv_visible);
		expect(answers.priv_nobody).toEqual(answers.priv_visible);
		expect(answers.PRIV_NOBODY).toEqual(answers.priv_visible);
		// Yourself is still refused: it tells nothing.
		expect((await request(node, 'PUT', '/api/me/follows/priv_owner', { token: owner.token })).status).toBe(400);
	});

	test('the same work too: every PUT and DELETE commits a write (an fsync), whether or not the handle exists or the relation changes', async () => {
		// NOTE: a second connection sees each commit (test/helpers/storeSql.ts watchCommits).
		const commitsSeen = await watchCommits(node, owner.id);
		try {
			const commits: [string, string, string, boolean][] = [];
			for (const target of ['priv_visible', 'priv_hidden', 'priv_nobody']) {
				for (const [method, kind] of [['PUT', 'follows'], ['PUT', 'follows'], ['DELETE', 'follows'], ['DELETE', 'blocks']]) {
					const before = await commitsSeen.version();
					expect((await request(node, method!, `/api/me/${kind}/${target}`, { token: owner.token })).status).toBe(204);
					commits.push([target, method!, kind!, (await commitsSeen.version()) !== before]);
				}
			}
			expect(commits.filter(([, , , committed]) => !committed)).toEqual([]);
		} finally {
			await commitsSeen.close();
		}
	});

	test('a relation to an unknown handle stores nothing and does not bind to an account signing up with it later', async () => {
		for (const kind of KINDS) {
			expect((await request(node, 'PUT', `/api/me/${kind}/priv_later`, { token: owner.token })).status).toBe(204);
		}
		expect(await rows(node, 'SELECT * FROM relations WHERE owner_id = ?', owner.id)).toEqual([]);
		const later = await signup(node, 'priv_later', 'Priv Later');
		for (const kind of KINDS) {
			expect([kind, handles(await request(node, 'GET', `/api/me/${kind}`, { token: owner.token }))]).toEqual([kind, []]);
		}
		expect(await rows(node, 'SELECT * FROM relations WHERE owner_id = ? OR target_id = ?', owner.id, later.id)).toEqual([]);
		expect(await node.store.relationsBetween(later.id, owner.id)).toEqual({
			calleeHasCallerAsContact: false, calleeFollowsCaller: false, calleeBlockedCaller: false, callerBlockedCallee: false,
		});
	});

	test('the lists show a hidden account only if it has the owner as a contact or follows the owner; the relation applies either way', async () => {
		const fan = await signup(node, 'list_fan', 'List Fan');
		const friend = await signup(node, 'list_friend', 'List Friend');
		const foe = await signup(node, 'list_foe', 'List Foe');
		const shy = await signup(node, 'list_shy', 'List Shy');
		for (const account of [fan, friend, foe, shy]) {
			await hide(account);
		}
		expect((await request(node, 'PUT', '/api/me/follows/priv_owner', { token: fan.token })).status).toBe(204);
		expect((await request(node, 'PUT', '/api/me/contacts/priv_owner', { token: friend.token })).status).toBe(204);
		// A block of the owner is not "adding" it: the owner's lists must not change with it.
		expect((await request(node, 'PUT', '/api/me/blocks/priv_owner', { token: foe.token })).status).toBe(204);
		for (const kind of KINDS) {
			for (const target of ['list_fan', 'list_friend', 'list_foe', 'list_shy', 'priv_visible']) {
				expect((await request(node, 'PUT', `/api/me/${kind}/${target}`, { token: owner.token })).status).toBe(204);
			}
			const listed = await request(node, 'GET', `/api/me/${kind}`, { token: owner.token });
			expect([kind, listed.body]).toEqual([kind, { users: [
				{ handle: 'list_fan', displayName: 'List Fan', verified: false },
				{ handle: 'list_friend', displayName: 'List Friend', verified: false },
				{ handle: 'priv_visible', displayName: 'Priv Visible', verified: false },
			] }]);
		}
		// Not listed, but there: the owner's block of the shy account stops its calls.
		expect(await node.store.relationsBetween(shy.id, owner.id)).toMatchObject({ calleeBlockedCaller: true, calleeHasCallerAsContact: true, calleeFollowsCaller: true });
		// Once the shy account follows the owner it is listed; once discoverable too.
		await request(node, 'PUT', '/api/me/follows/priv_owner', { token: shy.token });
		expect(handles(await request(node, 'GET', '/api/me/blocks', { token: owner.token }))).toEqual(['list_fan', 'list_friend', 'list_shy', 'priv_visible']);
		await request(node, 'DELETE', '/api/me/follows/priv_owner', { token: shy.token });
		expect(handles(await request(node, 'GET', '/api/me/blocks', { token: owner.token }))).toEqual(['list_fan', 'list_friend', 'priv_visible']);
		await request(node, 'PATCH', '/api/me/settings', { token: foe.token, body: { discoverable: true } });
		expect(handles(await request(node, 'GET', '/api/me/blocks', { token: owner.token }))).toEqual(['list_fan', 'list_foe', 'list_friend', 'priv_visible']);
		for (const kind of KINDS) {
			for (const target of ['list_fan', 'list_friend', 'list_foe', 'list_shy', 'priv_visible']) {
				await request(node, 'DELETE', `/api/me/${kind}/${target}`, { token: owner.token });
			}
		}
	});
});

describe('relation writes per account', () => {
	const LIMIT = 4;
	let node: TestNode;
	beforeAll(async () => {
		node = await startTestNode({ media: { workers: 1 }, accounts: { signupsPerHour: 10_000, relationWritesPerMinute: LIMIT } });
	});
	afterAll(() => node.close());

	test('over accounts.relationWritesPerMinute: 429 rate_limited with Retry-After, nothing written; other accounts go on', async () => {
		const busy = await signup(node, 'rw_busy');
		const calm = await signup(node, 'rw_calm');
		await signup(node, 'rw_target');
		const writes = ['PUT /api/me/contacts/rw_target', 'DELETE /api/me/contacts/rw_target', 'PUT /api/me/follows/rw_nobody', 'PUT /api/me/blocks/rw_target'];
		for (const write of writes) {
			const [method, path] = write.split(' ') as [string, string];
			expect([write, (await request(node, method, path, { token: busy.token })).status]).toEqual([write, 204]);
		}
		for (const write of ['DELETE /api/me/blocks/rw_target', 'PUT /api/me/contacts/rw_target', 'PUT /api/me/follows/rw_nobody']) {
			const [method, path] = write.split(' ') as [string, string];
			const res = await request(node, method, path, { token: busy.token });
			expect([write, res.status, res.body?.error?.code]).toEqual([write, 429, 'rate_limited']);
			expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
			expect(Number(res.headers.get('retry-after'))).toBeLessThanOrEqual(60);
		}
		// The refused ones changed nothing: the block is still there, no contact came.
		expect(await rows(node, 'SELECT kind FROM relations WHERE owner_id = ?', busy.id)).toEqual([{ kind: 'block' }]);
		// Reading is not limited, and another account from the same address has its own count.
		expect((await request(node, 'GET', '/api/me/blocks', { token: busy.token })).status).toBe(200);
		expect((await request(node, 'PUT', '/api/me/contacts/rw_target', { token: calm.token })).status).toBe(204);
	});
});

describe('failed logins per handle', () => {
	const FAILURES = 10;
	let node: TestNode;
	/** A login from its own forwarded address, which changes nothing: the count is per handle. */
	let address = 0;
	const login = (handle: string, password: string) => request(node, 'POST', '/api/auth/login', {
		body: { handle, password }, headers: { 'X-Forwarded-For': `203.0.113.${++address % 250}` },
	});
	const retryAfter = (reply: Reply) => Number(reply.headers.get('retry-after'));
	const sessions = async (account: TestAccount) => (await rows(node, 'SELECT id FROM sessions WHERE user_id = ?', account.id)).length;

	beforeAll(async () => {
		// NOTE: the per-address limit is high, so that failures from this one test address trip
		// the per-handle limit first; the defaults are accounts.loginFailuresPerAccount 10 per 900 s.
		node = await startTestNode({ media: { workers: 1 }, accounts: { signupsPerHour: 10_000, loginsPerMinute: 10_000 } });
		expect(node.config.accounts).toMatchObject({ loginFailuresPerAccount: FAILURES, loginFailureWindowSeconds: 900 });
	});
	afterAll(() => node.close());

	test('10 wrong passwords from 10 addresses: the 11th login is 429 rate_limited with Retry-After even with the right password', async () => {
		const victim = await signup(node, 'guess_victim');
		const bystander = await signup(node, 'guess_bystander');
		for (let i = 0; i < FAILURES; i++) {
			expect([i, (await login('guess_victim', `guess number ${i}`)).status]).toEqual([i, 401]);
		}
		const before = await sessions(victim);
		for (const password of ['pw-guess_victim-secret', 'yet another guess']) {
			const res = await login('GUESS_VICTIM', password);
			expect([password, res.status, res.body.error?.code, res.body.token]).toEqual([password, 429, 'rate_limited', undefined]);
			expect(retryAfter(res)).toBeGreaterThanOrEqual(1);
			expect(retryAfter(res)).toBeLessThanOrEqual(900);
		}
		expect(await sessions(victim)).toBe(before);
		// Sessions already open go on, and other accounts log in.
		expect((await request(node, 'GET', '/api/me', { token: victim.token })).status).toBe(200);
		expect((await login('guess_bystander', 'pw-guess_bystander-secret')).status).toBe(200);
		expect(await sessions(bystander)).toBe(2);
	});

	test('an unknown handle gets the same answers as a wrong password, under the limit and over it', async () => {
		await signup(node, 'same_known');
		// NOTE: Retry-After counts down from the first failure of each, a few ms apart: compared as present or not.
		const shape = (reply: Reply) => ({ ...visible(reply), 'retry-after': reply.headers.has('retry-after') });
		const known: unknown[] = [];
		const unknown: unknown[] = [];
		for (let i = 0; i <= FAILURES + 1; i++) {
			known.push([i, shape(await login('same_known', `guess ${i}`))]);
			unknown.push([i, shape(await login('same_unknown', `guess ${i}`))]);
		}
		expect(known[FAILURES - 1]).toEqual([FAILURES - 1, expect.objectContaining({ status: 401, 'retry-after': false })]);
		expect(known[FAILURES]).toEqual([FAILURES, expect.objectContaining({ status: 429, 'retry-after': true })]);
		expect(unknown).toEqual(known);
	});

	test('a successful login before the limit starts the count again', async () => {
		await signup(node, 'reset_user');
		for (let i = 0; i < FAILURES - 1; i++) {
			expect([i, (await login('reset_user', `guess ${i}`)).status]).toEqual([i, 401]);
		}
		expect((await login('reset_user', 'pw-reset_user-secret')).status).toBe(200);
		for (let i = 0; i < FAILURES; i++) {
			expect([i, (await login('reset_user', `guess ${i}`)).status]).toEqual([i, 401]);
		}
		expect((await login('reset_user', 'pw-reset_user-secret')).status).toBe(429);
	});

	test('after the window the right password works again', async () => {
		const WINDOW = 2;
		const short = await startTestNode({ media: { workers: 1 }, accounts: { loginsPerMinute: 10_000, loginFailureWindowSeconds: WINDOW } });
		try {
			await signup(short, 'window_user');
			const shortLogin = (password: string) => request(short, 'POST', '/api/auth/login', { body: { handle: 'window_user', password } });
			for (let i = 0; i < FAILURES; i++) {
				expect([i, (await shortLogin(`guess ${i}`)).status]).toEqual([i, 401]);
			}
			const refused = await shortLogin('pw-window_user-secret');
			expect(refused.status).toBe(429);
			expect(retryAfter(refused)).toBeGreaterThanOrEqual(1);
			expect(retryAfter(refused)).toBeLessThanOrEqual(WINDOW);
			// NOTE: the limiter's clock cannot be injected: wait out the (short) window it announced.
			await new Promise((resolve) => setTimeout(resolve, retryAfter(refused) * 1000 + 100));
			expect((await shortLogin('pw-window_user-secret')).status).toBe(200);
		} finally {
			await short.close();
		}
	});
});

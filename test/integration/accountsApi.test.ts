import { webcrypto } from 'node:crypto';
import { api, login, signup, type TestAccount } from '../helpers/accounts';
import { startTestNode, type TestNode } from '../helpers/node';
import { SignalingClient } from '../helpers/signalingClient';

const ADMIN = 'admin-token-for-account-tests-0123456789';

describe('the accounts API over real HTTP and a real SQLite file', () => {
	let node: TestNode;
	let ada: TestAccount;
	let bob: TestAccount;

	beforeAll(async () => {
		node = await startTestNode({
			media: { workers: 1 },
			auth: { adminToken: ADMIN },
			accounts: { signupsPerHour: 10_000, loginsPerMinute: 10_000, searchesPerMinute: 10_000 },
		});
		ada = await signup(node, 'ada_l', 'Ada Lovelace');
		bob = await signup(node, 'bob_b', 'Bob Builder');
	});
	afterAll(() => node.close());

	/** Every row of every table, to show a refused request changed nothing. */
	const snapshot = async () => JSON.stringify([
		await node.store.userByHandle('ada_l'), await node.store.userByHandle('bob_b'),
		await node.store.listRelations('contact', ada.id), await node.store.listRelations('block', ada.id),
		await node.store.listRelations('follow', ada.id), await node.store.listRelations('contact', bob.id),
	]);

	test('sign-up: handles are 3-30 of a-z 0-9 _, case-insensitive; a taken handle is a conflict', async () => {
		const res = await api(node, undefined, 'POST', '/api/auth/signup', { handle: 'Case_Test', password: 'long enough pw', displayName: 'Case' });
		expect(res.status).toBe(201);
		expect(res.body).toMatchObject({ token: expect.any(String), refreshToken: expect.any(String), user: { handle: 'case_test' } });
		expect((await api(node, undefined, 'POST', '/api/auth/signup', { handle: 'CASE_TEST', password: 'long enough pw', displayName: 'Again' })).body.error.code).toBe('conflict');
		for (const handle of ['ab', 'x'.repeat(31), 'with space', 'dash-ed', 'émile', "x'; DROP TABLE users; --", '', 42]) {
			const bad = await api(node, undefined, 'POST', '/api/auth/signup', { handle, password: 'long enough pw', displayName: 'X' });
			expect([handle, bad.status, bad.body.error.code]).toEqual([handle, 400, 'validation_failed']);
		}
		expect((await api(node, undefined, 'POST', '/api/auth/signup', { handle: 'shortpw', password: 'short', displayName: 'X' })).status).toBe(400);
		expect((await api(node, undefined, 'POST', '/api/auth/signup', { handle: 'phone_no', password: 'long enough pw', displayName: 'X', phone: '+15555555555' })).status).toBe(400);
		// The users table is still there.
		expect(await node.store.userByHandle('ada_l')).toBeDefined();
	});

	test('login: one answer for an unknown handle and a wrong password; refresh rotates, and answers a repeat at once the same; logout revokes on HTTP and socket.io', async () => {
		const wrong = await api(node, undefined, 'POST', '/api/auth/login', { handle: 'ada_l', password: 'not the password' });
		const unknown = await api(node, undefined, 'POST', '/api/auth/login', { handle: 'nobody_here', password: 'whatever pw' });
		expect(wrong).toEqual(unknown);
		expect(wrong.status).toBe(401);
		const login = await api(node, undefined, 'POST', '/api/auth/login', { handle: 'ADA_L', password: 'pw-ada_l-secret' });
		expect(login.status).toBe(200);
		const refreshed = await api(node, undefined, 'POST', '/api/auth/refresh', { refreshToken: login.body.refreshToken });
		expect(refreshed.status).toBe(200);
		const repeated = await api(node, undefined, 'POST', '/api/auth/refresh', { refreshToken: login.body.refreshToken });
		expect([repeated.status, repeated.body.refreshToken]).toEqual([200, refreshed.body.refreshToken]);
		const token = refreshed.body.token as string;
		expect((await api(node, token, 'GET', '/api/me')).body).toMatchObject({ handle: 'ada_l', displayName: 'Ada Lovelace' });
		expect((await api(node, token, 'POST', '/api/auth/logout')).status).toBe(204);
		expect((await api(node, token, 'GET', '/api/me')).status).toBe(401);
		await expect(SignalingClient.connect(node.url, { token })).rejects.toMatchObject({ code: 'unauthorized' });
		// Other sessions of the account are unaffected.
		expect((await api(node, ada.token, 'GET', '/api/me')).status).toBe(200);
	});

	test('every route but the public ones needs a valid token', async () => {
		const routes: [string, string][] = [
			['GET', '/api/me'], ['DELETE', '/api/me'], ['POST', '/api/me/password'], ['GET', '/api/me/settings'], ['PATCH', '/api/me/settings'],
			['GET', '/api/me/calls'], ['GET', '/api/users?q=a'], ['POST', '/api/auth/logout'], ['GET', '/api/me/devices'], ['PUT', '/api/me/devices/any-device-000001'],
			...(['contacts', 'follows', 'blocks'] as const).flatMap((r) => [['GET', `/api/me/${r}`], ['PUT', `/api/me/${r}/bob_b`], ['DELETE', `/api/me/${r}/bob_b`]] as [string, string][]),
		];
		const expired = await node.tokens.issue({ sub: ada.id, handle: 'ada_l' }, -10);
		for (const [method, path] of routes) {
			for (const token of [undefined, 'garbage', expired, `${ada.token.slice(0, -4)}AAAA`]) {
				const res = await api(node, token, method, path, method === 'GET' ? undefined : {});
				expect([method, path, res.status, res.body.error.code]).toEqual([method, path, 401, 'unauthorized']);
			}
		}
		// A dev (non-account) token is not an account.
		const dev = await node.tokens.issue({ sub: 'dev-x', rooms: ['*'] });
		expect((await api(node, dev, 'GET', '/api/me')).status).toBe(401);
	});

	test('relations: idempotent PUT and DELETE, lists, unknown handle 204 storing nothing, yourself 400; bad input changes nothing', async () => {
		for (const kind of ['contacts', 'follows', 'blocks']) {
			expect((await api(node, ada.token, 'PUT', `/api/me/${kind}/bob_b`)).status).toBe(204);
			expect((await api(node, ada.token, 'PUT', `/api/me/${kind}/BOB_B`)).status).toBe(204);
			expect((await api(node, ada.token, 'GET', `/api/me/${kind}`)).body.users).toEqual([{ handle: 'bob_b', displayName: 'Bob Builder', verified: false }]);
			expect((await api(node, ada.token, 'DELETE', `/api/me/${kind}/bob_b`)).status).toBe(204);
			expect((await api(node, ada.token, 'DELETE', `/api/me/${kind}/bob_b`)).status).toBe(204);
			expect((await api(node, ada.token, 'GET', `/api/me/${kind}`)).body.users).toEqual([]);
		}
		await api(node, ada.token, 'PUT', '/api/me/contacts/bob_b');
		const before = await snapshot();
		expect(await api(node, ada.token, 'PUT', '/api/me/contacts/nobody_at_all')).toEqual({ status: 204, body: undefined });
		expect((await api(node, ada.token, 'PUT', '/api/me/contacts/ada_l')).status).toBe(400);
		expect((await api(node, ada.token, 'PUT', `/api/me/contacts/${encodeURIComponent("x' OR 1=1 --")}`)).status).toBe(400);
		expect((await api(node, ada.token, 'PUT', '/api/me/friends/bob_b')).status).toBe(404);
		expect(await snapshot()).toBe(before);
	});

	test('settings: GET, PATCH merges deeply; wrong types, unknown keys and oversized bodies change nothing', async () => {
		expect((await api(node, bob.token, 'GET', '/api/me/settings')).body).toEqual({
			discoverable: true, calls: { enabled: true, allowFrom: { contacts: true, following: true, verified: false, everyone: false }, silenceOthers: false },
		});
		const patched = await api(node, bob.token, 'PATCH', '/api/me/settings', { calls: { allowFrom: { verified: true } } });
		expect(patched.body.calls.allowFrom).toEqual({ contacts: true, following: true, verified: true, everyone: false });
		expect((await api(node, bob.token, 'PATCH', '/api/me/settings', { calls: { silenceOthers: true } })).body.calls)
			.toEqual({ enabled: true, allowFrom: { contacts: true, following: true, verified: true, everyone: false }, silenceOthers: true });
		const before = await snapshot();
		for (const body of [{ calls: { enabled: 'yes' } }, { calls: { silenceOthers: 'on' } }, { discoverable: 1 }, { calls: { allowFrom: { strangers: true } } }, { theme: 'dark' }, [], 'x']) {
			const res = await api(node, bob.token, 'PATCH', '/api/me/settings', body);
			expect([JSON.stringify(body), res.status]).toEqual([JSON.stringify(body), 400]);
		}
		expect((await api(node, bob.token, 'PATCH', '/api/me/settings', '{"discoverable": fals')).status).toBe(400);
		expect((await api(node, bob.token, 'PATCH', '/api/me/settings', JSON.stringify({ discoverable: false, pad: 'x'.repeat(20_000) }))).status).toBe(413);
		expect(await snapshot()).toBe(before);
	});

	test('directory: prefix on handle and name, case-insensitive, paginated; leaves out the undiscoverable; the same with a block', async () => {
		const people = await Promise.all(['dir_one', 'dir_two', 'dir_three', 'dir_hidden', 'dir_blocker'].map((h) => signup(node, h, `Dir ${h}`)));
		await api(node, people[3]!.token, 'PATCH', '/api/me/settings', { discoverable: false });
		await api(node, people[4]!.token, 'PUT', '/api/me/blocks/ada_l');
		const page1 = await api(node, ada.token, 'GET', '/api/users?q=DIR_&limit=2');
		expect(page1.body.users.map((u: { handle: string }) => u.handle)).toEqual(['dir_blocker', 'dir_one']);
		const page2 = await api(node, ada.token, 'GET', `/api/users?q=dir_&limit=2&after=${page1.body.next}`);
		expect(page2.body.users.map((u: { handle: string }) => u.handle)).toEqual(['dir_three', 'dir_two']);
		expect((await api(node, ada.token, 'GET', '/api/users?q=dir%20dir_t')).body.users.map((u: { handle: string }) => u.handle)).toEqual(['dir_three', 'dir_two']);
		// Ada (blocked) and bob (not blocked) see the blocker alike.
		expect((await api(node, ada.token, 'GET', '/api/users?q=dir_b')).body).toEqual((await api(node, bob.token, 'GET', '/api/users?q=dir_b')).body);
		expect((await api(node, bob.token, 'GET', '/api/users?q=dir_b')).body.users.map((u: { handle: string }) => u.handle)).toEqual(['dir_blocker']);
		for (const query of ['', '?q=', `?q=${'x'.repeat(100)}`, '?q=a&limit=500', '?q=a&after=NOT%20A%20HANDLE', "?q=%25'%20OR%201%3D1"]) {
			const res = await api(node, ada.token, 'GET', `/api/users${query}`);
			expect([query, res.status < 500]).toEqual([query, true]);
			expect([query, [200, 400]]).toEqual([query, expect.arrayContaining([res.status])]);
		}
	});

	test('admin: flags need the admin token and appear in the next token', async () => {
		expect((await api(node, undefined, 'PUT', '/api/admin/users/bob_b', { verified: true })).status).toBe(401);
		expect((await api(node, bob.token, 'PUT', '/api/admin/users/bob_b', { verified: true })).status).toBe(401);
		expect((await api(node, ADMIN, 'PUT', '/api/admin/users/bob_b', { verified: 'yes' })).status).toBe(400);
		expect((await api(node, ADMIN, 'PUT', '/api/admin/users/nobody_at_all', { verified: true })).status).toBe(404);
		expect((await api(node, ADMIN, 'PUT', '/api/admin/users/bob_b', { verified: true, premium: true })).body).toEqual({ handle: 'bob_b', verified: true, premium: true });
		const next = await api(node, undefined, 'POST', '/api/auth/refresh', { refreshToken: bob.refreshToken });
		expect(await node.tokens.verify(next.body.token)).toMatchObject({ verified: true, premium: true });
		bob = { ...bob, token: next.body.token, refreshToken: next.body.refreshToken };
	});

	test('password change ends other sessions; deletion removes the account and its relations both ways', async () => {
		const carol = await signup(node, 'carol_c');
		const other = await api(node, undefined, 'POST', '/api/auth/login', { handle: 'carol_c', password: 'pw-carol_c-secret' });
		expect((await api(node, carol.token, 'POST', '/api/me/password', { currentPassword: 'wrong one', newPassword: 'a new password' })).status).toBe(403);
		expect((await api(node, carol.token, 'POST', '/api/me/password', { currentPassword: 'pw-carol_c-secret', newPassword: 'a new password' })).status).toBe(204);
		expect((await api(node, other.body.token, 'GET', '/api/me')).status).toBe(401);
		expect((await api(node, carol.token, 'GET', '/api/me')).status).toBe(200);

		await api(node, bob.token, 'PUT', '/api/me/contacts/carol_c');
		await api(node, carol.token, 'PUT', '/api/me/follows/bob_b');
		expect((await api(node, carol.token, 'DELETE', '/api/me', { password: 'pw-carol_c-secret' })).status).toBe(403);
		expect((await api(node, carol.token, 'DELETE', '/api/me', { password: 'a new password' })).status).toBe(204);
		expect((await api(node, carol.token, 'GET', '/api/me')).status).toBe(401);
		expect((await api(node, bob.token, 'GET', '/api/me/contacts')).body.users).toEqual([]);
		expect(await node.store.userByHandle('carol_c')).toBeUndefined();
		// The handle is free again.
		expect((await api(node, undefined, 'POST', '/api/auth/signup', { handle: 'carol_c', password: 'fresh password', displayName: 'C' })).status).toBe(201);
	});
});

/** A public key as a browser publishes it: WebCrypto's raw export of an ECDH P-256 key, base64url. */
async function devicePublicKey(): Promise<string> {
	const pair = await webcrypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']);
	return Buffer.from(await webcrypto.subtle.exportKey('raw', pair.publicKey)).toString('base64url');
}

describe('device keys over real HTTP', () => {
	let node: TestNode;
	beforeAll(async () => {
		node = await startTestNode({ media: { workers: 1 }, log: { level: 'debug' }, accounts: { signupsPerHour: 10_000, loginsPerMinute: 10_000, deviceWritesPerMinute: 10_000 } });
	});
	afterAll(() => node.close());

	const publish = (token: string | undefined, deviceId: string, body: unknown) => api(node, token, 'PUT', `/api/me/devices/${deviceId}`, body);
	const devices = async (token: string) => {
		const res = await api(node, token, 'GET', '/api/me/devices');
		expect(res.status).toBe(200);
		return res.body.devices as { deviceId: string; publicKey: string; createdAt: string; current: boolean }[];
	};

	test('publish, list with the current device marked, publish again replaces; no key is ever logged', async () => {
		const ada = await signup(node, 'dev_ada');
		const phone = await login(node, ada);
		const [laptopKey, phoneKey, newKey] = [await devicePublicKey(), await devicePublicKey(), await devicePublicKey()];
		expect(await devices(ada.token)).toEqual([]);
		expect(await publish(ada.token, 'laptop-0123456789', { publicKey: laptopKey })).toEqual({ status: 204, body: undefined });
		expect(await publish(phone, 'phone_ABCDEF-98765', { publicKey: phoneKey })).toEqual({ status: 204, body: undefined });
		const listed = await devices(ada.token);
		expect(listed).toEqual([
			{ deviceId: 'laptop-0123456789', publicKey: laptopKey, createdAt: expect.any(String), current: true },
			{ deviceId: 'phone_ABCDEF-98765', publicKey: phoneKey, createdAt: expect.any(String), current: false },
		]);
		expect(Math.abs(Date.parse(listed[0]!.createdAt) - Date.now())).toBeLessThan(60_000);
		expect((await devices(phone)).map((d) => d.current)).toEqual([false, true]);
		expect(await publish(ada.token, 'laptop-0123456789', { publicKey: newKey })).toMatchObject({ status: 204 });
		expect((await devices(ada.token)).find((d) => d.deviceId === 'laptop-0123456789')?.publicKey).toBe(newKey);
		// One device per session: the laptop's session publishing another id drops its first.
		expect(await publish(ada.token, 'laptop-renamed-0001', { publicKey: newKey })).toMatchObject({ status: 204 });
		expect((await devices(ada.token)).map((d) => d.deviceId).sort()).toEqual(['laptop-renamed-0001', 'phone_ABCDEF-98765']);
		// Another account sees none of them.
		expect(await devices((await signup(node, 'dev_other')).token)).toEqual([]);
		const logged = JSON.stringify(node.logLines());
		expect(logged).toContain('device key published');
		for (const key of [laptopKey, phoneKey, newKey]) {
			expect(logged).not.toContain(key);
		}
	});

	test('a bad device id, a bad key, a point off the curve or another field: 400 validation_failed, nothing stored', async () => {
		const bob = await signup(node, 'dev_bob');
		const good = await devicePublicKey();
		const bytes = Buffer.from(good, 'base64url');
		const offCurve = Buffer.from(bytes);
		offCurve[64]! ^= 1;
		const compressed = Buffer.concat([Buffer.from([0x02 | (bytes[64]! & 1)]), bytes.subarray(1, 33)]);
		const badIds = ['short-123456789', 'x'.repeat(65), 'has%20space-123456', 'dots.are.not.ok.123', encodeURIComponent('émile-0123456789')];
		for (const id of badIds) {
			const res = await publish(bob.token, id, { publicKey: good });
			expect([id, res.status, res.body.error.code]).toEqual([id, 400, 'validation_failed']);
		}
		const badBodies: unknown[] = [
			{}, { publicKey: 42 }, { publicKey: '' }, { publicKey: `${good}=` }, { publicKey: bytes.toString('base64') }, { publicKey: good.slice(1) },
			{ publicKey: Buffer.concat([Buffer.from([0x05]), bytes.subarray(1)]).toString('base64url') },
			{ publicKey: compressed.toString('base64url') }, { publicKey: Buffer.alloc(65).fill(4, 0, 1).toString('base64url') },
			{ publicKey: offCurve.toString('base64url') }, { publicKey: good, sessionId: 'mine' }, { publicKey: good, extra: 1 }, [good], 'x',
		];
		for (const body of badBodies) {
			const res = await publish(bob.token, 'bob-device-000001', body);
			expect([JSON.stringify(body), res.status, res.body.error.code]).toEqual([JSON.stringify(body), 400, 'validation_failed']);
		}
		expect((await publish(bob.token, 'bob-device-000001', { publicKey: offCurve.toString('base64url') })).body.error.message).toBe('publicKey: not a point on the P-256 curve');
		expect(await devices(bob.token)).toEqual([]);
		expect(await publish(bob.token, 'bob-device-000001', { publicKey: good })).toMatchObject({ status: 204 });
	});

	test('no token, a room token or a dev token cannot publish or list', async () => {
		const cat = await signup(node, 'dev_cat');
		const key = await devicePublicKey();
		const { sid } = await node.tokens.verify(cat.token);
		const room = await node.tokens.issue({ sub: cat.id, handle: cat.handle, name: cat.handle, rooms: ['some-room'], psid: sid });
		const dev = await node.tokens.issue({ sub: 'dev-x', rooms: ['*'] });
		for (const token of [undefined, 'garbage', room, dev]) {
			const put = await publish(token, 'cat-device-000001', { publicKey: key });
			const get = await api(node, token, 'GET', '/api/me/devices');
			expect([put.status, put.body.error.code, get.status, get.body.error.code]).toEqual([401, 'unauthorized', 401, 'unauthorized']);
		}
		expect(await devices(cat.token)).toEqual([]);
	});

	test('signing out removes the device; a password change removes the other sessions\'; deleting the account removes all', async () => {
		const dan = await signup(node, 'dev_dan');
		const [second, third] = [await login(node, dan), await login(node, dan)];
		await publish(dan.token, 'dan-first-0000001', { publicKey: await devicePublicKey() });
		await publish(second, 'dan-second-000001', { publicKey: await devicePublicKey() });
		await publish(third, 'dan-third-0000001', { publicKey: await devicePublicKey() });
		expect((await api(node, second, 'POST', '/api/auth/logout')).status).toBe(204);
		expect((await devices(dan.token)).map((d) => d.deviceId)).toEqual(['dan-first-0000001', 'dan-third-0000001']);
		expect((await publish(second, 'dan-second-000001', { publicKey: await devicePublicKey() })).status).toBe(401);

		expect((await api(node, third, 'POST', '/api/me/password', { currentPassword: 'pw-dev_dan-secret', newPassword: 'another password' })).status).toBe(204);
		expect((await devices(third)).map((d) => [d.deviceId, d.current])).toEqual([['dan-third-0000001', true]]);

		expect((await api(node, third, 'DELETE', '/api/me', { password: 'another password' })).status).toBe(204);
		expect(await node.store.deviceKeys(dan.id)).toEqual([]);
		expect(await node.store.deviceKey(dan.id, 'dan-third-0000001')).toBeUndefined();
	});
});

describe('rate limits per IP', () => {
	test('sign-ups, logins and searches over their limits get 429 rate_limited with Retry-After', async () => {
		const node = await startTestNode({ media: { workers: 1 }, accounts: { signupsPerHour: 2, loginsPerMinute: 2, searchesPerMinute: 2, deviceWritesPerMinute: 2 } });
		try {
			const first = await signup(node, 'rl_one');
			await signup(node, 'rl_two');
			const third = await api(node, undefined, 'POST', '/api/auth/signup', { handle: 'rl_three', password: 'long enough pw', displayName: 'X' });
			expect(third.status).toBe(429);
			expect(third.body.error.code).toBe('rate_limited');
			for (let i = 0; i < 2; i++) {
				await api(node, undefined, 'POST', '/api/auth/login', { handle: 'rl_one', password: 'pw-rl_one-secret' });
			}
			const res = await fetch(`${node.url}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ handle: 'rl_one', password: 'x' }) });
			expect(res.status).toBe(429);
			expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
			for (let i = 0; i < 2; i++) {
				expect((await api(node, first.token, 'GET', '/api/users?q=rl')).status).toBe(200);
			}
			expect((await api(node, first.token, 'GET', '/api/users?q=rl')).status).toBe(429);
			// Device key publications: per account, a counter of their own.
			const publicKey = await devicePublicKey();
			for (let i = 0; i < 2; i++) {
				expect((await api(node, first.token, 'PUT', '/api/me/devices/rl-device-0000001', { publicKey })).status).toBe(204);
			}
			const over = await api(node, first.token, 'PUT', '/api/me/devices/rl-device-0000001', { publicKey });
			expect([over.status, over.body.error.code]).toEqual([429, 'rate_limited']);
		} finally {
			await node.close();
		}
	});
});

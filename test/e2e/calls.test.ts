import { api, signup } from '../helpers/accounts';
import { startTestNode } from '../helpers/node';
import { pollUntil } from '../helpers/poll';
import { hook, newParticipant, receivesFrom, screenshotPath, type Participant } from './browser';
import { callFromDirectory as call, online, signInThroughPage as signIn } from './pages';
import { browserSuite } from './suite';

/** Small captures: two participants and the node share a 2-core machine. */
const CAPTURE = 'w=320&h=180';

describe('the calling pages in a real browser', () => {
	const suite = browserSuite({ media: { workers: 2 }, accounts: { signupsPerHour: 100 }, calls: { invitesPerMinute: 100 } });
	const { open, reported } = suite;

	/** A person's own browser context. */
	async function person(name: string): Promise<Participant> {
		const p = await newParticipant(suite.browser, name);
		open.push(p);
		return p;
	}

	/** Signs up through the /signup page; lands on `next`. */
	async function signUpThroughPage(p: Participant, handle: string, displayName: string, next: string): Promise<void> {
		await p.page.goto(`${suite.node.url}/signup?next=${encodeURIComponent(next)}`);
		await p.page.fill('input[name="handle"]', handle);
		await p.page.fill('input[name="displayName"]', displayName);
		await p.page.fill('input[name="password"]', `pw-${handle}-secret`);
		await p.page.click('#signin button[type="submit"]');
		await p.page.waitForURL(`${suite.node.url}${next}`);
	}

	const signInThroughPage = (p: Participant, handle: string, next: string, on = suite.node) => signIn(p, on.url, handle, next);
	const callFromDirectory = (caller: Participant, handle: string, button: '#call-video' | '#call-audio') => call(caller, suite.node.url, handle, button);

	test('the caller finds the callee in the directory and video-calls; the callee accepts; both decode each other; call waiting; hang-up ends it on both sides and both histories list it', reported(async () => {
		const ada = await person('Ada');
		const bob = await person('Bob');
		// Ada signs up through the pages; Bob has an account already and signs in.
		await signUpThroughPage(ada, 'ada', 'Ada Lovelace', `/directory?${CAPTURE}`);
		await signup(suite.node, 'bob', 'Bob Kahn');
		await signInThroughPage(bob, 'bob', '/settings');
		// Bob lets anyone ring him (the default is contacts and people he follows).
		await bob.page.waitForSelector('#settings button[type="submit"][disabled]', { state: 'attached' });
		await bob.page.check('#settings input[name="everyone"]');
		await bob.page.click('#settings button[type="submit"]');
		await bob.page.waitForSelector('#settings-saved', { state: 'visible' });
		await bob.page.goto(`${suite.node.url}/history?${CAPTURE}`);
		await online(bob);
		// An operator verified Ada: the incoming screen shows the mark.
		await suite.node.accounts.setFlags('ada', { verified: true });

		await callFromDirectory(ada, 'bob', '#call-video');
		await pollUntil('Ada\'s page says it rings', async () => (await ada.page.textContent('#outgoing-state')) === 'Ringing…');

		// Bob's page: who calls, with the ring tone's screen, then Accept.
		await bob.page.waitForSelector('#incoming', { state: 'visible', timeout: 10000 });
		expect(await bob.page.textContent('#incoming-name')).toBe('Ada Lovelace ✓');
		expect(await bob.page.getAttribute('#incoming-name .verified', 'title')).toBe('Verified account');
		expect(await bob.page.isVisible('#incoming-waiting')).toBe(false);
		await bob.page.screenshot({ path: screenshotPath('call-incoming.png') });
		expect(await bob.page.textContent('#incoming-handle')).toBe('@ada');
		expect(await bob.page.textContent('#incoming-kind')).toBe('Incoming video call');
		await bob.page.click('#accept');

		// Both in the in-call view, each decoding the other's video (and hearing the audio).
		for (const p of [ada, bob]) {
			await p.page.waitForSelector('#call-view', { state: 'visible', timeout: 10000 });
			await pollUntil(`${p.name} is in the call`, async () => (await hook(p).catch(() => undefined))?.state === 'connected', { timeoutMs: 30000, intervalMs: 250 });
		}
		expect(await ada.page.isHidden('#outgoing')).toBe(true);
		expect(await bob.page.isHidden('#incoming')).toBe(true);
		const [adaId, bobId] = await Promise.all([ada, bob].map(async (p) => (await hook(p)).peerId));
		await Promise.all([receivesFrom(ada, [bobId!]), receivesFrom(bob, [adaId!])]);
		// The bar: who, and for how long.
		expect(await ada.page.textContent('#call-view .room-name')).toMatch(/^Bob Kahn \d+:\d\d$/);
		expect(await bob.page.textContent('#leave .label')).toBe('Hang up');
		await ada.page.screenshot({ path: screenshotPath('call-in-call.png') });

		// Call waiting: Grace rings Bob during the call; his page says that answering ends this call. He declines and stays in it.
		const grace = await person('Grace');
		await signup(suite.node, 'grace', 'Grace Hopper');
		await signInThroughPage(grace, 'grace', '/directory');
		await callFromDirectory(grace, 'bob', '#call-audio');
		await bob.page.waitForSelector('#incoming', { state: 'visible', timeout: 10000 });
		expect(await bob.page.textContent('#incoming-name')).toBe('Grace Hopper');
		expect(await bob.page.isVisible('#incoming-waiting')).toBe(true);
		await bob.page.click('#decline');
		await pollUntil('Grace\'s page says Bob declined', async () => (await grace.page.textContent('#outgoing-state')) === 'Declined', { timeoutMs: 10000 });
		expect(await bob.page.isHidden('#incoming')).toBe(true);
		await receivesFrom(bob, [adaId!]);

		// Ada's room connection drops: it comes back with a fresh room token (call.token), so a call
		// outlives its first token; the media resumes.
		const connects: string[] = [];
		ada.page.on('websocket', (ws) => ws.on('framesent', ({ payload }) => {
			if (typeof payload === 'string' && payload.startsWith('40{')) {
				connects.push((JSON.parse(payload.slice(2)) as { token?: string }).token ?? '');
			}
		}));
		const droppedAt = Math.floor(Date.now() / 1000);
		await ada.page.evaluate(() => (globalThis as unknown as { switchyard: { dropConnection(): void } }).switchyard.dropConnection());
		const renewed = await pollUntil('Ada reconnects with a token', () => connects[0], { timeoutMs: 10000, intervalMs: 100 });
		const claims = JSON.parse(Buffer.from(renewed.split('.')[1] ?? '', 'base64url').toString()) as { iat?: number };
		expect(claims.iat).toBeGreaterThanOrEqual(droppedAt);
		await pollUntil('Ada is back in the call', async () => (await hook(ada).catch(() => undefined))?.state === 'connected', { timeoutMs: 30000, intervalMs: 250 });
		await Promise.all([receivesFrom(ada, [bobId!]), receivesFrom(bob, [adaId!])]);

		// Ada hangs up: the call ends on both pages, and the room empties.
		const roomId = (await ada.page.getAttribute('#call-view #app', 'data-room-id'))!;
		expect(suite.node.registry.get(roomId)?.peers.size).toBe(2);
		await ada.page.click('#leave');
		for (const p of [ada, bob]) {
			await p.page.waitForSelector('#call-view', { state: 'hidden', timeout: 10000 });
			await pollUntil(`${p.name}'s page says the call ended`, async () => (await p.page.textContent('#banner'))?.startsWith('Call ended'));
		}
		await pollUntil('nobody is left in the call\'s room', () => (suite.node.registry.get(roomId)?.peers.size ?? 0) === 0, { timeoutMs: 10000 });

		// Each history lists the call: the other party, direction, media, outcome and a duration.
		for (const [p, other, direction] of [[ada, 'Bob Kahn', 'Outgoing'], [bob, 'Ada Lovelace', 'Incoming']] as const) {
			await p.page.goto(`${suite.node.url}/history`);
			const row = p.page.locator('#history li.call', { has: p.page.locator('.who', { hasText: other }) });
			await row.waitFor({ timeout: 10000 });
			expect(await row.locator('.what').textContent()).toMatch(new RegExp(`^. ${direction} video call · Answered · \\d+:\\d\\d$`));
		}
		await bob.page.screenshot({ path: screenshotPath('call-history.png') });
		// Bob's also lists Grace's call, declined, newest first.
		expect(await bob.page.locator('#history li.call .who').allTextContents()).toEqual(['Grace Hopper', 'Ada Lovelace']);
		expect(await bob.page.locator('#history li.call.declined .what').textContent()).toBe('↙ Incoming audio call · Declined');
	}));

	test('a declined call shows on the caller\'s page; a callee who cannot ring shows the server\'s unavailable; follow, contacts and block toggle', reported(async () => {
		const carol = await person('Carol');
		const dan = await person('Dan');
		const carolAccount = await signup(suite.node, 'carol');
		const danAccount = await signup(suite.node, 'dan');
		await signup(suite.node, 'eve');
		expect((await api(suite.node, danAccount.token, 'PATCH', '/api/me/settings', { calls: { allowFrom: { everyone: true } } })).status).toBe(200);
		await signInThroughPage(dan, 'dan', `/directory?${CAPTURE}`);
		await online(dan);
		await signInThroughPage(carol, 'carol', `/directory?${CAPTURE}`);

		await callFromDirectory(carol, 'dan', '#call-audio');
		await dan.page.waitForSelector('#incoming', { state: 'visible', timeout: 10000 });
		expect(await dan.page.textContent('#incoming-kind')).toBe('Incoming audio call');
		await dan.page.click('#decline');
		await pollUntil('Carol\'s page says Dan declined', async () => (await carol.page.textContent('#outgoing-state')) === 'Declined', { timeoutMs: 10000 });
		expect(await dan.page.isHidden('#incoming')).toBe(true);
		await carol.page.click('#outgoing-close');
		await carol.page.waitForSelector('#outgoing', { state: 'hidden' });

		// Eve lets only her contacts and people she follows ring her (and has no page open): the invite is refused, and the page says so.
		await carol.page.goto(`${suite.node.url}/directory`);
		await callFromDirectory(carol, 'eve', '#call-video');
		await carol.page.waitForSelector('#outgoing-error', { state: 'visible', timeout: 10000 });
		expect(await carol.page.textContent('#outgoing-error')).toBe('This person cannot take your call right now.');
		expect(await carol.page.textContent('#outgoing-state')).toBe('Call failed');

		// The profile's relation buttons: each sets the relation on the node, and pressing again undoes it.
		await carol.page.click('#outgoing-close');
		const handles = async (path: string) => ((await api(suite.node, carolAccount.token, 'GET', `/api/me/${path}`)).body.users as { handle: string }[]).map((u) => u.handle);
		for (const [button, path, label] of [['#follow', 'follows', 'Following'], ['#contact', 'contacts', 'In contacts'], ['#block', 'blocks', 'Blocked']] as const) {
			await carol.page.click(button);
			await carol.page.waitForSelector(`${button}[aria-pressed="true"]:not([disabled])`);
			expect(await carol.page.textContent(button)).toBe(label);
			expect(await handles(path)).toEqual(['eve']);
			await carol.page.click(button);
			await carol.page.waitForSelector(`${button}[aria-pressed="false"]:not([disabled])`);
			expect(await handles(path)).toEqual([]);
		}

		// Carol's history: the declined call and the unavailable one.
		await carol.page.goto(`${suite.node.url}/history`);
		await carol.page.locator('#history li.call').nth(1).waitFor({ timeout: 10000 });
		const rows = await carol.page.locator('#history li.call .what').allTextContents();
		expect(rows).toEqual(['↗ Outgoing video call · Unavailable', '↗ Outgoing audio call · Declined']);
	}));

	test('?next= leads only to pages of this node: a crafted one goes to the directory, signing in or signed in already', reported(async () => {
		await signup(suite.node, 'gus');
		const gus = await person('Gus');
		// Navigations off this origin are answered here and recorded, never sent: the test stays on loopback.
		const origin = new URL(suite.node.url).origin;
		const offOrigin: string[] = [];
		await gus.context.route((url) => url.origin !== origin, (route) => {
			offOrigin.push(route.request().url());
			return route.fulfill({ status: 200, contentType: 'text/html', body: '<p>evil</p>' });
		});
		// `/\evil.example` and `/%09/evil.example` (a tab) passed the old check; the browser reads both as //evil.example.
		const crafted = ['/\\evil.example', '/\t/evil.example', '//evil.example', 'https://evil.example/', 'javascript:alert(1)'];
		let signedIn = false;
		for (const next of crafted) {
			await gus.page.goto(`${suite.node.url}/signin?next=${encodeURIComponent(next)}`);
			if (!signedIn) {
				await gus.page.fill('input[name="handle"]', 'gus');
				await gus.page.fill('input[name="password"]', 'pw-gus-secret');
				await gus.page.click('#signin button[type="submit"]');
				signedIn = true;
			}
			await gus.page.waitForURL(`${suite.node.url}/directory`, { timeout: 10000 });
		}
		expect(offOrigin).toEqual([]);
		// A page of this node is still where sign-in goes.
		await gus.page.goto(`${suite.node.url}/signin?next=${encodeURIComponent('/history')}`);
		await gus.page.waitForURL(`${suite.node.url}/history`, { timeout: 10000 });
	}));

	test('sign-in pages show the API\'s errors; the access token is refreshed before it expires; a session ended elsewhere goes back to sign-in', reported(async () => {
		// NOTE: a node of its own: a 61 s access token is refreshed a second after it is issued (a minute ahead), so the refresh path runs many times.
		const shortNode = await startTestNode({ media: { workers: 1 }, auth: { tokenTtlSeconds: 61 }, accounts: { loginsPerMinute: 10_000 } });
		try {
			const fay = await person('Fay');
			await signup(shortNode, 'fay');
			await fay.page.goto(`${shortNode.url}/signup`);
			for (const [password, error] of [['short', 'Password: expected at least 8 characters'], ['long-enough-pw', 'That handle is taken. Try another one.']] as const) {
				await fay.page.fill('input[name="handle"]', 'fay');
				await fay.page.fill('input[name="displayName"]', 'Fay');
				await fay.page.fill('input[name="password"]', password);
				await fay.page.click('#signin button[type="submit"]');
				await pollUntil(`the signup page says "${error}"`, async () => (await fay.page.textContent('#form-error')) === error, { timeoutMs: 5000 });
			}
			await fay.page.goto(`${shortNode.url}/signin?next=${encodeURIComponent('/directory')}`);
			await fay.page.fill('input[name="handle"]', 'fay');
			await fay.page.fill('input[name="password"]', 'not-her-password');
			await fay.page.click('#signin button[type="submit"]');
			await pollUntil('the signin page says the password is wrong', async () => (await fay.page.textContent('#form-error')) === 'Wrong handle or password');

			await signInThroughPage(fay, 'fay', '/directory', shortNode);
			type Stored = { token: string; refreshToken: string };
			const stored = async () => JSON.parse(await fay.page.evaluate(() =>
				(globalThis as unknown as { localStorage: { getItem(key: string): string | null } }).localStorage.getItem('switchyard.session')) ?? 'null') as Stored | null;
			const first = (await stored())!;
			const refreshed = await pollUntil('the page refreshes its tokens', async () => {
				const now = await stored();
				return now !== null && now.token !== first.token && now.refreshToken !== first.refreshToken ? now : undefined;
			}, { timeoutMs: 10000, intervalMs: 200 });
			// Rotated: the first refresh token, used again within the grace, only gets the page's refresh token again; the page still works.
			const again = await api(shortNode, undefined, 'POST', '/api/auth/refresh', { refreshToken: first.refreshToken });
			expect([again.status, again.body.refreshToken]).toEqual([200, refreshed.refreshToken]);
			await fay.page.fill('#search input[name="q"]', 'fa');
			await fay.page.click('#search button[type="submit"]');
			await fay.page.waitForSelector('#result-list li[data-handle="fay"]', { timeout: 5000 });

			// Signed out elsewhere: the next refresh is refused and the page goes to sign-in, coming back here after.
			expect((await api(shortNode, (await stored())?.token ?? refreshed.token, 'POST', '/api/auth/logout')).status).toBe(204);
			await fay.page.waitForURL(`${shortNode.url}/signin?next=${encodeURIComponent('/directory?q=fa')}`, { timeout: 10000 });
			expect(await stored()).toBeNull();
		} finally {
			for (const p of open.splice(0)) {
				await p.context.close();
			}
			await shortNode.close();
		}
	}));
});

import { callable } from '../helpers/accounts';
import { pollUntil } from '../helpers/poll';
import { e2ee, hook, newParticipant, receivesFrom, screenshotPath, type Participant } from './browser';
import { signInThroughPage } from './pages';
import { browserSuite } from './suite';

/** Small captures: two participants and the node share a 2-core machine. */
const CAPTURE = 'w=160&h=120';

// Call links with a lobby (docs/http-api.md, call links): the owner makes the
// link on /links (its end-to-end secret made there, only in the fragment),
// joins through it, and admits or denies each guest who knocks; the call is
// end-to-end encrypted with the fragment's secret. A revoked link and one that
// never was show the same page.
describe('call links in a real browser', () => {
	const suite = browserSuite({
		media: { workers: 1 }, log: { level: 'debug' },
		accounts: { signupsPerHour: 100 }, links: { knockCoolDownSeconds: 600 },
	});
	const { open, reported } = suite;

	async function participant(name: string): Promise<Participant> {
		const p = await newParticipant(suite.browser, name);
		open.push(p);
		return p;
	}

	/** `address` with the capture size in its query, before the fragment. */
	const small = (address: string) => address.replace('#', `?${CAPTURE}#`);

	async function connected(p: Participant): Promise<string> {
		await p.page.waitForSelector('#call-view', { state: 'visible', timeout: 10000 });
		await pollUntil(`${p.name} is in the call`, async () => (await hook(p).catch(() => undefined))?.state === 'connected', { timeoutMs: 30000, intervalMs: 250 });
		return (await hook(p)).peerId;
	}

	/** A guest opens the link, types a name and asks to join; the lobby says it waits. */
	async function knock(p: Participant, address: string): Promise<void> {
		await p.page.goto(small(address));
		await p.page.waitForSelector('#link-join', { state: 'visible' });
		expect(await p.page.textContent('#link-go')).toBe('Ask to join');
		await p.page.fill('#link-join input[name="name"]', p.name);
		await p.page.click('#link-go');
		await p.page.waitForSelector('#link-waiting', { state: 'visible', timeout: 10000 });
	}

	/** What a link's page shows once it has asked the API: the lobby card's text. */
	async function pageOf(p: Participant, address: string): Promise<string> {
		await p.page.goto(address);
		await p.page.waitForSelector('#link-loading', { state: 'hidden', timeout: 10000 });
		return p.page.innerText('#link-card');
	}

	test('a link with approval: a guest knocks, the owner admits, both decode each other; a denied guest stays out; a revoked link and a random link id get the same page', reported(async () => {
		const ada = await participant('Ada');
		await callable(suite.node, 'link_ada', 'Ada');
		await signInThroughPage(ada, suite.node.url, 'link_ada', '/links');
		await ada.page.fill('#new-link input[name="title"]', 'Friday demo');
		await ada.page.click('#new-link button[type="submit"]');
		const address = await ada.page.locator('.link .link-address').inputValue({ timeout: 10000 });
		expect(address).toMatch(new RegExp(`^${suite.node.url}/l/[A-Za-z0-9_-]{22}#e2ee=[A-Za-z0-9_-]{22}$`));
		const [path, secret] = address.slice(suite.node.url.length).split('#e2ee=');
		// The server's list of links never holds the secret.
		expect(JSON.stringify(await suite.node.store.links((await suite.node.store.userByHandle('link_ada'))!.id))).not.toContain(secret);
		await ada.page.screenshot({ path: screenshotPath('links-page.png') });

		// The owner joins at once through her own link.
		await ada.page.goto(small(address));
		await ada.page.waitForSelector('#link-join', { state: 'visible' });
		expect(await ada.page.textContent('#link-title')).toBe('Friday demo');
		expect(await ada.page.textContent('#link-go')).toBe('Join');
		await ada.page.click('#link-go');
		const adaId = await connected(ada);
		// Another page of Ada's, signed in: her phone there hears knocks too.
		const adaPhone = await ada.context.newPage();
		await adaPhone.goto(`${suite.node.url}/directory`);
		await adaPhone.waitForSelector('body[data-phone="online"]', { state: 'attached', timeout: 15000 });

		// A guest knocks; the owner's page lists the knock; she admits it; both decode each other.
		const grace = await participant('Grace');
		await knock(grace, address);
		await grace.page.screenshot({ path: screenshotPath('link-lobby-waiting.png') });
		const knockItem = ada.page.locator('#knock-list .knock', { hasText: 'Grace (guest)' });
		await knockItem.waitFor({ timeout: 10000 });
		await ada.page.screenshot({ path: screenshotPath('link-knock.png') });
		const notice = adaPhone.locator('#knock-notices .knock', { hasText: 'Grace (guest) asks to join Friday demo' });
		await notice.waitFor({ timeout: 10000 });
		await knockItem.locator('[data-answer="admit"]').click();
		// Answered on one device: the other drops it.
		await notice.waitFor({ state: 'detached', timeout: 10000 });
		const graceId = await connected(grace);
		await Promise.all([receivesFrom(ada, [graceId]), receivesFrom(grace, [adaId])]);
		for (const p of [ada, grace]) {
			const report = await e2ee(p);
			expect(report.enabled).toBe(true);
			expect(report.undecryptable).toEqual([]);
		}
		// Guests are marked as guests, accounts by their handle.
		expect(await ada.page.textContent(`.tile[data-peer-id="${graceId}"] .name`)).toBe('Grace (guest)');
		expect(await grace.page.textContent(`.tile[data-peer-id="${adaId}"] .name`)).toBe('Ada @link_ada');
		await ada.page.waitForSelector('#knocks', { state: 'hidden' });

		// Another guest knocks and is denied: told so, kept out, and may not knock again for now.
		const mallory = await participant('Mallory');
		await knock(mallory, address);
		await ada.page.locator('#knock-list .knock', { hasText: 'Mallory (guest)' }).locator('[data-answer="deny"]').click({ timeout: 10000 });
		await mallory.page.waitForSelector('#link-denied', { state: 'visible', timeout: 10000 });
		expect(await mallory.page.textContent('#link-denied-title')).toBe('You were not let in');
		await mallory.page.click('#link-again');
		await mallory.page.click('#link-go');
		await pollUntil('Mallory\'s page says to wait', async () => (await mallory.page.textContent('#link-error'))?.includes('Wait a while'), { timeoutMs: 10000 });
		expect(await mallory.page.evaluate(() => 'switchyard' in globalThis)).toBe(false);
		expect((await hook(ada)).events.filter((e) => e.name === 'peer.joined')).toHaveLength(1);

		// The owner revokes the link: it then shows exactly what a random link id shows.
		const links = await ada.context.newPage();
		await links.goto(`${suite.node.url}/links`);
		await links.locator('.link .revoke').click({ timeout: 10000 });
		await links.waitForSelector('#links-empty', { state: 'visible', timeout: 10000 });
		const stranger = await participant('Stranger');
		const revoked = await pageOf(stranger, `${suite.node.url}${path}#e2ee=${secret}`);
		const random = await pageOf(stranger, `${suite.node.url}/l/${Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64url')}#e2ee=${secret}`);
		expect(revoked).toContain('This call link does not work');
		expect(random).toBe(revoked);
		await stranger.page.screenshot({ path: screenshotPath('link-gone.png') });
	}), 120_000);
});

import type { Browser } from 'playwright-core';
import { api, signup } from '../helpers/accounts';
import { startTestNode, type TestNode } from '../helpers/node';
import { pollUntil } from '../helpers/poll';
import { startPostgres, type PostgresServer } from '../helpers/postgres';
import { hook, launchBrowser, newParticipant, receivesFrom, reportOnFailure, type Participant } from './browser';
import { callFromDirectory, online, signInThroughPage } from './pages';

/**
 * The web client while the node's PostgreSQL is down (docs/store.md): a call
 * goes on, a party whose room connection drops gets back into it, and a page
 * opened during the outage comes online by itself once PostgreSQL is back.
 */

const CAPTURE = 'w=320&h=180';
let server: PostgresServer;
let node: TestNode;
let browser: Browser;
const open: Participant[] = [];

beforeAll(async () => {
	server = await startPostgres();
	node = await startTestNode({ media: { workers: 1 }, store: { url: await server.createDatabase(), connectTimeoutMs: 1000, queryTimeoutMs: 3000 } });
	browser = await launchBrowser();
});

afterAll(async () => {
	for (const p of open) {
		await p.context.close();
	}
	await browser?.close();
	await node?.close();
	await server?.destroy();
});

async function person(name: string, handle: string, next: string): Promise<Participant> {
	const p = await newParticipant(browser, name);
	open.push(p);
	await signInThroughPage(p, node.url, handle, next);
	await online(p);
	return p;
}

test('PostgreSQL down: the call goes on, a dropped room connection comes back, a page opened meanwhile comes online once it is back', reportOnFailure(open, async () => {
	await signup(node, 'out_ada', 'Ada');
	const bob = await signup(node, 'out_bob', 'Bob');
	await signup(node, 'out_cat', 'Cat');
	await api(node, bob.token, 'PATCH', '/api/me/settings', { calls: { allowFrom: { everyone: true } } });
	const adaPage = await person('Ada', 'out_ada', `/directory?${CAPTURE}`);
	const bobPage = await person('Bob', 'out_bob', `/history?${CAPTURE}`);
	const catPage = await person('Cat', 'out_cat', '/history');

	await callFromDirectory(adaPage, node.url, 'out_bob', '#call-video');
	await bobPage.page.waitForSelector('#incoming', { state: 'visible', timeout: 10000 });
	await bobPage.page.click('#accept');
	for (const p of [adaPage, bobPage]) {
		await pollUntil(`${p.name} is in the call`, async () => (await hook(p).catch(() => undefined))?.state === 'connected', { timeoutMs: 30000, intervalMs: 250 });
	}
	const [adaId, bobId] = (await Promise.all([adaPage, bobPage].map(async (p) => (await hook(p)).peerId!))) as [string, string];
	await Promise.all([receivesFrom(adaPage, [bobId]), receivesFrom(bobPage, [adaId])]);

	await server.stop();

	// The call goes on.
	await Promise.all([receivesFrom(adaPage, [bobId]), receivesFrom(bobPage, [adaId])]);
	// Ada's room connection drops: she gets a fresh room token over her account connection and rejoins.
	await adaPage.page.evaluate(() => (globalThis as unknown as { switchyard: { dropConnection(): void } }).switchyard.dropConnection());
	await pollUntil('Ada leaves the connected state', async () => (await hook(adaPage)).state !== 'connected', { timeoutMs: 10000, intervalMs: 50 });
	await pollUntil('Ada is back in the call', async () => (await hook(adaPage).catch(() => undefined))?.state === 'connected', { timeoutMs: 30000, intervalMs: 250 });
	await Promise.all([receivesFrom(adaPage, [bobId]), receivesFrom(bobPage, [adaId])]);
	// Cat opens her history page now: the node cannot check her token, her phone stays offline.
	await catPage.page.reload();
	await catPage.page.waitForSelector('body[data-phone="offline"]', { state: 'attached', timeout: 15000 });

	await server.start();

	// Cat's page comes online by itself (it tries the handshake again), with no reload.
	await online(catPage, 20000);
	await Promise.all([receivesFrom(adaPage, [bobId]), receivesFrom(bobPage, [adaId])]);
}));

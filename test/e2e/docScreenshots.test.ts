import path from 'node:path';
import type { Page } from 'playwright-core';
import type { SwitchyardHook } from '../../src/web/client/hookTypes';
import { pollUntil } from '../helpers/poll';
import { hook, newParticipant, openRoom, receivesFrom, type Participant } from './browser';
import { browserSuite } from './suite';

/**
 * The screenshots of docs/web-client.md (docs/images/), at a desktop and a
 * phone size: `npm run docs:screenshots`. Skipped unless DOC_SCREENSHOTS=1,
 * so CI never rewrites the docs.
 */
const IMAGES = path.resolve(__dirname, '..', '..', 'docs', 'images');
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const describeIf = process.env.DOC_SCREENSHOTS === '1' ? describe : describe.skip;

describeIf('the screenshots in docs/web-client.md', () => {
	const suite = browserSuite({ media: { workers: 1 } });
	const { open, reported } = suite;

	const shoot = (page: Page, name: string) => page.screenshot({ path: path.join(IMAGES, `${name}.png`) });
	async function join(room: string, name: string, viewport = DESKTOP): Promise<Participant> {
		const p = await openRoom(suite.browser, suite.node.url, room, name, { size: { w: 320, h: 180 }, viewport });
		open.push(p);
		return p;
	}
	/** Everyone receives everyone, and every remote tile carries its quality mark. */
	async function settled(all: Participant[]): Promise<void> {
		const ids = await Promise.all(all.map(async (p) => (await hook(p)).peerId));
		for (const [i, p] of all.entries()) {
			await receivesFrom(p, ids.filter((_, j) => j !== i));
			await pollUntil(`${p.name} sees each quality`, async () => (await p.page.locator('.tile[data-quality]').count()) >= all.length - 1, { timeoutMs: 10_000 });
		}
	}

	test('the pre-join screen', reported(async () => {
		for (const [viewport, name] of [[DESKTOP, 'prejoin-desktop'], [PHONE, 'prejoin-phone']] as const) {
			const p = await newParticipant(suite.browser, 'Ada', { viewport });
			open.push(p);
			await p.context.grantPermissions(['camera', 'microphone'], { origin: suite.node.url });
			await p.page.goto(`${suite.node.url}/room/design-review?w=320&h=180`);
			await pollUntil('the screen is ready', async () => (await p.page.getAttribute('#prejoin', 'data-state')) === 'ready', { timeoutMs: 10_000 });
			await p.page.fill('#prejoin-name', 'Ada');
			await p.page.waitForFunction(() => (globalThis as unknown as { document: { getElementById(id: string): { currentTime: number } } }).document.getElementById('prejoin-video').currentTime > 0.5);
			await shoot(p.page, name);
		}
	}), 60_000);

	test('a call at desktop size: the grid, a raised hand, the More panel in speaker view', reported(async () => {
		const [ada, bob, cy] = [await join('design-review', 'Ada'), await join('design-review', 'Bob'), await join('design-review', 'Cy')];
		await settled([ada, bob, cy]);
		await bob.page.click('#mute');
		await cy.page.click('#hand');
		await pollUntil('Ada sees Bob muted', async () => (await ada.page.locator('.tile.muted').count()) === 1, { timeoutMs: 10_000 });
		await pollUntil('Ada sees the hand', async () => (await ada.page.locator('.tile.hand-raised').count()) === 1, { timeoutMs: 10_000 });
		await shoot(ada.page, 'call-desktop');
		await ada.page.click('#more');
		await ada.page.click('#view-toggle');
		await ada.page.waitForTimeout(500);
		await shoot(ada.page, 'call-desktop-more');
	}), 90_000);

	test('a call at phone size, and its chat', reported(async () => {
		const bob = await join('standup', 'Bob');
		const ada = await join('standup', 'Ada', PHONE);
		await settled([ada, bob]);
		await shoot(ada.page, 'call-phone');
		await bob.page.click('#chat-toggle');
		await bob.page.fill('#chat-input', 'Morning! Can you see my screen?');
		await bob.page.press('#chat-input', 'Enter');
		await ada.page.click('#chat-toggle');
		await pollUntil('Ada has the message', async () => (await ada.page.locator('#chat-log li').count()) > 0);
		await ada.page.fill('#chat-input', 'Yes, all good');
		await ada.page.press('#chat-input', 'Enter');
		await pollUntil('Ada sent hers', async () => (await ada.page.locator('#chat-log li').count()) > 1);
		await shoot(ada.page, 'call-phone-chat');
		expect((await ada.page.evaluate(() => (globalThis as unknown as { switchyard: SwitchyardHook }).switchyard.state))).toBe('connected');
	}), 90_000);
});

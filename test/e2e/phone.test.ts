import type { Page } from 'playwright-core';
import { pollUntil } from '../helpers/poll';
import { openRoom, receivesFrom, hook, type Participant } from './browser';
import { browserSuite } from './suite';

// The call screen on a phone (390x844): every control on screen, thumb-sized, not covered by anything,
// and usable; each panel it opens fits the screen; nothing makes the page scroll sideways.
const PHONE = { width: 390, height: 844 };

/** What the page functions below use of the DOM (the tests compile without its types). */
type Box = { left: number; top: number; right: number; bottom: number; width: number; height: number };
type El = { id: string; tagName: string; className: string; textContent: string | null; closest(s: string): unknown; contains(other: unknown): boolean; getBoundingClientRect(): Box };
type Dom = {
	innerWidth: number; innerHeight: number;
	document: { querySelectorAll(s: string): Iterable<El>; elementFromPoint(x: number, y: number): El | null; documentElement: { scrollWidth: number; scrollHeight: number } };
};

/** Why `selector`'s visible elements are not usable on this screen: off screen, too small, covered. */
async function unusable(page: Page, selector: string): Promise<string[]> {
	return page.evaluate(({ selector, minSize }) => {
		const { innerWidth: w, innerHeight: h, document } = globalThis as unknown as Dom;
		const problems: string[] = [];
		for (const element of document.querySelectorAll(selector)) {
			const box = element.getBoundingClientRect();
			if (element.closest('[hidden]') || box.width === 0 || box.height === 0) {
				continue;
			}
			const name = `${selector} #${element.id || element.textContent?.trim().slice(0, 20)}`;
			if (box.left < 0 || box.top < 0 || box.right > w + 0.5 || box.bottom > h + 0.5) {
				problems.push(`${name} is off screen (${Math.round(box.left)},${Math.round(box.top)})-(${Math.round(box.right)},${Math.round(box.bottom)})`);
				continue;
			}
			if (minSize > 0 && Math.min(box.width, box.height) < minSize) {
				problems.push(`${name} is ${Math.round(box.width)}x${Math.round(box.height)}, under ${minSize} px`);
			}
			const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
			if (!hit || !(hit === element || element.contains(hit))) {
				problems.push(`${name} is covered by ${hit?.tagName.toLowerCase()}#${hit?.id ?? ''}.${hit?.className ?? ''}`);
			}
		}
		return problems;
	}, { selector, minSize: selector.includes('button') ? 44 : 0 });
}

/** The page scrolls neither way (its content fits the screen). */
function overflow(page: Page): Promise<{ width: number; height: number }> {
	return page.evaluate(() => {
		const { documentElement } = (globalThis as unknown as Dom).document;
		return { width: documentElement.scrollWidth, height: documentElement.scrollHeight };
	});
}

describe('the call screen at phone size', () => {
	const suite = browserSuite({ media: { workers: 1 } });
	const { open, reported } = suite;

	async function join(name: string): Promise<Participant> {
		const p = await openRoom(suite.browser, suite.node.url, 'phone', name, { size: { w: 160, h: 120 }, viewport: PHONE });
		open.push(p);
		return p;
	}

	test('390x844: every control visible, thumb-sized and usable; the panels fit; nothing overflows', reported(async () => {
		const ada = await join('Ada');
		const bob = await join('Bob');
		await receivesFrom(ada, [(await hook(bob)).peerId]);
		const { page } = ada;
		expect(await unusable(page, 'nav.controls button')).toEqual([]);
		expect(await overflow(page)).toEqual(PHONE);
		const buttons = await page.locator('nav.controls button:visible').count();
		expect(buttons).toBeGreaterThanOrEqual(6);

		// Mute and camera work from where they are.
		await page.click('#mute');
		await pollUntil('Ada is muted', async () => (await page.getAttribute('#mute', 'aria-pressed')) === 'true');
		await page.click('#mute');
		await pollUntil('Ada is unmuted', async () => (await page.getAttribute('#mute', 'aria-pressed')) === 'false');

		// Each panel the bar opens fits the screen, with its controls usable, and closes again.
		for (const [toggle, panel] of PANELS) {
			if (!(await page.isVisible(toggle))) {
				continue;
			}
			await page.click(toggle);
			await page.waitForSelector(panel, { state: 'visible', timeout: 5000 });
			expect(await unusable(page, `${panel} button, ${panel} select, ${panel} input`)).toEqual([]);
			expect(await unusable(page, panel)).toEqual([]);
			expect(await overflow(page)).toEqual(PHONE);
			await page.click(toggle);
			await page.waitForSelector(panel, { state: 'hidden', timeout: 5000 });
		}
		// One panel at a time: More closes the chat, and the chat closes More.
		await page.click('#chat-toggle');
		await page.click('#more');
		await page.waitForSelector('#chat', { state: 'hidden', timeout: 5000 });
		expect(await page.isVisible('#more-panel')).toBe(true);
		await page.click('#chat-toggle');
		await page.waitForSelector('#more-panel', { state: 'hidden', timeout: 5000 });
		expect(await page.getAttribute('#more', 'aria-pressed')).toBe('false');
		await page.click('#chat-toggle');
		expect(await unusable(page, 'nav.controls button')).toEqual([]);
	}), 90_000);
});

/** The bar's buttons that open a panel, and the panel. */
const PANELS: [toggle: string, panel: string][] = [
	['#chat-toggle', '#chat'],
	['#more', '#more-panel'],
];

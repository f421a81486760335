import fs from 'node:fs';
import type { SwitchyardHook } from '../../src/web/client/hookTypes';
import { signup } from '../helpers/accounts';
import { pollUntil } from '../helpers/poll';
import { hook, newParticipant, openRoom, type Participant } from './browser';
import { online, signInThroughPage } from './pages';
import { browserSuite } from './suite';

/** axe-core's browser build, evaluated in the page through the devtools protocol (the pages' CSP refuses script tags). */
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

type Violation = { id: string; impact: string | null; help: string; nodes: string[] };

/** axe's WCAG 2.1 A and AA rules on the page as it is now: the serious and critical violations. */
async function axeProblems(p: Participant): Promise<Violation[]> {
	await p.page.evaluate(AXE);
	const all = await p.page.evaluate<Violation[]>(`axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
		.then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ') + ': ' + (n.failureSummary || '')) })))`);
	return all.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Ids used twice on the page (axe no longer checks them by default). */
const duplicateIds = (p: Participant) => p.page.evaluate<string[]>(`(() => {
	const ids = [...document.querySelectorAll('[id]')].map((e) => e.id);
	return ids.filter((id, i) => ids.indexOf(id) !== i);
})()`);

/** Starts recording what the page's announcer (#announcer) says. */
const listen = (p: Participant) => p.page.evaluate(`(() => {
	const region = document.getElementById('announcer');
	globalThis.__said = [...region.children].map((c) => c.textContent);
	new MutationObserver((records) => records.forEach((r) => r.addedNodes.forEach((n) => globalThis.__said.push(n.textContent)))).observe(region, { childList: true });
})()`);
const said = (p: Participant) => p.page.evaluate<string[]>('globalThis.__said || []');
const focused = (p: Participant) => p.page.evaluate<string>('document.activeElement ? document.activeElement.id : ""');

/** Presses Tab until the element with `id` has the focus (at most 40 times): it is reachable by keyboard. */
async function tabTo(p: Participant, id: string): Promise<void> {
	for (let i = 0; i < 40; i++) {
		await p.page.keyboard.press('Tab');
		if ((await focused(p)) === id) {
			// The ring shows: :focus-visible matches, with an outline.
			expect(await p.page.evaluate<string>(`(() => { const e = document.activeElement; return e.matches(':focus-visible') ? getComputedStyle(e).outlineStyle : 'no focus-visible'; })()`)).toBe('solid');
			return;
		}
	}
	throw new Error(`#${id} is not reachable with Tab (focus ends on #${await focused(p)})`);
}

describe('accessibility of the web client', () => {
	const suite = browserSuite({ media: { workers: 1 } });
	const { open, reported } = suite;

	test('a whole call with the keyboard alone: join, mute, unmute, shortcuts, panels, leave', reported(async () => {
		const bob = await openRoom(suite.browser, suite.node.url, 'a11y-keys', 'Bob', { size: { w: 160, h: 120 } });
		open.push(bob);
		await listen(bob);
		const ada = await newParticipant(suite.browser, 'Ada');
		open.push(ada);
		await ada.page.goto(`${suite.node.url}/room/a11y-keys?w=160&h=120`);
		await ada.page.waitForSelector('#prejoin[data-state="ready"]');
		await tabTo(ada, 'prejoin-name');
		await ada.page.keyboard.type('Ada');
		await tabTo(ada, 'prejoin-join');
		await ada.page.keyboard.press('Enter');
		await ada.page.waitForFunction(() => (globalThis as unknown as { switchyard?: SwitchyardHook }).switchyard?.state === 'connected', undefined, { timeout: 30_000 });
		await listen(ada);
		const adaId = (await hook(ada)).peerId;
		const micPaused = () => bob.page.evaluate((id) => (globalThis as unknown as { switchyard: SwitchyardHook }).switchyard.consumers().find((c) => c.peerId === id && c.source === 'mic')?.paused, adaId);
		const pressed = (id: string) => ada.page.getAttribute(`#${id}`, 'aria-pressed');
		await pollUntil('Bob has Ada\'s microphone, playing', async () => (await micPaused()) === false, { timeoutMs: 10_000 });
		await pollUntil('Bob hears "Ada joined"', async () => (await said(bob)).includes('Ada joined'));

		// Mute with Space on the focused button; the other side sees it.
		await tabTo(ada, 'mute');
		await ada.page.keyboard.press('Space');
		expect(await pressed('mute')).toBe('true');
		await pollUntil('Bob sees Ada muted', async () => (await micPaused()) === true, { timeoutMs: 10_000 });
		// Unmute with Enter.
		await ada.page.keyboard.press('Enter');
		expect(await pressed('mute')).toBe('false');
		await pollUntil('Bob sees Ada unmuted', async () => (await micPaused()) === false, { timeoutMs: 10_000 });
		// M and V, said to a screen reader.
		await ada.page.keyboard.press('m');
		expect(await pressed('mute')).toBe('true');
		await pollUntil('Bob sees Ada muted by M', async () => (await micPaused()) === true, { timeoutMs: 10_000 });
		await ada.page.keyboard.press('M');
		expect(await pressed('mute')).toBe('false');
		await ada.page.keyboard.press('v');
		expect(await pressed('camera')).toBe('true');
		await ada.page.keyboard.press('v');
		expect(await pressed('camera')).toBe('false');
		expect(await said(ada)).toEqual(expect.arrayContaining(['You joined the call with Bob.', 'Microphone muted', 'Microphone on', 'Camera off', 'Camera on']));

		// ?: the More panel with the shortcuts, the focus on their title; Escape closes it and the focus is back on More.
		await ada.page.keyboard.press('?');
		expect(await ada.page.isVisible('#more-panel')).toBe(true);
		expect(await focused(ada)).toBe('shortcuts-title');
		expect(await ada.page.textContent('.shortcuts')).toContain('Mute or unmute the microphone');
		await ada.page.keyboard.press('Escape');
		expect(await ada.page.isHidden('#more-panel')).toBe(true);
		expect(await focused(ada)).toBe('more');

		// The chat: typing an "m" in it mutes nothing; Escape closes it, the focus back on its button.
		await tabTo(ada, 'chat-toggle');
		await ada.page.keyboard.press('Enter');
		expect(await focused(ada)).toBe('chat-input');
		await ada.page.keyboard.type('mv?');
		expect(await ada.page.inputValue('#chat-input')).toBe('mv?');
		expect([await pressed('mute'), await pressed('camera'), await ada.page.isHidden('#more-panel')]).toEqual(['false', 'false', true]);
		await ada.page.keyboard.press('Escape');
		expect(await ada.page.isHidden('#chat')).toBe(true);
		expect(await focused(ada)).toBe('chat-toggle');

		// Leave with Enter.
		await tabTo(ada, 'leave');
		await ada.page.keyboard.press('Enter');
		await pollUntil('Ada left', async () => (await hook(ada)).state === 'left');
		await pollUntil('Bob hears "Ada left"', async () => (await said(bob)).includes('Ada left'));
		expect(await said(ada)).toContain('You left the call.');
	}), 120_000);

	test('axe finds no serious or critical problem on the lobby, pre-join, in-call, sign-in and directory pages', reported(async () => {
		const problems: Record<string, Violation[]> = {};
		const check = async (p: Participant, name: string) => {
			problems[name] = await axeProblems(p);
			if ((await duplicateIds(p)).length > 0) {
				problems[name].push({ id: 'duplicate-id', impact: 'serious', help: 'ids used twice', nodes: await duplicateIds(p) });
			}
		};
		const guest = await newParticipant(suite.browser, 'Guest');
		open.push(guest);
		await guest.page.goto(suite.node.url);
		await check(guest, 'lobby');
		await guest.page.goto(`${suite.node.url}/room/a11y-axe?w=160&h=120`);
		await guest.page.waitForSelector('#prejoin[data-state="ready"]');
		await check(guest, 'pre-join');
		await guest.page.goto(`${suite.node.url}/signin`);
		await check(guest, 'sign-in');

		const ada = await openRoom(suite.browser, suite.node.url, 'a11y-axe', 'Ada', { size: { w: 160, h: 120 } });
		open.push(ada);
		const bob = await openRoom(suite.browser, suite.node.url, 'a11y-axe', 'Bob', { size: { w: 160, h: 120 } });
		open.push(bob);
		await ada.page.waitForSelector('#grid .tile:not(.local)');
		await check(ada, 'in call');
		await ada.page.click('#more');
		await check(ada, 'in call, More open');
		await ada.page.click('#chat-toggle');
		await ada.page.fill('#chat-input', 'hello');
		await ada.page.click('#chat-form button[type="submit"]');
		await ada.page.waitForSelector('#chat-log li');
		await check(ada, 'in call, chat open');

		await signup(suite.node, 'ada_a11y', 'Ada');
		await signup(suite.node, 'adam_a11y', 'Adam');
		const signedIn = await newParticipant(suite.browser, 'Signed in');
		open.push(signedIn);
		await signInThroughPage(signedIn, suite.node.url, 'ada_a11y', '/directory?q=ad');
		await online(signedIn);
		await signedIn.page.waitForSelector('#result-list li');
		await check(signedIn, 'directory');

		expect(problems).toEqual({ lobby: [], 'pre-join': [], 'sign-in': [], 'in call': [], 'in call, More open': [], 'in call, chat open': [], directory: [] });
	}), 120_000);
});

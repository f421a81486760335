import type { SwitchyardHook } from '../../src/web/client/hookTypes';
import { pollUntil } from '../helpers/poll';
import { hook, newParticipant, openRoom, receivesFrom, type Participant } from './browser';
import { browserSuite } from './suite';

// The pre-join screen of /room/<id> without ?name= (docs/web-client.md, "Pre-join screen"): nothing
// reaches the node before Join; joining muted; the choices come back next time; a refusal is explained.
describe('pre-join screen', () => {
	const suite = browserSuite({ media: { workers: 1 } });
	const { open, reported } = suite;

	/** A page on the pre-join screen of `room`, its requests recorded from the first one. */
	async function atPreJoin(room: string, name: string, init?: string): Promise<Participant & { requests: string[] }> {
		const p = await newParticipant(suite.browser, name);
		open.push(p);
		await p.context.grantPermissions(['camera', 'microphone'], { origin: suite.node.url });
		if (init) {
			await p.context.addInitScript(init);
		}
		const requests: string[] = [];
		p.page.on('request', (request) => requests.push(new URL(request.url()).pathname));
		// NOTE: a WebSocket is no 'request' to playwright: recorded too.
		p.page.on('websocket', (socket) => requests.push(new URL(socket.url()).pathname));
		await p.page.goto(`${suite.node.url}/room/${room}?w=160&h=120`);
		return { ...p, requests };
	}
	const connected = (p: Participant) => p.page.waitForFunction(() => (globalThis as unknown as { switchyard?: SwitchyardHook }).switchyard?.state === 'connected', undefined, { timeout: 30_000 });
	const state = (p: Participant) => p.page.getAttribute('#prejoin', 'data-state');
	const micOptions = (p: Participant) => p.page.evaluate<string[]>('[...document.querySelectorAll("#prejoin-mic-select option")].map((o) => o.value)');
	const pressed = (p: Participant, id: string) => p.page.getAttribute(`#${id}`, 'aria-pressed');

	test('no request reaches the node before Join; the preview plays and the meter moves', reported(async () => {
		const ada = await atPreJoin('prejoin-quiet', 'Ada');
		await pollUntil('the screen is ready', async () => (await state(ada)) === 'ready', { timeoutMs: 10_000 });
		await pollUntil('the preview plays', () => ada.page.evaluate<boolean>(`(() => {
			const video = document.getElementById('prejoin-video');
			return video.readyState >= 2 && video.currentTime > 0.3 && video.videoWidth > 0;
		})()`), { timeoutMs: 10_000 });
		await pollUntil('the meter moves', async () => (await ada.page.evaluate<number>('document.getElementById("prejoin-level").value')) > 0.01, { timeoutMs: 10_000, intervalMs: 20 });
		expect(await ada.page.locator('#prejoin-camera-select option').count()).toBeGreaterThan(0);
		expect(await ada.page.locator('#prejoin-mic-select option').count()).toBeGreaterThan(0);
		await ada.page.fill('#prejoin-name', 'Ada');
		await ada.page.waitForTimeout(500);
		const before = [...ada.requests];
		expect(before.filter((path) => path.startsWith('/socket.io') || path.startsWith('/api'))).toEqual([]);
		expect(before.every((path) => path === '/room/prejoin-quiet' || path.startsWith('/assets/'))).toBe(true);
		await ada.page.click('#prejoin-join');
		await connected(ada);
		// The recording sees the connection once there is one: the check above could fail.
		expect(ada.requests.some((path) => path === '/api/dev/token')).toBe(true);
		expect(ada.requests.some((path) => path.startsWith('/socket.io'))).toBe(true);
	}), 90_000);

	test('joining with camera and microphone off joins muted; the other side sees it; unmuting works', reported(async () => {
		const bob = await openRoom(suite.browser, suite.node.url, 'prejoin-muted', 'Bob', { size: { w: 160, h: 120 } });
		open.push(bob);
		const ada = await atPreJoin('prejoin-muted', 'Ada');
		await pollUntil('the screen is ready', async () => (await state(ada)) === 'ready', { timeoutMs: 10_000 });
		await ada.page.click('#prejoin-mic');
		await ada.page.click('#prejoin-cam');
		expect([await pressed(ada, 'prejoin-mic'), await pressed(ada, 'prejoin-cam')]).toEqual(['true', 'true']);
		await ada.page.fill('#prejoin-name', 'Ada');
		await ada.page.click('#prejoin-join');
		await connected(ada);
		// NOTE: the controls are wired just after the join answer, a moment after 'connected'.
		await pollUntil('Ada\'s buttons show muted and camera off', async () => (await pressed(ada, 'mute')) === 'true' && (await pressed(ada, 'camera')) === 'true');
		expect(await ada.page.locator('.tile.local.muted:not(.has-video)').count()).toBe(1);
		const adaId = (await hook(ada)).peerId;
		const tile = `.tile[data-peer-id="${adaId}"]`;
		await pollUntil('Bob has both of Ada\'s tracks, paused', () => bob.page.evaluate((id) => {
			const mine = (globalThis as unknown as { switchyard: SwitchyardHook }).switchyard.consumers().filter((c) => c.peerId === id);
			return mine.length === 2 && mine.every((c) => c.paused);
		}, adaId), { timeoutMs: 10_000 });
		expect(await bob.page.locator(`${tile}.muted:not(.has-video)`).count()).toBe(1);
		expect(await bob.page.textContent(`${tile} .avatar`)).toBe('A');
		await ada.page.click('#mute');
		await ada.page.click('#camera');
		await pollUntil('Bob sees Ada unmuted, camera on', async () => (await bob.page.locator(`${tile}.has-video:not(.muted)`).count()) === 1, { timeoutMs: 10_000 });
		await receivesFrom(bob, [adaId]);
	}), 90_000);

	test('the choices are remembered: the next load is prefilled, and ?name= joins with them', reported(async () => {
		const cy = await atPreJoin('prejoin-again', 'Cy');
		await pollUntil('the screen is ready', async () => (await state(cy)) === 'ready', { timeoutMs: 10_000 });
		const mics = await micOptions(cy);
		const mic = mics.at(-1)!;
		await cy.page.selectOption('#prejoin-mic-select', mic);
		await pollUntil('the screen is ready again', async () => (await state(cy)) === 'ready' && (await cy.page.inputValue('#prejoin-mic-select')) === mic, { timeoutMs: 10_000 });
		await cy.page.click('#prejoin-cam');
		await cy.page.fill('#prejoin-name', 'Cy');
		await cy.page.click('#prejoin-join');
		await connected(cy);
		await cy.page.goto(`${suite.node.url}/room/prejoin-again?w=160&h=120`);
		await pollUntil('the screen is ready', async () => (await state(cy)) === 'ready', { timeoutMs: 10_000 });
		expect(await cy.page.inputValue('#prejoin-name')).toBe('Cy');
		expect(await cy.page.inputValue('#prejoin-mic-select')).toBe(mic);
		expect([await pressed(cy, 'prejoin-mic'), await pressed(cy, 'prejoin-cam')]).toEqual(['false', 'true']);
		await cy.page.goto(`${suite.node.url}/room/prejoin-again?name=Cy&w=160&h=120`);
		await connected(cy);
		await pollUntil('Cy joins with the camera off', async () => (await pressed(cy, 'camera')) === 'true');
		expect(await pressed(cy, 'mute')).toBe('false');
	}), 90_000);

	test.each([
		['NotAllowedError', 'denied', 'site settings', 'Join without camera and microphone'],
		['NotFoundError', 'missing', 'No camera or microphone found', 'Join to watch only'],
	])('getUserMedia failing with %s shows the %s screen, and one can join to watch', (error, screen, text, join) => reported(async () => {
		const dan = await atPreJoin(`prejoin-${screen}`, 'Dan',
			`navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('no', '${error}'));`);
		await pollUntil(`the ${screen} screen`, async () => (await state(dan)) === screen, { timeoutMs: 10_000 });
		expect(await dan.page.textContent('#prejoin-problem')).toContain(text);
		expect(await dan.page.isVisible('#prejoin-retry')).toBe(true);
		expect(await dan.page.textContent('#prejoin-join')).toBe(join);
		await dan.page.click('#prejoin-retry');
		await pollUntil(`the ${screen} screen again`, async () => (await state(dan)) === screen, { timeoutMs: 10_000 });
		await dan.page.fill('#prejoin-name', 'Dan');
		await dan.page.click('#prejoin-join');
		await connected(dan);
		expect(await dan.page.evaluate(() => [...(globalThis as unknown as { switchyard: SwitchyardHook }).switchyard.consumers()].length)).toBe(0);
		expect(await dan.page.textContent('#notice')).toContain('watch only');
	})(), 60_000);

	test('a device in use that goes away (devicechange) falls back to another', reported(async () => {
		const eve = await atPreJoin('prejoin-unplug', 'Eve');
		await pollUntil('the screen is ready', async () => (await state(eve)) === 'ready', { timeoutMs: 10_000 });
		const inUse = await eve.page.inputValue('#prejoin-mic-select');
		await eve.page.evaluate(`(() => {
			const list = navigator.mediaDevices.enumerateDevices.bind(navigator.mediaDevices);
			navigator.mediaDevices.enumerateDevices = async () => (await list()).filter((d) => d.deviceId !== ${JSON.stringify(inUse)});
			navigator.mediaDevices.dispatchEvent(new Event('devicechange'));
		})()`);
		await pollUntil('the picker lists the others', async () => (await state(eve)) === 'ready'
			&& !(await micOptions(eve)).includes(inUse) && (await eve.page.inputValue('#prejoin-mic-select')) !== inUse, { timeoutMs: 10_000 });
	}), 60_000);
});

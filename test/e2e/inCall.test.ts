import { pollUntil } from '../helpers/poll';
import { consumers, dropConnection, hook, layout, openRoom, receivesFrom, stats, type Participant } from './browser';
import type { SwitchyardHook } from '../../src/web/client/hookTypes';
import { browserSuite } from './suite';

type LocalTrack = ReturnType<SwitchyardHook['localTracks']>[number];

// In the call (docs/web-client.md): switching devices, the participant list, speaker view, the connection banner.
describe('in the call', () => {
	// NOTE: three fake cameras (launchBrowser's `cameras`), so a switch is to another device.
	const suite = browserSuite({ media: { workers: 1 }, rooms: { reconnectGraceMs: 15_000, scoreIntervalMs: 200 } }, { cameras: 3 });
	const { open, reported } = suite;

	async function join(room: string, name: string): Promise<Participant> {
		const p = await openRoom(suite.browser, suite.node.url, room, name, { size: { w: 160, h: 120 } });
		open.push(p);
		return p;
	}
	const localTracks = (p: Participant): Promise<LocalTrack[]> => p.page.evaluate(() => (globalThis as unknown as { switchyard: SwitchyardHook }).switchyard.localTracks());
	const framesFrom = async (p: Participant, peerId: string): Promise<number> => (await stats(p)).find((s) => s.peerId === peerId && s.kind === 'video')?.framesDecoded ?? 0;

	test('switching the camera and microphone mid-call: the same producers, the other side keeps decoding', reported(async () => {
		const [ada, bob] = [await join('switching', 'Ada'), await join('switching', 'Bob')];
		const adaId = (await hook(ada)).peerId;
		await receivesFrom(bob, [adaId]);
		const before = await localTracks(ada);
		const camera = before.find((t) => t.source === 'camera')!;
		const producersSeen = (await consumers(bob)).filter((c) => c.peerId === adaId).map((c) => c.producerId).sort();

		await ada.page.click('#more');
		const options = await ada.page.locator('#camera-select option').evaluateAll((os) => os.map((o) => (o as unknown as { value: string }).value));
		expect(options.length).toBe(3);
		expect(await ada.page.inputValue('#camera-select')).toBe(camera.deviceId);
		// NOTE: chromium's second fake camera shows in a <video> but its frames never reach
		// the WebRTC encoder, not even on a plain RTCPeerConnection; the third (MJPEG) does.
		const other = options[2]!;
		expect(other).not.toBe(camera.deviceId);
		await ada.page.selectOption('#camera-select', other);
		const after = await pollUntil('Ada sends the other camera', async () => {
			const tracks = await localTracks(ada);
			return tracks.find((t) => t.source === 'camera' && t.deviceId === other) && tracks;
		}, { timeoutMs: 10_000 });
		const switched = after.find((t) => t.source === 'camera')!;
		expect(switched.trackId).not.toBe(camera.trackId);
		expect(switched.producerId).toBe(camera.producerId);
		// The preview shows the new track, and the choice is remembered.
		expect(await ada.page.evaluate('document.querySelector(".tile.local video").srcObject.getVideoTracks()[0].id')).toBe(switched.trackId);
		expect(await ada.page.evaluate('JSON.parse(localStorage.getItem("switchyard.devices")).cameraId')).toBe(other);

		// Bob keeps decoding Ada's video after the switch, from the same producers.
		const decoded = await framesFrom(bob, adaId);
		await pollUntil('Bob decodes more of Ada after the switch', async () => (await framesFrom(bob, adaId)) > decoded + 30, { timeoutMs: 15_000 });
		expect((await consumers(bob)).filter((c) => c.peerId === adaId).map((c) => c.producerId).sort()).toEqual(producersSeen);

		// The microphone too (the fake devices list three inputs).
		const mic = after.find((t) => t.source === 'mic')!;
		const micOther = (await ada.page.locator('#mic-select option').evaluateAll((os) => os.map((o) => (o as unknown as { value: string }).value))).find((id) => id !== mic.deviceId)!;
		await ada.page.selectOption('#mic-select', micOther);
		await pollUntil('Ada sends the other microphone', async () => (await localTracks(ada)).some((t) => t.source === 'mic' && t.deviceId === micOther && t.producerId === mic.producerId));
		await receivesFrom(bob, [adaId]);
		expect(await ada.page.locator('#devices-problem').isHidden()).toBe(true);
	}), 90_000);

	test('the participant list: everyone, a muted microphone, a raised hand first; pinning from it', reported(async () => {
		const [ada, bob, cy] = [await join('people', 'Ada'), await join('people', 'Bob'), await join('people', 'Cy')];
		const [bobId, cyId] = [(await hook(bob)).peerId, (await hook(cy)).peerId];
		await bob.page.click('#mute');
		await cy.page.click('#hand');
		await ada.page.click('#more');
		type Row = { id: string; name: string; classes: string };
		const rows = (): Promise<Row[]> => ada.page.evaluate('[...document.querySelectorAll("#people-list li")].map((li) => ({ id: li.dataset.peerId, name: li.querySelector(".who").textContent, classes: li.className }))');
		const list = await pollUntil('Ada\'s list shows Bob muted and Cy\'s hand first', async () => {
			const now = await rows();
			return now.length === 3 && now[0]!.id === cyId && now[0]!.classes.includes('hand') && now.find((r) => r.id === bobId)?.classes.includes('muted') && now;
		}, { timeoutMs: 10_000 });
		expect(list.map((r) => r.name)).toEqual(['Cy', 'Ada (you)', 'Bob']);
		expect(await ada.page.textContent('#people-title')).toBe('People (3)');
		// Pinned from the list: the tile is pinned, and the server hears of it.
		await ada.page.click(`#people-list li[data-peer-id="${bobId}"] button`);
		await pollUntil('Bob\'s tile is pinned', async () => (await ada.page.locator(`.tile.pinned[data-peer-id="${bobId}"]`).count()) === 1);
		expect(await ada.page.textContent(`#people-list li[data-peer-id="${bobId}"] button`)).toBe('Unpin');
		await cy.page.click('#hand');
		await pollUntil('Cy\'s hand goes from Ada\'s list', async () => !(await rows()).some((r) => r.classes.includes('hand')), { timeoutMs: 10_000 });
	}), 90_000);

	test('speaker view makes the pinned tile large and the others a strip; grid view restores the grid', reported(async () => {
		const [ada, bob, cy] = [await join('views', 'Ada'), await join('views', 'Bob'), await join('views', 'Cy')];
		const [bobId, cyId] = [(await hook(bob)).peerId, (await hook(cy)).peerId];
		await receivesFrom(ada, [bobId, cyId]);
		const grid = await layout(ada);
		const widths = grid.tiles.map((t) => t.width);
		expect(Math.max(...widths) - Math.min(...widths)).toBeLessThan(2);
		await ada.page.click('#more');
		await ada.page.click('#view-toggle');
		await ada.page.click(`.tile[data-peer-id="${cyId}"] .pin`, { force: true });
		const speaker = await pollUntil('Cy\'s tile is large', async () => {
			const l = await layout(ada);
			const big = l.tiles.find((t) => t.peerId === cyId)!;
			return l.tiles.filter((t) => t.peerId !== cyId).every((t) => big.width > 3 * t.width && big.height > 2 * t.height) && l;
		}, { timeoutMs: 5_000 });
		const big = speaker.tiles.find((t) => t.peerId === cyId)!;
		for (const small of speaker.tiles.filter((t) => t.peerId !== cyId)) {
			expect(small.top).toBeGreaterThanOrEqual(big.bottom);
			expect(small.bottom).toBeLessThanOrEqual(speaker.controls.top);
		}
		// The server hears the new sizes: the large video's viewport is larger than the strip's.
		await pollUntil('the viewports follow the view', async () => {
			const reported = await ada.page.evaluate(() => (globalThis as unknown as { switchyard: SwitchyardHook }).switchyard.viewports());
			const mine = await consumers(ada);
			const of = (peerId: string) => reported.find((v) => v.consumerId === mine.find((c) => c.peerId === peerId && c.kind === 'video')?.id)?.width ?? 0;
			return of(cyId) > 2 * of(bobId);
		}, { timeoutMs: 5_000 });
		await ada.page.click('#view-toggle');
		expect(await ada.page.textContent('#view-toggle')).toBe('Speaker view');
		await pollUntil('grid view again', async () => {
			const w = (await layout(ada)).tiles.map((t) => t.width);
			return Math.max(...w) - Math.min(...w) < 2;
		}, { timeoutMs: 5_000 });
	}), 90_000);

	test('the banner: reconnecting, then reconnected; a poor score from the server warns', reported(async () => {
		const [ada, bob] = [await join('banner', 'Ada'), await join('banner', 'Bob')];
		const adaId = (await hook(ada)).peerId;
		// Every text the banner shows, however briefly.
		await ada.page.evaluate(`(() => {
			const banner = document.getElementById('conn-banner');
			globalThis.bannerSeen = [];
			new MutationObserver(() => banner.hidden || globalThis.bannerSeen.push(banner.textContent)).observe(banner, { childList: true, attributes: true, characterData: true, subtree: true });
		})()`);
		const seen = () => ada.page.evaluate(() => (globalThis as unknown as { bannerSeen: string[] }).bannerSeen);
		await dropConnection(ada);
		await pollUntil('the banner said Reconnecting…, then Reconnected', async () => {
			const texts = await seen();
			return texts.includes('Reconnecting…') && texts.lastIndexOf('Reconnected') > texts.indexOf('Reconnecting…');
		}, { timeoutMs: 15_000 });
		await receivesFrom(bob, [adaId]);
		await pollUntil('it goes after a few seconds', async () => ada.page.locator('#conn-banner').isHidden(), { timeoutMs: 6_000 });

		// The server scores Ada's camera low: the page warns.
		const producer = [...suite.node.registry.get('banner')!.peers.get(adaId)!.producers.values()].find((p) => p.kind === 'video')!;
		const low = (): void => void (producer as unknown as { emit(event: string, scores: unknown[]): boolean }).emit('score', [{ encodingIdx: 0, ssrc: 1, score: 2 }]);
		// NOTE: the real scores (good) keep coming: a low one each poll.
		await pollUntil('the poor connection banner', async () => {
			low();
			return (await ada.page.textContent('#conn-banner')) === 'Your connection is poor: others may see you freeze' && !(await ada.page.locator('#conn-banner').isHidden());
		}, { timeoutMs: 5_000, intervalMs: 100 });
	}), 90_000);
});

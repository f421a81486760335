import type { ms } from '../../src/media';
import { pollUntil } from '../helpers/poll';
import {
	captureSize, consumers, dropConnection, hook, inboundBySsrc, layout, openRoom, outboundStats, receivesFrom,
	remoteIceUfrags, screenshotPath, stats, transportIds, type Participant,
} from './browser';
import { browserSuite } from './suite';

const GRACE_MS = 15000;

describe('the web client in a real browser', () => {
	const suite = browserSuite({ media: { workers: 2 }, rooms: { reconnectGraceMs: GRACE_MS } });
	const { open, reported } = suite;

	async function join(room: string, names: string[], options?: Parameters<typeof openRoom>[4]): Promise<{ ps: Participant[]; ids: string[] }> {
		const ps: Participant[] = [];
		for (const name of names) {
			const p = await openRoom(suite.browser, suite.node.url, room, name, options);
			open.push(p);
			ps.push(p);
		}
		return { ps, ids: await Promise.all(ps.map(async (p) => (await hook(p)).peerId)) };
	}

	/** Each participant decodes video and receives audio from every other one. */
	async function everyoneReceivesEveryone(ps: Participant[], ids: string[]): Promise<void> {
		await Promise.all(ps.map((p, i) => receivesFrom(p, ids.filter((_, j) => j !== i))));
	}

	test('three participants decode each other; one leaves and the others stop receiving it and drop its tile', reported(async () => {
		const { ps, ids } = await join('e2e-three', ['Ada', 'Grace', 'Linus']);
		await everyoneReceivesEveryone(ps, ids);
		for (const p of ps) {
			expect(await p.page.locator('.tile').count()).toBe(3);
			expect((await consumers(p)).filter((c) => c.kind === 'video')).toHaveLength(2);
			expect((await consumers(p)).filter((c) => c.kind === 'audio')).toHaveLength(2);
		}
		for (const name of ['Grace', 'Linus']) {
			expect(await ps[0]!.page.locator('.tile figcaption', { hasText: name }).count()).toBe(1);
		}

		const [ada, grace, linus] = ps as [Participant, Participant, Participant];
		const linusId = ids[2]!;
		const room = suite.node.registry.get('e2e-three')!;
		const linusSsrcs = new Map(await Promise.all([ada, grace].map(async (p) =>
			[p, (await consumers(p)).filter((c) => c.peerId === linusId).map((c) => c.ssrc!)] as const)));
		expect([...linusSsrcs.values()].every((ssrcs) => ssrcs.length === 2)).toBe(true);

		await linus.page.click('#leave');
		await pollUntil('Linus has left', async () => (await hook(linus)).state === 'left');
		// Linus's page says so, with no remote tile left.
		expect(await linus.page.locator('#notice').textContent()).toContain('You left the call.');
		expect(await linus.page.locator('.tile:not(.local)').count()).toBe(0);
		for (const p of [ada, grace]) {
			await pollUntil(`${p.name} drops Linus's tile`, async () => (await p.page.locator(`.tile[data-peer-id="${linusId}"]`).count()) === 0);
			await pollUntil(`${p.name} has no consumer of Linus`, async () => !(await consumers(p)).some((c) => c.peerId === linusId));
			expect((await hook(p)).events).toContainEqual(expect.objectContaining({ name: 'peer.left', peerId: linusId }));
			// Its bytes stop growing: two reads a second apart agree.
			const ssrcs = linusSsrcs.get(p)!;
			let last = { at: Date.now(), bytes: -1 };
			await pollUntil(`${p.name} receives nothing more from Linus`, async () => {
				const bytes = (await inboundBySsrc(p, ssrcs)).reduce((sum, s) => sum + s.bytesReceived, 0);
				if (bytes !== last.bytes) {
					last = { at: Date.now(), bytes };
					return false;
				}
				return Date.now() - last.at >= 1000;
			}, { timeoutMs: 10000, intervalMs: 250 });
		}
		// On the server: Linus is gone and nobody consumes anything of his.
		expect(room.peers.has(linusId)).toBe(false);
		for (const peer of room.peers.values()) {
			expect([...peer.consumers.values()].filter((c) => c.appData.producerPeerId === linusId)).toEqual([]);
		}
		// The two left still receive each other.
		await receivesFrom(ada, [ids[1]!]);
		await receivesFrom(grace, [ids[0]!]);
	}));

	test('screenshots of a three-party room at desktop (1280x800) and phone (390x844) sizes', reported(async () => {
		const { ps, ids } = await join('standup', ['Ada Lovelace', 'Grace Hopper', 'Linus']);
		await everyoneReceivesEveryone(ps, ids);
		const ada = ps[0]!;
		for (const [file, viewport] of [['room-three-desktop.png', { width: 1280, height: 800 }], ['room-three-phone.png', { width: 390, height: 844 }]] as const) {
			await ada.page.setViewportSize(viewport);
			// Laid out for this size, every tile playing its video, before the picture is taken.
			const at = await pollUntil(`the grid is laid out for ${viewport.width}x${viewport.height}`, async () => {
				const l = await layout(ada);
				return l.viewport.width === viewport.width && l.tiles.every((t) => t.showsVideo && t.videoWidth > 0) && l.tiles.every((t) => t.right <= viewport.width) && l;
			}, { timeoutMs: 10000, intervalMs: 100 });
			const { tiles, controls, buttons } = at;
			expect(tiles.map((t) => t.name)).toEqual(['Ada Lovelace (you)', 'Grace Hopper', 'Linus']);
			// All inside the window and above the controls, none overlapping another.
			for (const t of tiles) {
				expect(t.left).toBeGreaterThanOrEqual(0);
				expect(t.top).toBeGreaterThanOrEqual(0);
				expect(t.bottom).toBeLessThanOrEqual(controls.top);
			}
			for (const [i, a] of tiles.entries()) {
				for (const b of tiles.slice(i + 1)) {
					expect(a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top).toBe(true);
				}
			}
			// The tiles use the room: 40% of the width each on a desktop, nearly all of it on a phone.
			expect(Math.min(...tiles.map((t) => t.width))).toBeGreaterThan(viewport.width * (viewport.width > 640 ? 0.4 : 0.85));
			// Controls: on screen and thumb-sized (44 px at least), in one row.
			expect(controls.bottom).toBeLessThanOrEqual(viewport.height);
			for (const b of buttons) {
				expect(Math.min(b.width, b.height)).toBeGreaterThanOrEqual(44);
			}
			expect(new Set(buttons.map((b) => Math.round(b.top))).size).toBe(1);
			await ada.page.screenshot({ path: screenshotPath(file) });
		}
	}));

	test('mute, camera off and a screen share reach the others; the server pauses and resumes the producers', reported(async () => {
		const { ps, ids } = await join('controls', ['Ada', 'Grace']);
		await everyoneReceivesEveryone(ps, ids);
		const [ada, grace] = ps as [Participant, Participant];
		const graceId = ids[1]!;
		const serverGrace = suite.node.registry.get('controls')!.peers.get(graceId)!;
		const pausedOnServer = () => [...serverGrace.producers.values()].filter((p) => p.paused).map((p) => p.appData.source).sort();
		const graceTile = ada.page.locator(`.tile[data-peer-id="${graceId}"]`).first();
		const tileClasses = async () => (await graceTile.getAttribute('class'))?.split(' ') ?? [];

		await grace.page.click('#mute');
		await grace.page.click('#camera');
		await pollUntil('both of Grace\'s producers paused on the server', () => pausedOnServer().join() === 'camera,mic');
		await pollUntil('Ada sees Grace muted with her camera off', async () => {
			const classes = await tileClasses();
			return classes.includes('muted') && !classes.includes('has-video') && (await consumers(ada)).every((c) => c.paused);
		});
		expect(await graceTile.locator('.avatar').isVisible()).toBe(true);
		expect(await grace.page.locator('#mute').getAttribute('aria-pressed')).toBe('true');

		await grace.page.click('#mute');
		await grace.page.click('#camera');
		await pollUntil('Grace\'s producers resumed on the server', () => pausedOnServer().length === 0);
		await pollUntil('Ada sees Grace again', async () => {
			const classes = await tileClasses();
			return !classes.includes('muted') && classes.includes('has-video');
		});
		await receivesFrom(ada, [graceId]);

		// A screen share is one more tile, and goes when it stops.
		await grace.page.click('#screen');
		await pollUntil('Ada decodes Grace\'s screen', async () => {
			const screen = (await consumers(ada)).find((c) => c.source === 'screen');
			const flowing = screen && (await stats(ada)).find((s) => s.consumerId === screen.id);
			return (flowing?.framesDecoded ?? 0) > 0;
		}, { timeoutMs: 20000, intervalMs: 250 });
		expect(await ada.page.locator(`.tile.screen[data-peer-id="${graceId}"] figcaption`).textContent()).toContain('Grace (screen)');
		expect(await ada.page.locator('.tile').count()).toBe(3);
		await grace.page.click('#screen');
		await pollUntil('the screen tile goes', async () => (await ada.page.locator('.tile').count()) === 2);
		// The camera tile still shows her camera.
		await receivesFrom(ada, [graceId]);
		expect(await tileClasses()).toContain('has-video');
	}));

	test.each([
		['its socket and transports are closed: new transports, re-produced', { keepTransports: false }, 'newTransports'],
		['only its socket is cut: ICE restart on the transports the server kept', { keepTransports: true }, 'restartIce'],
	] as const)('a participant whose connection is cut comes back without a reload; the others never see it leave (%s)', (_, drop, how) => reported(async () => {
		const roomId = `cut-${how}`;
		const { ps, ids } = await join(roomId, ['Ada', 'Grace', 'Linus']);
		const [ada, ...others] = ps as [Participant, ...Participant[]];
		const adaId = ids[0]!;
		await everyoneReceivesEveryone(ps, ids);
		const url = ada.page.url();
		const serverPeer = suite.node.registry.get(roomId)!.peers.get(adaId)!;
		const serverTransports = [...serverPeer.transports.keys()].sort();
		const localTransports = await transportIds(ada);
		const ufragsBefore = [...serverPeer.transports.values()].map((t) => (t as ms.WebRtcTransport).iceParameters.usernameFragment);
		expect(await remoteIceUfrags(ada)).toEqual(localTransports.map((id) => (serverPeer.transports.get(id) as ms.WebRtcTransport).iceParameters.usernameFragment));

		const cutAt = Date.now();
		await dropConnection(ada, drop);
		await pollUntil(`Ada recovers (${how})`, async () => (await hook(ada)).recoveries.some((r) => r.how === how && r.why === 'resume'), { timeoutMs: GRACE_MS });
		await Promise.all([receivesFrom(ada, ids.slice(1)), ...others.map((p) => receivesFrom(p, [adaId]))]);
		expect(Date.now() - cutAt).toBeLessThan(GRACE_MS);

		// Same page, same peer, on the server too.
		expect(ada.page.url()).toBe(url);
		const after = await hook(ada);
		expect(after.peerId).toBe(adaId);
		expect(after.states).toContain('reconnecting');
		expect(after.state).toBe('connected');
		expect(suite.node.registry.get(roomId)!.peers.get(adaId)).toBe(serverPeer);
		expect(serverPeer.transports.size).toBe(2);
		if (how === 'newTransports') {
			// The old transports went away on both sides.
			expect([...serverPeer.transports.keys()].some((id) => serverTransports.includes(id))).toBe(false);
			expect((await transportIds(ada)).some((id) => localTransports.includes(id))).toBe(false);
		} else {
			expect([...serverPeer.transports.keys()].sort()).toEqual(serverTransports);
			expect(await transportIds(ada)).toEqual(localTransports);
			// The restart took: both transports talk to the server with its new ICE credentials.
			const serverUfrags = localTransports.map((id) => (serverPeer.transports.get(id) as ms.WebRtcTransport).iceParameters.usernameFragment);
			expect(serverUfrags.some((u) => ufragsBefore.includes(u))).toBe(false);
			await pollUntil('the selected pairs use the new ICE credentials', async () =>
				JSON.stringify(await remoteIceUfrags(ada)) === JSON.stringify(serverUfrags), { timeoutMs: 10000, intervalMs: 250 });
		}
		// No stale consumer left behind: exactly one audio and one video per other participant.
		expect((await consumers(ada)).map((c) => `${c.peerId}/${c.kind}`).sort()).toEqual(
			ids.slice(1).flatMap((id) => [`${id}/audio`, `${id}/video`]).sort());
		// The others never saw Ada leave: no peer.left, and her tile was never removed.
		for (const p of others) {
			const seen = await hook(p);
			expect(seen.events.filter((e) => e.peerId === adaId)).toEqual([]);
			expect(seen.removedTiles).not.toContain(adaId);
			expect(await p.page.locator(`.tile[data-peer-id="${adaId}"]`).count()).toBe(1);
		}
	})(), 120000);

	test('after its worker dies (session.reconnect), the call rebuilds itself without a reload', reported(async () => {
		const { ps, ids } = await join('doomed', ['Ada', 'Grace']);
		await everyoneReceivesEveryone(ps, ids);
		const room = suite.node.registry.get('doomed')!;
		const victim = room.routers[0]!.worker;
		const urls = ps.map((p) => p.page.url());

		process.kill(victim.pid, 'SIGKILL');
		for (const p of ps) {
			await pollUntil(`${p.name} rebuilt after workerDied`, async () =>
				(await hook(p)).recoveries.some((r) => r.how === 'newTransports' && r.why === 'workerDied'), { timeoutMs: 15000, intervalMs: 200 });
		}
		await everyoneReceivesEveryone(ps, ids);
		expect(room.routers.length).toBeGreaterThan(0);
		expect(room.routers.every((r) => r.worker.pid !== victim.pid)).toBe(true);
		for (const [i, p] of ps.entries()) {
			const h = await hook(p);
			expect(p.page.url()).toBe(urls[i]);
			expect(h.peerId).toBe(ids[i]);
			expect(h.events.filter((e) => e.name === 'peer.left')).toEqual([]);
			expect(await p.page.locator('.tile').count()).toBe(2);
		}
	}));

	test('a 720p camera is published as VP8 in three simulcast layers (1/4, 1/2, full)', reported(async () => {
		const { ps } = await join('hd', ['Hd'], { size: { w: 1280, h: 720 } });
		// NOTE: dynacast sends only the encodings someone watches: a viewer with
		// a large tile wants all three.
		await join('hd', ['Viewer'], { viewport: { width: 1920, height: 1080 } });
		expect(await captureSize(ps[0]!)).toEqual({ width: 1280, height: 720 });
		const layers = await pollUntil('three VP8 layers sending', async () => {
			const video = (await outboundStats(ps[0]!)).filter((s) => s.kind === 'video' && s.bytesSent > 0 && s.frameWidth);
			return video.length === 3 && video.sort((a, b) => a.frameWidth! - b.frameWidth!);
		}, { timeoutMs: 20000, intervalMs: 250 });
		expect(layers.map((l) => l.mimeType)).toEqual(['video/VP8', 'video/VP8', 'video/VP8']);
		const [low, mid, full] = layers.map((l) => l.frameWidth!) as [number, number, number];
		// NOTE: a busy CPU may scale the capture down; the ratios between layers stay.
		expect(full).toBeLessThanOrEqual(1280);
		expect(Math.abs(mid * 2 - full)).toBeLessThanOrEqual(2);
		expect(Math.abs(low * 4 - full)).toBeLessThanOrEqual(4);
	}));
});

import type { Browser } from 'playwright-core';
import { startTestNode, type TestNode } from '../helpers/node';
import { pollUntil } from '../helpers/poll';
import { launchBrowser, openRoom, report, screenshotPath, stats, type Participant } from './browser';

type Hook = { peerId: string; events: { name: string; peerId: string }[]; dropConnection(): void; state: string };
const hook = (p: Participant) => p.page.evaluate(() => {
	const h = (globalThis as unknown as { switchyard: Hook }).switchyard;
	return { peerId: h.peerId, events: h.events, state: h.state };
});

describe('the web client in a real browser', () => {
	let node: TestNode;
	let browser: Browser;
	const participants: Participant[] = [];

	beforeAll(async () => {
		node = await startTestNode({ media: { workers: 1 }, rooms: { reconnectGraceMs: 20000 } });
		browser = await launchBrowser();
	});
	afterAll(async () => {
		for (const p of participants.splice(0)) {
			await p.context.close();
		}
		await browser?.close();
		await node?.close();
	});

	/** Polls a browser condition; on timeout prints every page's console and quality limitation. */
	async function until<T>(what: string, check: () => Promise<T | false | undefined>, timeoutMs = 20000): Promise<T> {
		try {
			return await pollUntil(what, check, { timeoutMs, intervalMs: 250 });
		} catch (error) {
			process.stderr.write(`${await report(participants)}\n`);
			throw error;
		}
	}

	async function decodesFrom(p: Participant, peerIds: string[]): Promise<boolean> {
		const inbound = await stats(p);
		return peerIds.every((peerId) =>
			inbound.some((s) => s.peerId === peerId && s.kind === 'video' && s.framesDecoded > 0) &&
			inbound.some((s) => s.peerId === peerId && s.kind === 'audio' && s.bytesReceived > 0));
	}

	test('three participants decode each other; one leaves and its tile and media go away; screenshots', async () => {
		for (const name of ['Ada', 'Grace', 'Linus']) {
			participants.push(await openRoom(browser, node.url, 'e2e-three', name));
		}
		const ids = await Promise.all(participants.map(async (p) => (await hook(p)).peerId));
		for (const [i, p] of participants.entries()) {
			const others = ids.filter((_, j) => j !== i);
			await until(`${p.name} decodes two videos and two audios`, () => decodesFrom(p, others));
		}
		// Still growing: media flows, not a burst at setup.
		const before = await stats(participants[0]!);
		await until('bytes keep growing', async () => {
			const after = await stats(participants[0]!);
			return after.filter((s) => s.bytesReceived > (before.find((b) => b.consumerId === s.consumerId)?.bytesReceived ?? 0)).length >= 4;
		});

		await participants[0]!.page.screenshot({ path: screenshotPath('room-three-desktop.png') });
		await participants[0]!.page.setViewportSize({ width: 390, height: 844 });
		await participants[0]!.page.screenshot({ path: screenshotPath('room-three-phone.png'), fullPage: true });
		await participants[0]!.page.setViewportSize({ width: 1280, height: 800 });
		for (const p of participants) {
			expect(await p.page.locator('.tile').count()).toBe(3);
			expect(await p.page.locator('figcaption', { hasText: 'Linus' }).count()).toBe(1);
		}

		// Linus leaves.
		const linus = participants[2]!;
		await linus.page.click('#leave');
		const linusId = ids[2]!;
		for (const p of participants.slice(0, 2)) {
			await until(`${p.name} drops Linus's tile`, async () => (await p.page.locator(`.tile[data-peer-id="${linusId}"]`).count()) === 0);
			await until(`${p.name} has no consumer of Linus`, async () => !(await stats(p)).some((s) => s.peerId === linusId));
		}
		await linus.context.close();
		participants.splice(2, 1);
	});

	test('a participant whose connection is cut comes back without a reload; the others never see it leave', async () => {
		const [ada, grace] = participants;
		const adaId = (await hook(ada!)).peerId;
		const graceId = (await hook(grace!)).peerId;
		const url = ada!.page.url();
		const serverPeer = () => node.registry.get('e2e-three')!.peers.get(adaId)!;
		const transportsBefore = [...serverPeer().transports.keys()];
		await ada!.page.evaluate(() => (globalThis as unknown as { switchyard: Hook }).switchyard.dropConnection());
		await until('ada decodes grace again', () => decodesFrom(ada!, [graceId]), 20000);
		await until('grace decodes ada again', () => decodesFrom(grace!, [adaId]), 20000);
		expect(ada!.page.url()).toBe(url);
		// Same peer on the server, with new transports: the old ones really went away.
		expect([...serverPeer().transports.keys()].some((id) => transportsBefore.includes(id))).toBe(false);
		expect(serverPeer().transports.size).toBe(2);
		expect((await hook(ada!)).peerId).toBe(adaId);
		expect((await hook(grace!)).events.filter((e) => e.peerId === adaId).map((e) => e.name)).not.toContain('peer.left');
		expect(await grace!.page.locator(`.tile[data-peer-id="${adaId}"]`).count()).toBe(1);
	});
});

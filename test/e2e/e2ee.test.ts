import fs from 'node:fs';
import { pollUntil } from '../helpers/poll';
import { e2ee, hook, newParticipant, openRoom, receivesFrom, stats, type Participant } from './browser';
import { browserSuite } from './suite';

const SECRET = 'correct-horse-battery-staple-42';
const WRONG = 'another-secret-of-some-length';
/** Secrets the lobby made in these tests. */
const secrets: string[] = [];

// End-to-end encrypted media in guest rooms (docs/e2ee.md): the link's
// secret seals every frame in the browser; the node forwards what it cannot read.
describe('end-to-end encrypted rooms in a real browser', () => {
	const suite = browserSuite({ media: { workers: 1 }, log: { level: 'debug' } });
	const { open, reported } = suite;

	async function join(room: string, name: string, secret?: string): Promise<Participant> {
		const p = await openRoom(suite.browser, suite.node.url, room, name, { e2ee: secret });
		open.push(p);
		return p;
	}

	/** `p`'s consumers of `peerId`, with their inbound stats. */
	async function from(p: Participant, peerId: string) {
		return (await stats(p)).filter((s) => s.peerId === peerId);
	}

	test('two pages with the same secret decode each other; a third with a wrong one gets bytes, decodes nothing, and is marked', reported(async () => {
		const ada = await join('e2ee-pair', 'Ada', SECRET);
		const grace = await join('e2ee-pair', 'Grace', SECRET);
		const [adaId, graceId] = await Promise.all([ada, grace].map(async (p) => (await hook(p)).peerId));
		await Promise.all([receivesFrom(ada, [graceId!]), receivesFrom(grace, [adaId!])]);
		for (const p of [ada, grace]) {
			// The badge appears once the join has resolved, which may come after the state says connected.
			await p.page.locator('#e2ee').waitFor({ state: 'visible', timeout: 10_000 });
			const report = await e2ee(p);
			expect(report.enabled).toBe(true);
			expect(report.undecryptable).toEqual([]);
		}
		// Every frame went through the encryption: each sender sealed, nothing went out without a key.
		await pollUntil('the worker reports its counts', async () => (await e2ee(ada)).transforms.some((t) => t.side === 'send' && t.kind === 'video' && t.frames > 0));
		for (const t of (await e2ee(ada)).transforms.filter((t) => t.side === 'send')) {
			expect(t.dropped).toBe(0);
			expect(t.bytesOut).toBeGreaterThan(t.bytesIn);
		}

		const eve = await join('e2ee-pair', 'Eve', WRONG);
		const eveId = (await hook(eve)).peerId;
		await pollUntil('Eve receives video bytes from Ada and Grace', async () => {
			const video = (await stats(eve)).filter((s) => s.kind === 'video');
			return video.length === 2 && video.every((s) => s.bytesReceived > 20_000);
		}, { timeoutMs: 20_000, intervalMs: 250 });
		const marked = await pollUntil('Eve marks both tiles undecryptable', async () => {
			const count = await eve.page.locator('.tile.undecryptable').count();
			return count === 2 && count;
		}, { timeoutMs: 10_000, intervalMs: 250 });
		expect(marked).toBe(2);
		for (const s of await stats(eve)) {
			expect(s.framesDecoded).toBe(0);
		}
		expect((await e2ee(eve)).undecryptable).toHaveLength(4);
		expect(await eve.page.locator('.tile.undecryptable .undecryptable-note').first().isVisible()).toBe(true);

		// And the other way: Ada and Grace cannot decrypt Eve, and say so, while still decoding each other.
		for (const p of [ada, grace]) {
			await pollUntil(`${p.name} marks Eve`, async () => (await p.page.locator(`.tile.undecryptable[data-peer-id="${eveId}"]`).count()) === 1, { timeoutMs: 10_000 });
			expect((await from(p, eveId)).every((s) => s.framesDecoded === 0)).toBe(true);
		}
		await receivesFrom(ada, [graceId!]);
	}), 90_000);

	test('a key change: the receiver that lacks the new key marks the sender, and decodes it again once it has it', reported(async () => {
		const ada = await join('e2ee-rekey', 'Ada', SECRET);
		const grace = await join('e2ee-rekey', 'Grace', SECRET);
		const adaId = (await hook(ada)).peerId;
		await receivesFrom(grace, [adaId]);

		await ada.page.evaluate((s) => (globalThis as never as { switchyard: { setSecret(s: string): Promise<void> } }).switchyard.setSecret(s), 'the-next-secret-of-the-room');
		await pollUntil('Grace marks Ada', async () => (await grace.page.locator(`.tile.undecryptable[data-peer-id="${adaId}"]`).count()) === 1, { timeoutMs: 10_000 });
		await grace.page.evaluate((s) => (globalThis as never as { switchyard: { setSecret(s: string): Promise<void> } }).switchyard.setSecret(s), 'the-next-secret-of-the-room');
		await pollUntil('Grace unmarks Ada', async () => (await grace.page.locator('.tile.undecryptable').count()) === 0, { timeoutMs: 10_000 });
		// A key frame was asked for (consumer.requestKeyFrame): the picture is back at once, not at the next periodic key frame.
		await receivesFrom(grace, [adaId], 5000);
	}), 60_000);

	test('a page without the secret is refused by an encrypted room, and a browser that cannot encrypt is refused, never joined in the clear', reported(async () => {
		await join('e2ee-refuse', 'Ada', SECRET);
		const plain = await newParticipant(suite.browser, 'Plain');
		open.push(plain);
		await plain.page.goto(`${suite.node.url}/room/e2ee-refuse?name=Plain&w=320&h=180`);
		await pollUntil('the plain page fails', async () => (await plain.page.locator('#status').getAttribute('data-state')) === 'failed', { timeoutMs: 15_000 });
		expect(await plain.page.locator('#notice').textContent()).toContain('end-to-end encrypted');

		const old = await newParticipant(suite.browser, 'Old');
		open.push(old);
		await old.page.addInitScript(() => {
			delete (globalThis as { RTCRtpScriptTransform?: unknown }).RTCRtpScriptTransform;
		});
		await old.page.goto(`${suite.node.url}/room/e2ee-refuse?name=Old&w=320&h=180#e2ee=${SECRET}`);
		await pollUntil('the old browser fails', async () => (await old.page.locator('#status').getAttribute('data-state')) === 'failed', { timeoutMs: 15_000 });
		expect(await old.page.locator('#notice').textContent()).toContain('cannot encrypt calls end to end');
		expect([...suite.node.registry.get('e2ee-refuse')!.peers.values()].map((p) => p.displayName)).toEqual(['Ada']);
	}), 60_000);

	test('the lobby makes an encrypted link: a fresh secret in the fragment, the badge in the room', reported(async () => {
		const p = await newParticipant(suite.browser, 'Lobby');
		open.push(p);
		await p.page.goto(`${suite.node.url}/`);
		await p.page.fill('input[name=name]', 'Lin');
		await p.page.fill('input[name=room]', 'e2ee-lobby');
		await p.page.check('#e2ee-choice');
		await p.page.click('button[type=submit]');
		await p.page.waitForFunction(() => (globalThis as never as { switchyard?: { state: string } }).switchyard?.state === 'connected', undefined, { timeout: 30_000 });
		const url = new URL(p.page.url());
		expect(url.pathname).toBe('/room/e2ee-lobby');
		expect(url.hash).toMatch(/^#e2ee=[A-Za-z0-9_-]{22}$/);
		await p.page.locator('#e2ee').waitFor({ state: 'visible', timeout: 10_000 });
		expect((await e2ee(p)).enabled).toBe(true);
		expect(await p.page.locator('#notice').textContent()).toContain('including the part after #');
		secrets.push(url.hash.slice('#e2ee='.length));
	}), 60_000);

	test('nothing the node stores or logs holds a secret', () => {
		const lines = JSON.stringify(suite.node.logLines());
		expect(lines.length).toBeGreaterThan(1000);
		expect(lines).toContain('e2ee-pair');
		const stored = ['', '-wal', '-shm'].map((suffix) => `${suite.node.storePath}${suffix}`).filter((file) => fs.existsSync(file))
			.map((file) => fs.readFileSync(file).toString('latin1')).join('');
		expect(secrets).toHaveLength(1);
		for (const secret of [SECRET, WRONG, 'the-next-secret-of-the-room', ...secrets]) {
			expect(lines).not.toContain(secret);
			expect(lines).not.toContain(encodeURIComponent(secret));
			expect(stored).not.toContain(secret);
		}
	});
});

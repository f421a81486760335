import type { Browser } from 'playwright-core';
import { startTestNode, type TestNode } from '../helpers/node';
import { pollUntil } from '../helpers/poll';
import { launchBrowser, openRoom, report, stats, type Participant } from './browser';

describe('worker crashes in a real browser call', () => {
	let node: TestNode;
	let browser: Browser;
	const participants: Participant[] = [];

	beforeAll(async () => {
		node = await startTestNode({ media: { workers: 2 } });
		browser = await launchBrowser();
	});
	afterAll(async () => {
		for (const p of participants.splice(0)) {
			await p.context.close();
		}
		await browser?.close();
		await node?.close();
	});

	async function bothDecode(since: Map<string, number>): Promise<boolean> {
		for (const p of participants) {
			const video = (await stats(p)).find((s) => s.kind === 'video');
			// A consumer made after the crash (not one from before), decoding frames.
			if (!video || since.get(p.name) === undefined || (video.framesDecoded ?? 0) === 0 || video.consumerId === String(since.get(`${p.name}:consumer`))) {
				return false;
			}
		}
		return true;
	}

	test('SIGKILL every worker: both participants decode each other again within 10 s, without a reload', async () => {
		for (const name of ['Kim', 'Lee']) {
			participants.push(await openRoom(browser, node.url, 'crash', name));
		}
		const before = new Map<string, number>();
		await pollUntil('both decode', async () => {
			for (const p of participants) {
				const video = (await stats(p)).find((s) => s.kind === 'video');
				if (!video || video.framesDecoded === 0) {
					return false;
				}
				before.set(p.name, 1);
				before.set(`${p.name}:consumer`, video.consumerId as unknown as number);
			}
			return true;
		}, { timeoutMs: 30000, intervalMs: 250 });
		const urls = participants.map((p) => p.page.url());
		const pids = node.pool.workers.map((w) => w.pid);

		for (const pid of pids) {
			process.kill(pid, 'SIGKILL');
		}
		const killedAt = Date.now();
		try {
			await pollUntil('both decode each other again', () => bothDecode(before), { timeoutMs: 10000, intervalMs: 250 });
		} catch (error) {
			process.stderr.write(`${await report(participants)}\n`);
			throw error;
		}
		expect(Date.now() - killedAt).toBeLessThan(10000);
		expect(participants.map((p) => p.page.url())).toEqual(urls);
		expect(node.pool.workers.map((w) => w.pid).some((pid) => pids.includes(pid))).toBe(false);
		expect(node.pool.restarts).toBe(2);
	});
});

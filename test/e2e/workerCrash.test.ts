import { pollUntil } from '../helpers/poll';
import { openRoom, report, stats } from './browser';
import { browserSuite } from './suite';

describe('worker crashes in a real browser call', () => {
	const suite = browserSuite({ media: { workers: 2 } });
	const participants = suite.open;

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
			participants.push(await openRoom(suite.browser, suite.node.url, 'crash', name));
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
		const pids = suite.node.pool.workers.map((w) => w.pid);

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
		expect(suite.node.pool.workers.map((w) => w.pid).some((pid) => pids.includes(pid))).toBe(false);
		expect(suite.node.pool.restarts).toBe(2);
	});
});

import { execFile } from 'node:child_process';
import path from 'node:path';
import { startTestNode, type TestNode } from '../helpers/node';
import { PROJECT_DIR } from '../helpers/child';
import type { RunResult } from '../../scripts/loadtest/run';

const SECRET = 'loadtest-smoke-secret-0123456789abcdef';

/** Runs `npm run loadtest` (the script itself) with a few peers for a few seconds; resolves with its last line. */
function loadtest(args: string[], env: Record<string, string> = {}): Promise<{ code: number; lines: string[] }> {
	return new Promise((resolve) => {
		execFile(process.execPath, ['--import', 'tsx', path.join(PROJECT_DIR, 'scripts', 'loadtest.ts'),
			'--scenario', 'broadcast', '--step-size', '3', '--max-steps', '2', '--settle-seconds', '2.5', '--window-seconds', '3',
			'--sample-every', '2', '--json', ...args], {
			cwd: PROJECT_DIR, env: { ...process.env, ...env }, timeout: 60_000,
		}, (error, stdout) => resolve({ code: error ? Number(error.code ?? 1) : 0, lines: stdout.trim().split('\n') }));
	});
}

// A smoke test of the load generator: real signaling, plain SRTP publishers,
// WebRTC receivers through the worker's WebRtcServer (or plain ones with
// --transport plain) and forwarding, two small steps. The measurements themselves are in
// docs/capacity.md and never run here. NOTE: a publisher starts within 2 s and
// new video consumers forward from its next key frame (2 s apart): hence the
// settle time. The window is 3 s: the worker's CPU is read in 10 ms ticks of
// /proc, and 12 consumers cost about 1 % of a core, so a 1 s window read 0 once
// in CI, and then no consumers per core came out.
describe('npm run loadtest', () => {
	let node: TestNode;

	beforeAll(async () => {
		node = await startTestNode({ media: { workers: 1 }, auth: { secret: SECRET } });
	});
	afterAll(async () => {
		await node.close();
	});

	test('drives a node: consumers forward without loss, and --json ends with the result', async () => {
		const { code, lines } = await loadtest(['--url', node.url], { SWITCHYARD_AUTH_SECRET: SECRET });
		expect(code).toBe(0);
		const result = JSON.parse(lines.at(-1)!) as RunResult;
		expect(result.steps).toHaveLength(2);
		for (const step of result.steps) {
			expect(step.consumers).toBe(step.expectedConsumers);
			expect(step.packetsPerSecond).toBeGreaterThan(0);
			expect(step.loss).toBeLessThan(0.01);
		}
		expect(result.steps[1]!.consumers).toBe(12);
		expect(result).toHaveProperty('consumersPerCore');
		// WebRTC receivers: their reports and NACKs reached the node, which retransmitted.
		expect(result.receivers).toMatchObject({ transport: 'webrtc', authFailures: 0 });
		expect(result.receivers!.receiverReports).toBeGreaterThan(0);
		expect(result.receivers!.retransmissions).toBeGreaterThan(0);
		// Every peer left: the node holds nothing of the load test.
		expect(node.pool.workers[0]!.load.transports).toBe(0);
	}, 90_000);

	test('--transport plain: receivers are plain transports to the sink', async () => {
		const { code, lines } = await loadtest(['--url', node.url, '--transport', 'plain'], { SWITCHYARD_AUTH_SECRET: SECRET });
		expect(code).toBe(0);
		const result = JSON.parse(lines.at(-1)!) as RunResult;
		expect(result.receivers).toEqual({ transport: 'plain' });
		expect(result.steps.map((s) => s.consumers)).toEqual([6, 12]);
		expect(result.steps.every((s) => s.packetsPerSecond > 0 && s.loss < 0.01)).toBe(true);
	}, 90_000);

	test('without the node\'s secret it refuses to start', async () => {
		const { code } = await loadtest(['--url', node.url], { SWITCHYARD_AUTH_SECRET: '' });
		expect(code).toBe(1);
	}, 30_000);

	test('--bare drives a mediasoup worker of its own', async () => {
		const { code, lines } = await loadtest(['--bare']);
		expect(code).toBe(0);
		const result = JSON.parse(lines.at(-1)!) as RunResult;
		expect(result.receivers?.transport).toBe('webrtc');
		expect(result.steps.map((s) => s.consumers)).toEqual([6, 12]);
		expect(result.steps.every((s) => s.packetsPerSecond > 0)).toBe(true);
	}, 90_000);
});

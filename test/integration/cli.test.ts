import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pollUntil } from '../helpers/poll';
import { findFreePorts } from '../helpers/ports';
import { startMain } from '../helpers/child';

describe('the switchyard process', () => {
	test.each([
		['a port out of range', { PORT: '70000' }, 'http.port: expected a port from 1 to 65535, got 70000 (from env PORT)'],
		['a non-numeric PORT', { PORT: 'abc' }, 'http.port: expected a port number, got "abc" (from env PORT)'],
		['an unknown log level', { SWITCHYARD_LOG_LEVEL: 'chatty' }, 'log.level: expected one of'],
		['a negative worker count', { SWITCHYARD_MEDIA_WORKERS: '-2' }, 'media.workers: expected "auto" or a whole number from 1 to 256, got -2'],
	])('refuses to start with %s: clear message, non-zero exit', async (_what, env, message) => {
		const main = startMain([], env);
		expect(await main.exited).toBe(1);
		expect(main.output()).toContain('switchyard: invalid configuration:');
		expect(main.output()).toContain(message);
	});

	test('--print-config prints the effective config as JSON', async () => {
		const main = startMain(['--print-config'], { SWITCHYARD_MEDIA_WORKERS: '3', PORT: '3456' });
		expect(await main.exited).toBe(0);
		const printed = JSON.parse(main.output());
		expect(printed.http.port).toBe(3456);
		expect(printed.media.workers).toBe(3);
	});

	test('--print-config and a refused store.url never show the PostgreSQL password', async () => {
		const url = 'postgres://fleet:hunter2-in-the-url@db.example.org:5432/switchyard';
		const printing = startMain(['--print-config'], { SWITCHYARD_STORE_URL: url });
		expect(await printing.exited).toBe(0);
		expect(JSON.parse(printing.output()).store.url).toBe('[redacted]');
		expect(printing.output()).not.toContain('hunter2');
		const refused = startMain([], { SWITCHYARD_STORE_URL: 'mysql://fleet:hunter2@db/switchyard' });
		expect(await refused.exited).toBe(1);
		expect(refused.output()).toContain('store.url: expected a postgres:// URL, got [redacted] (from env SWITCHYARD_STORE_URL)');
		expect(refused.output()).not.toContain('hunter2');
	});

	test('an unreachable PostgreSQL: the node gives up after store.startupTimeoutSeconds, naming the server but not the password', async () => {
		// A free loopback port with nobody listening: every connection is refused.
		const [httpPort, nobody] = [await findFreePorts(2), await findFreePorts(1)];
		const started = Date.now();
		const main = startMain([], {
			PORT: String(httpPort), MEDIA_PORT: String(httpPort + 1), SWITCHYARD_MEDIA_WORKERS: '1',
			SWITCHYARD_STORE_URL: `postgres://fleet:hunter2-secret@127.0.0.1:${nobody}/switchyard`, SWITCHYARD_STORE_STARTUP_TIMEOUT_SECONDS: '2',
		});
		expect(await main.exited).toBe(1);
		expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
		expect(main.output()).toContain(`cannot open the PostgreSQL store at fleet@127.0.0.1:${nobody}/switchyard within 2 s: connect ECONNREFUSED`);
		expect(main.output()).toContain('store not reachable yet');
		expect(main.output()).not.toContain('hunter2');
	});

	test('an unknown argument is refused', async () => {
		const main = startMain(['--frobnicate'], {});
		expect(await main.exited).toBe(1);
		expect(main.output()).toContain('unknown argument --frobnicate');
	});

	test('starts, serves /healthz and /readyz, and exits 0 on SIGTERM', async () => {
		// Consecutive ports from one search: two searches at once may pick the same port.
		const httpPort = await findFreePorts(3);
		const mediaPort = httpPort + 1;
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-cli-'));
		const main = startMain([], {
			PORT: String(httpPort), MEDIA_PORT: String(mediaPort), SWITCHYARD_MEDIA_WORKERS: '2',
			SWITCHYARD_STORE_PATH: path.join(dir, 'switchyard.db'),
		});
		try {
			const ready = await pollUntil('/readyz 200', async () => {
				const res = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
				return res.status === 200 && (await res.json() as { workers: unknown[] });
			}, { timeoutMs: 15000, intervalMs: 100 });
			expect(ready.workers).toHaveLength(2);
			expect((await fetch(`http://127.0.0.1:${httpPort}/healthz`)).status).toBe(200);
		} finally {
			main.child.kill('SIGTERM');
		}
		expect(await main.exited).toBe(0);
		expect(main.output()).toContain('stopped');
		expect(fs.existsSync(path.join(dir, 'switchyard.db'))).toBe(true);
		fs.rmSync(dir, { recursive: true, force: true });
	});
});

import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startMain } from '../helpers/child';
import { startTestNode, type TestNode } from '../helpers/node';
import { pollUntil } from '../helpers/poll';
import { findFreePorts } from '../helpers/ports';

const tokenRequest = (url: string, headers: Record<string, string> = {}) => fetch(`${url}/api/dev/token`, {
	method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify({ name: 'Ada' }),
});

/** A token request from another loopback address (fetch cannot choose its own). */
function tokenRequestFrom(url: string, localAddress: string): Promise<number> {
	return new Promise((resolve, reject) => {
		const req = http.request(`${url}/api/dev/token`, { method: 'POST', localAddress, headers: { 'Content-Type': 'application/json' } }, (res) => {
			res.resume();
			resolve(res.statusCode ?? 0);
		});
		req.on('error', reject);
		req.end(JSON.stringify({ name: 'Bo' }));
	});
}

/** What a route that is not mounted answers, to compare the dev route's refusals with. */
async function unmounted(url: string): Promise<{ status: number; body: unknown }> {
	const res = await fetch(`${url}/api/dev/nothing-here`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
	return { status: res.status, body: await res.json() };
}

// auth.dev "auto" as the process resolves it (src/main.ts): a node of its own
// per case, asked for a dev token once it is ready.
describe('auth.dev auto at startup', () => {
	async function start(env: NodeJS.ProcessEnv): Promise<{ url: string; output: () => string; stop: () => Promise<void> }> {
		const httpPort = await findFreePorts(2);
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-dev-'));
		const main = startMain([], {
			PORT: String(httpPort), MEDIA_PORT: String(httpPort + 1), SWITCHYARD_MEDIA_WORKERS: '1',
			SWITCHYARD_STORE_PATH: path.join(dir, 'switchyard.db'), ...env,
		});
		const url = `http://127.0.0.1:${httpPort}`;
		const stop = async () => {
			main.child.kill('SIGTERM');
			await main.exited;
			fs.rmSync(dir, { recursive: true, force: true });
		};
		try {
			await pollUntil('/readyz 200', async () => (await fetch(`${url}/readyz`)).status === 200, { timeoutMs: 20000, intervalMs: 100 });
		} catch (error) {
			await stop();
			throw new Error(`${(error as Error).message}\n${main.output()}`);
		}
		return { url, output: main.output, stop };
	}

	test('on loopback with no proxy: on, and a warning line says so', async () => {
		const node = await start({});
		try {
			expect((await tokenRequest(node.url)).status).toBe(200);
			expect(node.output()).toMatch(/warn \[http\] dev mode is on/);
		} finally {
			await node.stop();
		}
	});

	test.each([
		['http.trustProxy 1 (behind the documented reverse proxy)', { SWITCHYARD_HTTP_TRUST_PROXY: '1' }],
		['http.trustProxy true', { SWITCHYARD_HTTP_TRUST_PROXY: 'true' }],
		['NODE_ENV=production', { NODE_ENV: 'production' }],
	])('with %s: off, the route is not there, no warning', async (_what, env) => {
		const node = await start({ SWITCHYARD_AUTH_SECRET: 's'.repeat(32), ...env });
		try {
			const res = await tokenRequest(node.url);
			expect({ status: res.status, body: await res.json() }).toEqual(await unmounted(node.url));
			expect(res.status).toBe(404);
			expect(node.output()).not.toContain('dev mode is on');
			expect(node.output()).toMatch(/"?dev"?: ?false/);
		} finally {
			await node.stop();
		}
	});
});

describe('the dev token route while dev mode is on', () => {
	let node: TestNode;
	beforeAll(async () => {
		// The default limit (10 a minute), not the test nodes' raised one.
		node = await startTestNode({ media: { workers: 1 }, auth: { devTokensPerMinute: 10 } });
	});
	afterAll(() => node.close());

	test('startup logged a warning line', () => {
		expect(node.logLines()).toContainEqual(expect.objectContaining({ level: 'warn', message: 'dev mode is on', module: 'http' }));
	});

	test('a request through a proxy gets the 404 of an unmounted route; then 10 a minute per address, the 11th 429', async () => {
		const notThere = await unmounted(node.url);
		expect(notThere.status).toBe(404);
		const proxied: Record<string, string>[] = [
			{ 'X-Forwarded-For': '127.0.0.1' },
			{ 'X-Forwarded-For': '203.0.113.9, 127.0.0.1' },
			{ Forwarded: 'for=203.0.113.9' },
			{ 'X-Real-IP': '127.0.0.1' },
			{ 'X-Forwarded-Host': 'call.example.org' },
		];
		for (const headers of proxied) {
			const res = await tokenRequest(node.url, headers);
			expect({ headers, status: res.status, body: await res.json() }).toEqual({ headers, ...notThere });
		}
		// The refused requests did not count: ten tokens, then 429.
		for (let i = 0; i < 10; i++) {
			expect((await tokenRequest(node.url)).status).toBe(200);
		}
		const over = await tokenRequest(node.url);
		expect(over.status).toBe(429);
		expect(await over.json()).toMatchObject({ error: { code: 'rate_limited' } });
		expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
		// Per address: another loopback address still gets its tokens.
		expect(await tokenRequestFrom(node.url, '127.0.0.2')).toBe(200);
	});
});

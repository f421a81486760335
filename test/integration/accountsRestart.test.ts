import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startMain } from '../helpers/child';
import { pollUntil } from '../helpers/poll';
import { findFreePorts } from '../helpers/ports';

// Each test starts the node as a child process twice.
jest.setTimeout(120_000);

type Node = Awaited<ReturnType<typeof start>>;

async function start(dbFile: string) {
	// Two consecutive ports from one search: two searches at once may pick the same port.
	const httpPort = await findFreePorts(2);
	const mediaPort = httpPort + 1;
	const main = startMain([], {
		PORT: String(httpPort), MEDIA_PORT: String(mediaPort), SWITCHYARD_MEDIA_WORKERS: '1', SWITCHYARD_STORE_PATH: dbFile,
		SWITCHYARD_AUTH_SECRET: 'a-fixed-secret-for-the-restart-test-0123', SWITCHYARD_ACCOUNTS_SCRYPT_COST: '1024',
		SWITCHYARD_ACCOUNTS_SIGNUPS_PER_HOUR: '100000', SWITCHYARD_ACCOUNTS_LOGINS_PER_MINUTE: '100000',
	});
	const url = `http://127.0.0.1:${httpPort}`;
	// NOTE: a generous deadline: the child compiles the sources with tsx, and the rest of the suite shares the 2 cores.
	await pollUntil('ready', async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200, { timeoutMs: 45000, intervalMs: 100 }).catch((error: Error) => {
		throw new Error(`${error.message}\n${main.output().slice(-4000)}`);
	});
	const call = async (method: string, route: string, body?: unknown, token?: string) => {
		const res = await fetch(`${url}${route}`, {
			method,
			headers: { ...(body ? { 'Content-Type': 'application/json' } : {}), ...(token ? { Authorization: `Bearer ${token}` } : {}) },
			body: body ? JSON.stringify(body) : undefined,
		});
		const text = await res.text();
		return { status: res.status, body: text ? JSON.parse(text) : undefined };
	};
	return { main, url, call };
}

describe('accounts survive restarts and crashes (real process, real SQLite file)', () => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-restart-'));
	const db = path.join(dir, 'switchyard.db');
	let node: Node | undefined;
	afterEach(() => {
		node?.main.child.kill('SIGKILL');
	});
	afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

	test('SIGTERM and start again: accounts, settings and relations are all there', async () => {
		node = await start(db);
		const ada = await node.call('POST', '/api/auth/signup', { handle: 'ada', password: 'ada password', displayName: 'Ada' });
		await node.call('POST', '/api/auth/signup', { handle: 'bob', password: 'bob password', displayName: 'Bob' });
		await node.call('PATCH', '/api/me/settings', { discoverable: false, calls: { allowFrom: { everyone: true } } }, ada.body.token);
		await node.call('PUT', '/api/me/contacts/bob', undefined, ada.body.token);
		await node.call('PUT', '/api/me/blocks/bob', undefined, ada.body.token);
		node.main.child.kill('SIGTERM');
		expect(await node.main.exited).toBe(0);

		node = await start(db);
		const login = await node.call('POST', '/api/auth/login', { handle: 'ada', password: 'ada password' });
		expect(login.status).toBe(200);
		const token = login.body.token as string;
		expect((await node.call('GET', '/api/me/settings', undefined, token)).body).toMatchObject({ discoverable: false, calls: { allowFrom: { everyone: true } } });
		expect((await node.call('GET', '/api/me/contacts', undefined, token)).body.users.map((u: { handle: string }) => u.handle)).toEqual(['bob']);
		expect((await node.call('GET', '/api/me/blocks', undefined, token)).body.users.map((u: { handle: string }) => u.handle)).toEqual(['bob']);
		// A token issued before the restart still works (same secret, session in the store).
		expect((await node.call('GET', '/api/me', undefined, ada.body.token)).status).toBe(200);
	});

	test('kill -9 during a burst of writes loses none of the acknowledged ones', async () => {
		// This shows that an acknowledgement follows the commit: better-sqlite3 runs
		// each statement synchronously before the route answers, and the database
		// is in WAL mode with synchronous=FULL, so an acknowledged write is on disk.
		node = await start(db);
		await node.call('POST', '/api/auth/signup', { handle: 'owner', password: 'owner password', displayName: 'Owner' });
		const acknowledged: string[] = [];
		let killed = false;
		const writes = Array.from({ length: 300 }, (_, i) => `burst_${i}`);
		let next = 0;
		const worker = async () => {
			while (next < writes.length && !killed) {
				const handle = writes[next++]!;
				try {
					const res = await node!.call('POST', '/api/auth/signup', { handle, password: 'burst password', displayName: handle });
					if (res.status === 201) {
						acknowledged.push(handle);
						if (acknowledged.length >= 100 && !killed) {
							killed = true;
							node!.main.child.kill('SIGKILL');
						}
					}
				} catch {
					// The process died under this request: not acknowledged.
				}
			}
		};
		await Promise.all(Array.from({ length: 20 }, worker));
		await node.main.exited;
		expect(acknowledged.length).toBeGreaterThanOrEqual(100);
		expect(acknowledged.length).toBeLessThan(300);

		node = await start(db);
		for (const handle of acknowledged) {
			const res = await node.call('POST', '/api/auth/login', { handle, password: 'burst password' });
			expect([handle, res.status]).toEqual([handle, 200]);
		}
		expect((await node.call('POST', '/api/auth/login', { handle: 'owner', password: 'owner password' })).status).toBe(200);
	}, 60_000);
});

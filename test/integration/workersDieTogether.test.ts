import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startMain } from '../helpers/child';
import { MediaClient } from '../helpers/mediaClient';
import { pollUntil } from '../helpers/poll';
import { findFreePorts } from '../helpers/ports';
import { SignalingClient } from '../helpers/signalingClient';

type Readyz = { status: string; workers: { index: number; pid?: number; state: string }[] };

/**
 * Every worker dying at once during a call must not end the process: the
 * room's speaker observer is restarted on a router whose worker is dead too,
 * and that rejection (or any other) is logged, never fatal. Runs the real
 * process, since an unhandled rejection ends a node process but not a jest test.
 */
describe('both workers killed at once during a call', () => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-workers-die-'));
	afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

	test('the process keeps serving, the workers come back, the call rebuilds and its media flows', async () => {
		const httpPort = await findFreePorts(3);
		const url = `http://127.0.0.1:${httpPort}`;
		const main = startMain([], {
			PORT: String(httpPort), MEDIA_PORT: String(httpPort + 1), SWITCHYARD_MEDIA_WORKERS: '2',
			SWITCHYARD_STORE_PATH: path.join(dir, 'db.sqlite'),
			// Every peer after the first gets a router on the other worker: the room spans both.
			SWITCHYARD_ROOMS_ROUTER_CONSUMER_LIMIT: '0',
		});
		const parties: { signaling: SignalingClient; media: MediaClient }[] = [];
		const readyz = async () => (await fetch(`${url}/readyz`)).json() as Promise<Readyz>;
		try {
			await pollUntil('ready', async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200, { timeoutMs: 45000, intervalMs: 100 });
			for (const name of ['ann', 'bob']) {
				const res = await fetch(`${url}/api/dev/token`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name, room: 'both' }) });
				const signaling = await SignalingClient.connect(url, { token: (await res.json() as { token: string }).token });
				const media = await MediaClient.create(signaling);
				await media.join('both');
				await media.produceSynthetic({ audio: true, video: { width: 160, height: 90 } });
				parties.push({ signaling, media });
			}
			const bytes = async (media: MediaClient) => (await media.inboundStats()).reduce((sum, s) => sum + s.bytesReceived, 0);
			for (const { media } of parties) {
				await pollUntil('media flows', async () => (await bytes(media)) > 0, { timeoutMs: 15000, intervalMs: 200 });
			}

			const pids = (await readyz()).workers.map((w) => w.pid!);
			expect(pids).toHaveLength(2);
			for (const pid of pids) {
				process.kill(pid, 'SIGKILL');
			}

			await pollUntil('workers replaced', async () => {
				const { status, workers } = await readyz();
				return status === 'ready' && workers.every((w) => w.state === 'up' && w.pid !== undefined && !pids.includes(w.pid));
			}, { timeoutMs: 15000, intervalMs: 100 });
			expect(main.child.exitCode).toBeNull();
			expect((await fetch(`${url}/healthz`)).status).toBe(200);

			// The call comes back: each side rebuilds, as on session.reconnect.
			for (const { media } of parties) {
				await media.rebuild();
			}
			for (const { media } of parties) {
				const before = await bytes(media);
				await pollUntil('media flows again', async () => (await bytes(media)) > before, { timeoutMs: 15000, intervalMs: 200 });
			}
			expect(main.child.exitCode).toBeNull();
		} catch (error) {
			process.stderr.write(`node output:\n${main.output().slice(-4000)}\n`);
			throw error;
		} finally {
			for (const { signaling, media } of parties) {
				await media.close();
				signaling.disconnect();
			}
			main.child.kill('SIGKILL');
			await main.exited;
		}
	});
});

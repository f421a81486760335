import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startMain } from '../helpers/child';
import { MediaClient } from '../helpers/mediaClient';
import { pollUntil } from '../helpers/poll';
import { findFreePorts } from '../helpers/ports';
import { SignalingClient } from '../helpers/signalingClient';

type Party = { signaling: SignalingClient; media: MediaClient };

describe('graceful drain of the real process', () => {
	const dirs: string[] = [];
	afterAll(() => dirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

	async function startNode(drainSeconds: number) {
		// Consecutive ports from one search: two searches at once may pick the same port.
		const httpPort = await findFreePorts(2);
		const mediaPort = httpPort + 1;
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-drain-'));
		dirs.push(dir);
		const main = startMain([], {
			PORT: String(httpPort), MEDIA_PORT: String(mediaPort), SWITCHYARD_MEDIA_WORKERS: '1',
			SWITCHYARD_STORE_PATH: path.join(dir, 'db.sqlite'), SWITCHYARD_DRAIN_TIMEOUT_SECONDS: String(drainSeconds),
			SWITCHYARD_ROOMS_EMPTY_CLOSE_GRACE_MS: '100',
		});
		const url = `http://127.0.0.1:${httpPort}`;
		await pollUntil('ready', async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200, { timeoutMs: 20000, intervalMs: 100 });
		return { main, url };
	}

	async function party(url: string, name: string, room: string): Promise<Party> {
		const res = await fetch(`${url}/api/dev/token`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name, room }) });
		const { token } = await res.json() as { token: string };
		const signaling = await SignalingClient.connect(url, { token });
		const media = await MediaClient.create(signaling);
		await media.join(room);
		await media.produceSynthetic({ audio: true, video: { width: 160, height: 90 } });
		return { signaling, media };
	}

	async function bytesOf(media: MediaClient): Promise<number> {
		return (await media.inboundStats()).reduce((sum, s) => sum + s.bytesReceived, 0);
	}

	test('SIGTERM: /readyz 503 at once, new joins get draining, the call keeps its media until it leaves, exit 0', async () => {
		const { main, url } = await startNode(60);
		const parties = [await party(url, 'ann', 'drain'), await party(url, 'bob', 'drain')];
		try {
			await pollUntil('media flows', async () => (await bytesOf(parties[1]!.media)) > 0, { timeoutMs: 15000, intervalMs: 200 });

			const signalled = Date.now();
			main.child.kill('SIGTERM');
			await pollUntil('/readyz 503', async () => (await fetch(`${url}/readyz`)).status === 503, { timeoutMs: 1000, intervalMs: 20 });
			expect(Date.now() - signalled).toBeLessThan(1000);
			expect(await (await fetch(`${url}/readyz`)).json()).toMatchObject({ reason: 'draining' });

			const res = await fetch(`${url}/api/dev/token`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'late', room: 'other' }) });
			const late = await SignalingClient.connect(url, { token: (await res.json() as { token: string }).token });
			const { routerRtpCapabilities } = await late.request('media.capabilities', {});
			await expect(late.request('room.join', { roomId: 'other', rtpCapabilities: routerRtpCapabilities as never })).rejects.toMatchObject({ code: 'draining' });
			late.disconnect();

			// The running call goes on.
			const before = await bytesOf(parties[1]!.media);
			await pollUntil('media still flows while draining', async () => (await bytesOf(parties[1]!.media)) > before, { timeoutMs: 5000, intervalMs: 200 });
			expect(main.child.exitCode).toBeNull();

			for (const { signaling } of parties) {
				await signaling.request('room.leave', {});
			}
			expect(await main.exited).toBe(0);
		} finally {
			for (const { signaling, media } of parties) {
				await media.close();
				signaling.disconnect();
			}
			main.child.kill('SIGKILL');
		}
	});

	test('a call that does not end: exit 0 at the drain timeout', async () => {
		const { main, url } = await startNode(2);
		const parties = [await party(url, 'cat', 'forever'), await party(url, 'dan', 'forever')];
		try {
			const signalled = Date.now();
			main.child.kill('SIGTERM');
			expect(await main.exited).toBe(0);
			const took = Date.now() - signalled;
			expect(took).toBeGreaterThanOrEqual(1900);
			expect(took).toBeLessThan(10000);
			expect(main.output()).toContain('"drained":false');
		} finally {
			for (const { signaling, media } of parties) {
				await media.close();
				signaling.disconnect();
			}
			main.child.kill('SIGKILL');
		}
	});
});

/**
 * A Switchyard node for a measurement: `node --import tsx src/main.ts` on free
 * loopback ports, one worker, a random auth.secret (returned: the load test
 * signs its tokens with it), a temporary store, and the per-address and
 * per-room limits raised (every load-test peer connects from 127.0.0.1, and
 * the broadcast scenario puts hundreds of peers in one room).
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startMain } from '../../test/helpers/child';
import { findFreePorts, freeTcpPort } from '../../test/helpers/ports';

export type StartedNode = { url: string; secret: string; env: Record<string, string>; stop(): Promise<number | null> };

/** Starts the node with its process pinned to `core` (the worker is pinned by the load test), and waits for /readyz. */
export async function startNode({ core, targetCpu }: { core?: number; targetCpu: number }): Promise<StartedNode> {
	const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-capacity-'));
	const secret = randomBytes(24).toString('base64url');
	const env: Record<string, string> = {
		PORT: String(await freeTcpPort()),
		MEDIA_PORT: String(await findFreePorts(1)),
		SWITCHYARD_AUTH_SECRET: secret,
		SWITCHYARD_MEDIA_WORKERS: '1',
		SWITCHYARD_LOG_LEVEL: 'warn',
		SWITCHYARD_STORE_PATH: path.join(tempDir, 'switchyard.db'),
		SWITCHYARD_SIGNALING_CONNECTIONS_PER_IP: '5000',
		SWITCHYARD_ROOMS_MAX_PEERS: '1000',
		SWITCHYARD_ROOMS_MAX_ROOMS: '1000',
		SWITCHYARD_METRICS_TARGET_CPU: String(targetCpu),
	};
	const { child, output, exited } = startMain([], env);
	if (core !== undefined) {
		execFileSync('taskset', ['-a', '-p', '-c', String(core), String(child.pid)], { stdio: 'ignore' });
	}
	const url = `http://127.0.0.1:${env.PORT}`;
	const stop = async () => {
		child.kill('SIGTERM');
		const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
		const code = await exited;
		clearTimeout(timer);
		fs.rmSync(tempDir, { recursive: true, force: true });
		return code;
	};
	const deadline = Date.now() + 60_000;
	while (Date.now() < deadline) {
		if (child.exitCode !== null) {
			throw new Error(`the node exited with ${child.exitCode}:\n${output().slice(-2000)}`);
		}
		const ready = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) }).then((r) => r.status === 200, () => false);
		if (ready) {
			return { url, secret, env, stop };
		}
		await new Promise((resolve) => setTimeout(resolve, 200));
	}
	await stop();
	throw new Error(`${url}/readyz never answered 200:\n${output().slice(-2000)}`);
}

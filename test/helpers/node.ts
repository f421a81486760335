import type { AddressInfo } from 'node:net';
import type { Config } from '../../src/config';
import { createNode, type SwitchyardNode } from '../../src/node';
import type { Clock } from '../../src/util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { testConfig } from './config';
import { testLogger } from './logger';
import { findFreePorts } from './ports';
import { freshDatabase } from './postgres';

export type TestNode = SwitchyardNode & {
	config: Config;
	/**
	 * The SQLite file of this node (in a temporary folder removed on close unless given);
	 * unused when the node is on PostgreSQL (store.url).
	 */
	storePath: string;
	url: string;
	logLines: () => Record<string, unknown>[];
};

/**
 * A whole node in-process: real workers on free ports, HTTP on port 0 of
 * 127.0.0.1. In dev mode unless `dev` is false (main.ts resolves it from the
 * config: resolveDevMode). `clock`: the calls' clock (a FakeClock, so that a
 * ring times out when the test says). `publicDir`: a build of the web client
 * to serve instead of dist/public. In jest's `postgres` project
 * (SWITCHYARD_TEST_STORE=postgres) a node given no store of its own keeps its
 * accounts in a fresh database of the run's PostgreSQL, dropped on close.
 */
export async function startTestNode(
	overrides: Parameters<typeof testConfig>[0] = {},
	{ dev = true, clock, publicDir }: { dev?: boolean; clock?: Clock; publicDir?: string } = {},
): Promise<TestNode> {
	const workers = typeof overrides.media?.workers === 'number' ? overrides.media.workers : 2;
	const port = await findFreePorts(workers);
	const tempDir = overrides.store?.path ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-store-'));
	const storePath = overrides.store?.path ?? path.join(tempDir!, 'switchyard.db');
	const onPostgres = process.env.SWITCHYARD_TEST_STORE === 'postgres' && !overrides.store?.path && !overrides.store?.url;
	const database = onPostgres ? await freshDatabase() : undefined;
	const config = testConfig({
		...overrides,
		media: { workers, port, ...overrides.media },
		store: { ...overrides.store, path: storePath, ...(database ? { url: database.url } : {}) },
		// NOTE: a cheap scrypt keeps account tests fast, and tests that open many
		// connections from 127.0.0.1 or send bursts are not the ones about limits
		// (test/integration/limits.test.ts sets its own); production uses the defaults.
		accounts: { scryptCost: 1024, ...overrides.accounts },
		auth: { devTokensPerMinute: 10_000, ...overrides.auth },
		signaling: { messagesPerSecond: 10_000, connectionsPerIp: 10_000, ...overrides.signaling },
	});
	const { logger, lines } = testLogger(config.log.level);
	const node = await createNode(config, logger, { dev, clock, publicDir });
	const { app } = node;
	await new Promise<void>((resolve) => app.httpServer.listen(0, '127.0.0.1', resolve));
	const { port: httpPort } = app.httpServer.address() as AddressInfo;
	return {
		...node,
		config,
		storePath,
		url: `${config.http.tlsCertFile ? 'https' : 'http'}://127.0.0.1:${httpPort}`,
		logLines: lines,
		async close() {
			await node.close();
			await database?.drop();
			if (tempDir) {
				fs.rmSync(tempDir, { recursive: true, force: true });
			}
		},
	};
}

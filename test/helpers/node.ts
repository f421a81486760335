import type { AddressInfo } from 'node:net';
import { buildApp, type App } from '../../src/app';
import type { Config } from '../../src/config';
import { WorkerPool } from '../../src/media';
import { createMetrics, type Metrics } from '../../src/metrics';
import { TokenService } from '../../src/auth';
import { RoomRegistry } from '../../src/rooms';
import { AccountService } from '../../src/accounts';
import { CallService, Presence, followAccountChanges } from '../../src/calls';
import { SqliteStore } from '../../src/store';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { testConfig } from './config';
import { testLogger } from './logger';
import { findFreePorts } from './ports';

export type TestNode = {
	app: App;
	pool: WorkerPool;
	metrics: Metrics;
	tokens: TokenService;
	registry: RoomRegistry;
	accounts: AccountService;
	calls: CallService;
	presence: Presence;
	store: SqliteStore;
	/** The SQLite file of this node (in a temporary folder removed on close unless given). */
	storePath: string;
	config: Config;
	url: string;
	logLines: () => Record<string, unknown>[];
	close(): Promise<void>;
};

/** A whole node in-process: real workers on free ports, HTTP on port 0 of 127.0.0.1. */
export async function startTestNode(overrides: Parameters<typeof testConfig>[0] = {}): Promise<TestNode> {
	const workers = typeof overrides.media?.workers === 'number' ? overrides.media.workers : 2;
	const port = await findFreePorts(workers);
	const tempDir = overrides.store?.path ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-store-'));
	const storePath = overrides.store?.path ?? path.join(tempDir!, 'switchyard.db');
	const config = testConfig({
		...overrides,
		media: { workers, port, ...overrides.media },
		store: { path: storePath },
		// NOTE: a cheap scrypt keeps account tests fast, and tests that open many
		// connections from 127.0.0.1 or send bursts are not the ones about limits
		// (test/integration/limits.test.ts sets its own); production uses the defaults.
		accounts: { scryptCost: 1024, ...overrides.accounts },
		signaling: { messagesPerSecond: 10_000, connectionsPerIp: 10_000, ...overrides.signaling },
	});
	const { logger, lines } = testLogger(config.log.level);
	const pool = await WorkerPool.start({ config: config.media, logger });

	const tokens = await TokenService.create(config.auth, { dev: true });
	const registry = new RoomRegistry({ pool, config, logger });
	const store = SqliteStore.open(storePath);
	const accounts = new AccountService({ store, tokens, config, logger });
	const presence = new Presence();
	const calls = new CallService({ store, presence, tokens, config: config.calls, logger });
	followAccountChanges(accounts, calls);
	const metrics = createMetrics({ pool, registry, calls, config: config.metrics });
	const app = buildApp({ config, logger, pool, metrics, tokens, accounts, calls, presence, registry, dev: true });
	await new Promise<void>((resolve) => app.httpServer.listen(0, '127.0.0.1', resolve));
	const { port: httpPort } = app.httpServer.address() as AddressInfo;
	return {
		app,
		pool,
		metrics,
		tokens,
		registry,
		accounts,
		calls,
		presence,
		store,
		storePath,
		config,
		url: `${config.http.tlsCertFile ? 'https' : 'http'}://127.0.0.1:${httpPort}`,
		logLines: lines,
		async close() {
			registry.close();
			calls.close();
			await app.close();
			metrics.close();
			await pool.close();
			await store.close();
			if (tempDir) {
				fs.rmSync(tempDir, { recursive: true, force: true });
			}
		},
	};
}

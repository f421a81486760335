import type { AddressInfo } from 'node:net';
import { buildApp, type App } from '../../src/app';
import type { Config } from '../../src/config';
import { WorkerPool } from '../../src/media';
import { createMetrics, type Metrics } from '../../src/metrics';
import { TokenService } from '../../src/auth';
import { RoomRegistry } from '../../src/rooms';
import { testConfig } from './config';
import { testLogger } from './logger';
import { findFreePorts } from './ports';

export type TestNode = {
	app: App;
	pool: WorkerPool;
	metrics: Metrics;
	tokens: TokenService;
	registry: RoomRegistry;
	config: Config;
	url: string;
	logLines: () => Record<string, unknown>[];
	close(): Promise<void>;
};

/** A whole node in-process: real workers on free ports, HTTP on port 0 of 127.0.0.1. */
export async function startTestNode(overrides: Parameters<typeof testConfig>[0] = {}): Promise<TestNode> {
	const workers = typeof overrides.media?.workers === 'number' ? overrides.media.workers : 2;
	const port = await findFreePorts(workers);
	const config = testConfig({ ...overrides, media: { workers, port, ...overrides.media } });
	const { logger, lines } = testLogger(config.log.level);
	const pool = await WorkerPool.start({ config: config.media, logger });
	const metrics = createMetrics({ pool });
	const tokens = await TokenService.create(config.auth, { dev: true });
	const registry = new RoomRegistry({ pool, config, logger });
	const app = buildApp({ config, logger, pool, metrics, tokens, registry, dev: true });
	await new Promise<void>((resolve) => app.httpServer.listen(0, '127.0.0.1', resolve));
	const { port: httpPort } = app.httpServer.address() as AddressInfo;
	return {
		app,
		pool,
		metrics,
		tokens,
		registry,
		config,
		url: `http://127.0.0.1:${httpPort}`,
		logLines: lines,
		async close() {
			registry.close();
			await app.close();
			metrics.close();
			await pool.close();
		},
	};
}

/**
 * Composition root: load the config, start the worker pool, build the app,
 * listen, and shut down on SIGTERM / SIGINT.
 */
import { once } from 'node:events';
import { AccountService } from './accounts';
import { buildApp } from './app';
import { CallService, Presence, followAccountChanges } from './calls';
import { resolveDevMode, TokenService } from './auth';
import { ConfigError, loadConfig, redactConfig, type Config } from './config';
import { bridgeMediasoupLogs, createLogger } from './logging';
import { natWarning, WorkerPool } from './media';
import { createMetrics } from './metrics';
import { RoomRegistry } from './rooms';
import { SqliteStore } from './store';

const USAGE = 'usage: switchyard [--print-config]';

async function main(argv: string[]): Promise<void> {
	const unknown = argv.filter((arg) => arg !== '--print-config');
	if (unknown.length > 0) {
		fail(`unknown argument ${unknown[0]}\n${USAGE}`);
	}

	let config: Readonly<Config>;
	try {
		config = loadConfig();
	} catch (error) {
		if (error instanceof ConfigError) {
			fail(error.message);
		}
		throw error;
	}

	if (argv.includes('--print-config')) {
		process.stdout.write(`${JSON.stringify(redactConfig(config), null, 2)}\n`);
		return;
	}

	const logger = createLogger({ ...config.log, nodeEnv: process.env.NODE_ENV });
	bridgeMediasoupLogs(logger);
	let dev: boolean;
	let tokens: TokenService;
	try {
		dev = resolveDevMode(config);
		tokens = await TokenService.create(config.auth, { dev });
	} catch (error) {
		fail((error as Error).message);
	}
	logger.info('starting', { config: redactConfig(config), dev, pid: process.pid, node: process.version });

	const nat = natWarning(config.media);
	if (nat) {
		logger.warn('media address unreachable from outside', { detail: nat });
	}
	const store = SqliteStore.open(config.store.path);
	const accounts = new AccountService({ store, tokens, config, logger });
	const presence = new Presence();
	const calls = new CallService({ store, presence, tokens, config: config.calls, logger });
	followAccountChanges(accounts, calls);
	const pool = await WorkerPool.start({ config: config.media, logger });
	const registry = new RoomRegistry({ pool, config, logger });
	const metrics = createMetrics({ pool, registry, calls, config: config.metrics });
	let app: ReturnType<typeof buildApp>;
	try {
		app = buildApp({ config, logger, pool, metrics, tokens, accounts, calls, presence, registry, dev });
	} catch (error) {
		await pool.close();
		fail(`cannot start the HTTP server: ${(error as Error).message}`);
	}

	app.httpServer.listen(config.http.port, config.http.host);
	await Promise.race([
		once(app.httpServer, 'listening'),
		once(app.httpServer, 'error').then(([error]) => {
			throw new Error(`cannot listen on ${config.http.host}:${config.http.port}: ${(error as Error).message}`);
		}),
	]).catch(async (error: Error) => {
		logger.error('startup failed', { error: error.message });
		await pool.close();
		process.exit(1);
	});
	logger.info('listening', { url: `${config.http.tlsCertFile ? 'https' : 'http'}://${config.http.host}:${config.http.port}` });

	// Graceful drain: /readyz turns 503 at once, new rooms and calls get
	// `draining`, running rooms go on until they empty or the timeout passes.
	let stopping = false;
	const stop = async (signal: string) => {
		if (stopping) {
			return;
		}
		stopping = true;
		logger.info('draining', { signal, rooms: registry.size, timeoutSeconds: config.drain.timeoutSeconds });
		calls.drain();
		let timer: NodeJS.Timeout | undefined;
		const drained = await Promise.race([
			registry.drain().then(() => true),
			new Promise<boolean>((resolve) => {
				timer = setTimeout(() => resolve(false), config.drain.timeoutSeconds * 1000);
			}),
		]);
		clearTimeout(timer);
		logger.info('stopping', { drained, rooms: registry.size });
		registry.close();
		calls.close();
		await app.close();
		metrics.close();
		await pool.close();
		await store.close();
		logger.info('stopped');
		process.exit(0);
	};
	process.on('SIGTERM', () => void stop('SIGTERM'));
	process.on('SIGINT', () => void stop('SIGINT'));
}

function fail(message: string): never {
	process.stderr.write(`switchyard: ${message}\n`);
	process.exit(1);
}

main(process.argv.slice(2)).catch((error: unknown) => {
	process.stderr.write(`switchyard: startup failed: ${(error as Error)?.stack ?? String(error)}\n`);
	process.exit(1);
});

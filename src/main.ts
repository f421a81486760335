/**
 * The process: load the config, build the node (src/node.ts), listen, and
 * drain and shut down on SIGTERM / SIGINT.
 */
import { once } from 'node:events';
import { resolveDevMode } from './auth';
import { ConfigError, loadConfig, redactConfig, type Config } from './config';
import { bridgeMediasoupLogs, createLogger } from './logging';
import { natWarning } from './media';
import { createNode, type SwitchyardNode } from './node';

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
	// NOTE: a promise that rejects with nobody waiting (a bug, not a client's
	// doing) is logged; it must never end the process and every call on it.
	process.on('unhandledRejection', (reason) => {
		logger.error('unhandled rejection', { error: reason instanceof Error ? reason : String(reason) });
	});
	let dev: boolean;
	try {
		dev = resolveDevMode(config, { nodeEnv: process.env.NODE_ENV });
	} catch (error) {
		fail((error as Error).message);
	}
	logger.info('starting', { config: redactConfig(config), dev, pid: process.pid, node: process.version });

	const nat = natWarning(config.media);
	if (nat) {
		logger.warn('media address unreachable from outside', { detail: nat });
	}
	let node: SwitchyardNode;
	try {
		node = await createNode(config, logger, { dev });
	} catch (error) {
		fail((error as Error).message);
	}
	const { httpServer } = node.app;
	httpServer.listen(config.http.port, config.http.host);
	await Promise.race([
		once(httpServer, 'listening'),
		once(httpServer, 'error').then(([error]) => {
			throw new Error(`cannot listen on ${config.http.host}:${config.http.port}: ${(error as Error).message}`);
		}),
	]).catch(async (error: Error) => {
		logger.error('startup failed', { error: error.message });
		await node.close();
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
		logger.info('draining', { signal, rooms: node.registry.size, timeoutSeconds: config.drain.timeoutSeconds });
		const drained = await node.drain(config.drain.timeoutSeconds);
		logger.info('stopping', { drained, rooms: node.registry.size });
		await node.close();
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

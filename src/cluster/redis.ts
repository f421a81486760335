import { Redis } from 'ioredis';
import { AppError } from '../errors';
import type { Logger } from '../logging';
import { describeUrl } from '../util';

/**
 * A connection to the fleet's Redis, not connected yet (`connect()`; a first
 * attempt that fails goes on in the background). It reconnects by itself (backoff up to
 * 2 s, for ever). NOTE: no offline queue and one try per command: while Redis
 * is away a command fails at once (`service_unavailable` through
 * `clusterUnavailable`) instead of waiting in memory for a Redis that may not
 * come back, and nothing is sent twice.
 */
export function createRedis(url: string, logger: Logger, name: string, { waitWhileAway = false } = {}): Redis {
	const redis = new Redis(url, {
		connectionName: `switchyard-${name}`,
		lazyConnect: true,
		// NOTE: `waitWhileAway`: for the connections that carry the fleet's messages (the bus's subscription,
		// socket.io's stream), whose commands must go out once Redis is back rather than fail.
		enableOfflineQueue: waitWhileAway,
		maxRetriesPerRequest: waitWhileAway ? null : 1,
		connectTimeout: 5000,
		retryStrategy: (times) => Math.min(2000, 100 * times),
	});
	let up = false;
	redis.on('ready', () => {
		up = true;
		logger.info('cluster redis connected', { connection: name, redis: describeUrl(url) });
	});
	// NOTE: without a listener an 'error' event would crash the process; ioredis reconnects by itself.
	redis.on('error', (error: Error) => {
		if (up) {
			logger.warn('cluster redis connection lost', { connection: name, error: error.message });
		}
		up = false;
	});
	return redis;
}

/** What cross-node work throws while Redis cannot answer: 503 `service_unavailable`. */
export function clusterUnavailable(cause: unknown): AppError {
	return new AppError('service_unavailable', 'the cluster is unavailable; try again shortly', { cause });
}

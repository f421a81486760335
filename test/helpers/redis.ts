import crypto from 'node:crypto';
import { REDIS_MISSING_ENV, REDIS_URL_ENV, startRedisProcess, type RedisProcess, type StartRedisOptions } from './redisServer';

/**
 * A Redis server of the caller's own, in a fresh temporary directory on
 * 127.0.0.1 (see redisServer.js for its settings): for a test that stops,
 * kills or restarts it. Destroy it in afterAll.
 */
/** A Redis server of a test's own (stop, start, kill, destroy). */
export type RedisServer = RedisProcess;

export function startRedis(options?: StartRedisOptions): Promise<RedisProcess> {
	return startRedisProcess(options);
}

/**
 * The run's one server (started by test/globalSetup.js), shared by every test
 * file: keep to a freshRedisPrefix() of your own. Do not stop it or FLUSHALL
 * it: a test that must wants startRedis(). Throws when the run has none.
 */
export function testRedis(): { url: string } {
	const url = process.env[REDIS_URL_ENV];
	if (!url) {
		const why = process.env[REDIS_MISSING_ENV] ?? `${REDIS_URL_ENV} is not set: jest ran without test/globalSetup.js (jest.config.js)`;
		throw new Error(`no Redis for this test run: ${why}`);
	}
	return { url };
}

/**
 * A key prefix no other test has, `t` and 12 hex digits and a colon (as
 * `t1a2b3c4d5e6f:`), that keeps test files apart on the run's one server.
 * NOTE: this only works if the Switchyard code under test puts a configured
 * prefix before every key it uses (and channel it publishes on); give it this one.
 */
export function freshRedisPrefix(): string {
	return `t${crypto.randomBytes(6).toString('hex')}:`;
}

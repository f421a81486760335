// jest.config.js's globalSetup: starts the run's one PostgreSQL server and its
// one Redis server, at once, and publishes their URLs to the test files (the
// workers inherit process.env); test/globalTeardown.js removes them. Without
// one of them the run goes on with a warning, and each test that wants it
// fails saying why (test/helpers/postgres.ts, test/helpers/redis.ts).
const fs = require('node:fs');
const { PG_MISSING_ENV, PG_URL_ENV, findPostgresBin, startPostgresProcess } = require('./helpers/postgresServer');
const { REDIS_MISSING_ENV, REDIS_URL_ENV, findRedisBin, startRedisProcess } = require('./helpers/redisServer');

/** The run's servers: where each is published, how it is found and started, its Debian package. */
const SERVERS = [
	{ name: 'PostgreSQL', slot: '__switchyardPostgres', urlEnv: PG_URL_ENV, missingEnv: PG_MISSING_ENV,
		find: findPostgresBin, start: startPostgresProcess, pkg: 'postgresql' },
	{ name: 'Redis', slot: '__switchyardRedis', urlEnv: REDIS_URL_ENV, missingEnv: REDIS_MISSING_ENV,
		find: findRedisBin, start: startRedisProcess, pkg: 'redis-server' },
];

module.exports = async function globalSetup() {
	const results = await Promise.allSettled(SERVERS.map(setUp));
	const failed = results.find((result) => result.status === 'rejected');
	if (failed) {
		// NOTE: the other may have started: remove it now rather than at exit.
		await Promise.allSettled(SERVERS.map(tearDown));
		throw failed.reason;
	}
};

/** Starts one server and publishes its URL; or, when its package is missing, says why in its missing variable. */
async function setUp({ name, slot, urlEnv, missingEnv, find, start, pkg }) {
	delete process.env[urlEnv];
	delete process.env[missingEnv];
	const found = find();
	if (!('bin' in found)) {
		process.env[missingEnv] = `globalSetup found ${found.missing}; run \`npm test\` as root so that it installs ${pkg}, or apt-get install ${pkg}`;
		process.stderr.write(`\n[globalSetup] warning: no ${name} for this run (${found.missing}): its tests will fail\n`);
		return;
	}
	const server = await start();
	// Only globalTeardown reads it (jest runs both in this process).
	globalThis[slot] = server;
	// NOTE: should jest exit without its teardown, no server outlives it.
	process.once('exit', () => {
		if (globalThis[slot] === server) {
			server.killSync();
			fs.rmSync(server.dir, { recursive: true, force: true });
		}
	});
	process.env[urlEnv] = server.url;
}

async function tearDown({ slot, urlEnv }) {
	const server = globalThis[slot];
	delete globalThis[slot];
	delete process.env[urlEnv];
	await server?.destroy();
}

module.exports.SERVERS = SERVERS;
module.exports.tearDown = tearDown;

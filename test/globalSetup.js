// jest.config.js's globalSetup: starts the run's one PostgreSQL server and
// publishes its admin URL to the test files (the workers inherit process.env);
// test/globalTeardown.js removes it. Without PostgreSQL the run goes on with a
// warning, and each PostgreSQL test fails saying why (test/helpers/postgres.ts).
const fs = require('node:fs');
const { PG_MISSING_ENV, PG_URL_ENV, findPostgresBin, startPostgresProcess } = require('./helpers/postgresServer');

module.exports = async function globalSetup() {
	delete process.env[PG_URL_ENV];
	delete process.env[PG_MISSING_ENV];
	const found = findPostgresBin();
	if (!('bin' in found)) {
		process.env[PG_MISSING_ENV] = `globalSetup found ${found.missing}; run \`npm test\` as root so that it installs postgresql, or apt-get install postgresql`;
		process.stderr.write(`\n[globalSetup] warning: no PostgreSQL for this run (${found.missing}): its tests will fail\n`);
		return;
	}
	const server = await startPostgresProcess();
	// Only globalTeardown reads it (jest runs both in this process).
	globalThis.__switchyardPostgres = server;
	// NOTE: should jest exit without its teardown, no postmaster outlives it.
	process.once('exit', () => {
		if (globalThis.__switchyardPostgres === server) {
			server.killSync();
			fs.rmSync(server.dir, { recursive: true, force: true });
		}
	});
	process.env[PG_URL_ENV] = server.url;
};

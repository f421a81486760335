// jest.config.js's globalTeardown: stops and removes test/globalSetup.js's PostgreSQL server.
module.exports = async function globalTeardown() {
	const server = globalThis.__switchyardPostgres;
	delete globalThis.__switchyardPostgres;
	await server?.destroy();
};

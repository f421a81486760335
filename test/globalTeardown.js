// jest.config.js's globalTeardown: stops and removes test/globalSetup.js's PostgreSQL and Redis servers.
const { SERVERS, tearDown } = require('./globalSetup');

module.exports = async function globalTeardown() {
	const results = await Promise.allSettled(SERVERS.map(tearDown));
	const failed = results.find((result) => result.status === 'rejected');
	if (failed) {
		throw failed.reason;
	}
};

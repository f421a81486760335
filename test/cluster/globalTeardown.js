// jest.cluster.config.js's globalTeardown: test/globalTeardown.js, which stops
// and removes the run's PostgreSQL and Redis servers (dist/ stays: it is npm start's).
module.exports = require('../globalTeardown');

// The `postgres` project of jest.config.js: every node a test file starts with
// startTestNode (test/helpers/node.ts) keeps its accounts in a fresh database on
// the run's PostgreSQL server instead of a SQLite file.
process.env.SWITCHYARD_TEST_STORE = 'postgres';

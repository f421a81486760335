/**
 * The cluster tests (npm run test:cluster): fleets of three real node processes
 * (test/cluster/fleet.ts) sharing the run's PostgreSQL and Redis. One file at a
 * time and nothing else beside it: three nodes with a worker each fill 2 cores.
 * The capacity gauge test runs here too: it measures a worker's CPU, which a
 * test file running beside it would skew.
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/cluster', '<rootDir>/test/integration'],
  testMatch: ['<rootDir>/test/cluster/**/*.test.ts', '<rootDir>/test/integration/capacity.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  cacheDirectory: '<rootDir>/.cache/jest-cluster',
  setupFilesAfterEnv: ['<rootDir>/test/helpers/failOnServerEventMismatch.ts'],
  // Builds dist/ and starts the run's PostgreSQL and Redis (test/globalSetup.js).
  globalSetup: '<rootDir>/test/cluster/globalSetup.js',
  globalTeardown: '<rootDir>/test/cluster/globalTeardown.js',
  testTimeout: 120000,
  maxWorkers: 1,
};

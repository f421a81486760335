/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/e2e/'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  cacheDirectory: '<rootDir>/.cache/jest',
  // Fails a test when a server event a SignalingClient got does not match protocol.ts.
  setupFilesAfterEnv: ['<rootDir>/test/helpers/failOnServerEventMismatch.ts'],
  // One PostgreSQL server for the run (test/helpers/postgres.ts: testPostgres, freshDatabase).
  globalSetup: '<rootDir>/test/globalSetup.js',
  globalTeardown: '<rootDir>/test/globalTeardown.js',
  testTimeout: 30000,
  // Real mediasoup workers: 2 cores carry two test files at a time.
  maxWorkers: 2,
};

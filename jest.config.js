/** What both projects share. */
const common = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  cacheDirectory: '<rootDir>/.cache/jest',
  // Fails a test when a server event a SignalingClient got does not match protocol.ts.
  setupFilesAfterEnv: ['<rootDir>/test/helpers/failOnServerEventMismatch.ts'],
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      ...common,
      displayName: 'sqlite',
      roots: ['<rootDir>/src', '<rootDir>/test'],
      testMatch: ['**/*.test.ts'],
      // test/e2e: jest.e2e.config.js; test/cluster: jest.cluster.config.js, alone (three node processes).
      // capacity.test.ts runs alone, in jest.cluster.config.js.
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/e2e/', '<rootDir>/test/cluster/', '<rootDir>/test/integration/capacity.test.ts'],
    },
    {
      // The account and call tests once more, with every node they start on PostgreSQL
      // (test/helpers/node.ts); the store contract itself is storeContract.test.ts.
      ...common,
      displayName: 'postgres',
      roots: ['<rootDir>/test'],
      testMatch: ['<rootDir>/test/integration/{accounts,accountsApi,accountsPrivacy,calls,callKeys,callRooms,sessionEnded,limits,webhooks}.test.ts'],
      setupFiles: ['<rootDir>/test/helpers/onPostgres.js'],
    },
  ],
  // One PostgreSQL server for the run (test/helpers/postgres.ts: testPostgres, freshDatabase).
  globalSetup: '<rootDir>/test/globalSetup.js',
  globalTeardown: '<rootDir>/test/globalTeardown.js',
  testTimeout: 30000,
  // Real mediasoup workers: 2 cores carry two test files at a time.
  maxWorkers: 2,
  // NOTE: a fresh worker process for every test file. @roamhq/wrtc (test/helpers/mediaClient.ts)
  // is a native addon that each file loads again into one process; a worker that had run
  // several of them once died of SIGSEGV in the middle of the next file. Any worker is over
  // 1 MB after a file, so jest replaces it (it ends the old one itself: no failure).
  workerIdleMemoryLimit: '1MB',
};

/** Browser tests: one headless Debian chromium at a time (npm run test:e2e). */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/e2e'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  cacheDirectory: '<rootDir>/.cache/jest-e2e',
  globalSetup: '<rootDir>/test/e2e/globalSetup.js',
  testTimeout: 120000,
  maxWorkers: 1,
};

/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // test/scale runs minutes to hours: `npm run test:scale`.
  // .stryker-tmp: the sandboxes of `npm run test:mutation` (copies of test/) while it runs.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/scale/', '<rootDir>/.stryker-tmp/'],
  testTimeout: 120_000,
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  transform: { '^.+\\.ts$': 'ts-jest' },
};

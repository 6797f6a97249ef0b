/**
 * The test selection `npm run test:mutation` runs for every mutant (stryker.config.mjs): the tests that exercise the
 * mutated modules outside Temporal's workflow sandbox, with no Temporal dev server. Engine tests run the activities
 * on the in-process emulator (test/engine, each file its own stack); the workflow modules' pure functions are tested
 * directly (test/workflow/ranges.test.ts, budget-share.test.ts). Phase-machine tests on the fake activities are not
 * here: they run the workflow code in Temporal's sandbox, where a mutant is never active (docs/reliability.md,
 * "Mutation testing").
 * @type {import('jest').Config}
 */
const base = require('./jest.config.js');

module.exports = {
  preset: base.preset,
  testEnvironment: base.testEnvironment,
  transform: base.transform,
  roots: ['<rootDir>/test'],
  testMatch: [
    '<rootDir>/test/engine/verify.test.ts',
    '<rootDir>/test/engine/counts.test.ts',
    '<rootDir>/test/engine/revert.test.ts',
    '<rootDir>/test/engine/preimages.test.ts',
    '<rootDir>/test/engine/migrate-range.test.ts',
    '<rootDir>/test/engine/partitions.test.ts',
    '<rootDir>/test/engine/catch-up.test.ts',
    '<rootDir>/test/engine/transient-faults.test.ts',
    '<rootDir>/test/engine/bulk-writer.test.ts',
    '<rootDir>/test/engine/bulk-writer-rounds.test.ts',
    '<rootDir>/test/engine/ru-budget.test.ts',
    '<rootDir>/test/engine/ru-budget-books.test.ts',
    '<rootDir>/test/engine/budget-windows.test.ts',
    '<rootDir>/test/engine/rollback-restore.test.ts',
    '<rootDir>/test/workflow/ranges.test.ts',
    '<rootDir>/test/workflow/budget-share.test.ts',
  ],
  testPathIgnorePatterns: ['/node_modules/'],
  setupFiles: ['<rootDir>/test/mutation/setup-env.ts'],
  testTimeout: base.testTimeout,
};

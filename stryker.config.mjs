// @ts-check
/**
 * `npm run test:mutation`: Stryker seeds small defects (mutants) in the modules that write, delete, verify and budget
 * data, one at a time, and runs the tests that cover each one (jest.mutation.config.js); a mutant no test notices
 * "survives". The scores and every survivor are in docs/reliability.md ("Mutation testing").
 *
 * Stryker 9.x, not 10: 10 needs Node 22 and the suite and CI run on Node 20 (package.json engines).
 * Workflow modules are mutated only where their functions run outside Temporal's sandbox: workflow code runs in a
 * fresh V8 context (`vm.createContext({})`, node_modules/@temporalio/worker/lib/workflow/reusable-vm.js) on a worker
 * thread (threaded-vm.js), with no `process`; Stryker's instrumented code finds the active mutant in its context's
 * `globalThis.__stryker__` or in `process.env.__STRYKER_ACTIVE_MUTANT__`
 * (node_modules/@stryker-mutator/instrumenter/dist/src/util/syntax-helpers.js), neither of which reaches there.
 *
 * `npm run test:mutation` runs it once per group of modules, each on its own tests (scripts/mutation.mjs says why);
 * `npx stryker run` alone mutates every file below against the whole selection of jest.mutation.config.js (hours).
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  packageManager: 'npm',
  testRunner: 'jest',
  jest: { projectType: 'custom', configFile: 'jest.mutation.config.js', enableFindRelatedTests: true },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  coverageAnalysis: 'perTest',
  mutate: [
    'activities/cosmos/migrate-range.ts',
    'activities/cosmos/bulk-writer.ts',
    'activities/cosmos/revert.ts',
    // With revert.ts, the successor of activities/cosmos/three-way.ts (a pre-image is the revert's base).
    'activities/cosmos/preimages.ts',
    'activities/cosmos/verify.ts',
    'activities/cosmos/counts.ts',
    'activities/cosmos/ru-budget.ts',
    'workflows/budget-share.ts',
    // isFeedRangeSplit and childRanges: the range loop's parts that run outside the sandbox.
    'workflows/range-loop.ts:85-89',
    'workflows/range-loop.ts:99-113',
  ],
  // Module-level constants need every test re-run with a fresh module registry: minutes per mutant here.
  ignoreStatic: true,
  // One test runner (under `nice -n 10`): the machine's 2 cores are shared with other engineers' runs, and each
  // engine test file starts its own emulator.
  concurrency: 1,
  // A mutant's time limit: twice what its tests took in the initial run, plus 15 s for a loaded machine (tests that
  // wait for conditions are slow there, never stuck). A mutant that loops (a wait that never ends) is a Timeout,
  // which counts as detected.
  timeoutMS: 15_000,
  timeoutFactor: 2,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  ignorePatterns: ['dist', '.local', 'coverage', 'bench/results', 'reports'],
  thresholds: { high: 90, low: 80 },
  cleanTempDir: true,
};

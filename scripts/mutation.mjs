// `npm run test:mutation [-- group...]`: Stryker (stryker.config.mjs) once per group of modules, each group on the
// tests that exercise those modules and no others, then a score per file and every surviving mutant.
//
// Why groups: Stryker's jest runner cannot stop at a mutant's first failing test (`bail: false`,
// node_modules/@stryker-mutator/jest-runner/dist/src/jest-override-options.js), so every mutant runs every test of
// the selection that covers it. The RU budget is covered by every engine test (each activity has one), and the whole
// selection takes minutes per mutant on two shared cores; its own unit tests take milliseconds. Each group's tests are
// the fast ones that prove its modules (docs/reliability.md, "Mutation testing").
//
// Reports: reports/mutation/<group>.json and .html; incremental results: reports/incremental-<group>.json (a
// rerun only tests the mutants whose code or tests changed).
import fs from 'node:fs';
import path from 'node:path';
import { Stryker } from '@stryker-mutator/core';
import base from '../stryker.config.mjs';

/** @type {Record<string, { mutate: string[]; tests: string[]; findRelatedTests?: boolean }>} */
export const GROUPS = {
  budget: {
    mutate: [
      'activities/cosmos/ru-budget.ts',
      'workflows/budget-share.ts',
      // isFeedRangeSplit and childRanges: the range loop's parts that run outside Temporal's sandbox (not
      // cancelledResult between them, which only runRanges calls, in the sandbox).
      'workflows/range-loop.ts:85-89',
      'workflows/range-loop.ts:99-113',
    ],
    tests: [
      'test/engine/ru-budget-books.test.ts',
      'test/engine/bulk-writer.test.ts',
      'test/workflow/budget-share.test.ts',
      'test/workflow/ranges.test.ts',
    ],
  },
  counts: {
    mutate: ['activities/cosmos/counts.ts'],
    tests: ['test/engine/counts.test.ts', 'test/engine/verify.test.ts', 'test/engine/partitions.test.ts'],
  },
  // Without jest's --findRelatedTests: with it Stryker's dry run found no test at all ("No tests were executed") for
  // verify.ts, which its tests reach only through activities/engine.ts; the selection is that one file anyway.
  verify: { mutate: ['activities/cosmos/verify.ts'], tests: ['test/engine/verify.test.ts'], findRelatedTests: false },
  // The decisions and writes of the revert (processPage to copySource); its setup and resume are the range loop's.
  revert: { mutate: ['activities/cosmos/revert.ts:223-364'], tests: ['test/engine/revert.test.ts'] },
  // What a pre-image is (id, image, partition key): the revert's base (three-way.ts's successor, with revert.ts).
  preimages: { mutate: ['activities/cosmos/preimages.ts:52-137'], tests: ['test/engine/preimages.test.ts'] },
  'bulk-writer': {
    mutate: ['activities/cosmos/bulk-writer.ts'],
    tests: ['test/engine/bulk-writer.test.ts', 'test/engine/bulk-writer-rounds.test.ts'],
  },
  // The migration's writes: a page's work, its pre-images and replaces, a 412's re-read.
  'migrate-range': {
    mutate: ['activities/cosmos/migrate-range.ts:383-535'],
    tests: ['test/engine/migrate-range.test.ts'],
  },
};

/** Mutants that count for the score (Stryker's "mutation score": detected over valid). */
const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);

async function runGroup(name, group) {
  // Over stryker.config.mjs, which Stryker reads itself.
  const options = {
    mutate: group.mutate,
    jest: {
      ...base.jest,
      enableFindRelatedTests: group.findRelatedTests ?? base.jest?.enableFindRelatedTests,
      config: { testMatch: group.tests.map((t) => `<rootDir>/${t}`) },
    },
    incrementalFile: `reports/incremental-${name}.json`,
    htmlReporter: { fileName: `reports/mutation/${name}.html` },
    jsonReporter: { fileName: `reports/mutation/${name}.json` },
  };
  await new Stryker(options).runMutationTest();
  return JSON.parse(fs.readFileSync(options.jsonReporter.fileName, 'utf8'));
}

function summary(report) {
  const lines = [];
  for (const [file, { mutants }] of Object.entries(report.files)) {
    const detected = mutants.filter((m) => DETECTED.has(m.status)).length;
    const undetected = mutants.filter((m) => UNDETECTED.has(m.status));
    const score = (100 * detected) / (detected + undetected.length || 1);
    lines.push(
      `${path.normalize(file)}: ${score.toFixed(1)} % (${detected} detected, ${undetected.length} undetected)`
    );
    for (const m of undetected.sort((a, b) => a.location.start.line - b.location.start.line)) {
      const replacement = (m.replacement ?? '').replace(/\s+/g, ' ').slice(0, 80);
      lines.push(`  ${file}:${m.location.start.line} ${m.mutatorName} ${m.status}: ${replacement}`);
    }
  }
  return lines;
}

const asked = process.argv.slice(2);
const unknown = asked.filter((g) => !(g in GROUPS));
if (unknown.length > 0) {
  console.error(`unknown group(s) ${unknown.join(', ')}; groups: ${Object.keys(GROUPS).join(', ')}`);
  process.exit(2);
}
const lines = [];
for (const name of asked.length > 0 ? asked : Object.keys(GROUPS)) {
  lines.push(`== ${name}`, ...summary(await runGroup(name, GROUPS[name])));
}
console.log(lines.join('\n'));

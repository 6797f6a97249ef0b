/**
 * `npm run test:scale` (not in `npm test`): 200 000 documents over 8 physical partitions (a container created through
 * ARM at 80 000 RU/s), a split mid-run (the throughput raised to 90 000 RU/s through ARM: the widest range splits
 * while the workflow migrates it), the application writing. Every document migrated exactly once (a counter field the
 * transform increments), every application write intact, documents read ≤ 1.1 × N plus conflicts, and the
 * process's peak RSS printed (worker, emulator and test share one process here: an upper bound for the worker).
 * SCALE_DOCS overrides the number of documents.
 */
import { randomUUID } from 'node:crypto';
import { Harness } from '../workflow/harness';
import { runPartitionScenario } from '../workflow/partition-scenario';

let h: Harness;
beforeAll(async () => {
  h = await Harness.start();
}, 180_000);
afterAll(async () => {
  await h?.close();
});

const DOCS = Number(process.env.SCALE_DOCS ?? 200_000);

test(`${DOCS} documents over 8 partitions, a split mid-run, the application writing`, async () => {
  const result = await runPartitionScenario(h, {
    docs: DOCS,
    initialThroughput: 80_000,
    raisedThroughput: 90_000,
    id: `scale-${randomUUID().slice(0, 6)}`,
    concurrency: 8,
  });
  console.log(`scale scenario: ${JSON.stringify(result.summary)}`);
  expect(result.rangesBefore).toBe(8);
  expect(result.rangesAfter).toBe(9);
  expect(result.report.status).toBe('completed');
  expect(result.notMigratedOnce).toEqual([]);
  expect(result.appWritesLost).toEqual([]);
  expect(result.report.counters.scanned).toBeLessThanOrEqual(1.1 * result.total + result.report.counters.conflicts);
}, 3_600_000);

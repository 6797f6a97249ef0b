/**
 * A migration over physical partitions that split under it, end to end: a container created through ARM at
 * 40 000 RU/s (4 feed ranges), a run started with the real `temporal workflow start`, an application writing
 * throughout, and the throughput raised through ARM to 80 000 RU/s mid-run (8 ranges, split in the background while
 * ranges are being migrated). Every document is migrated exactly once (the transform increments a counter field),
 * every application write survives, and the run reads each document about once (`scanned` ≤ 1.5 × N).
 *
 * The same scenario at 200 000 documents over 8 partitions is `npm run test:scale` (test/scale/).
 */
import { randomUUID } from 'node:crypto';
import { runPartitionScenario } from './partition-scenario';
import { Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await Harness.start();
}, 180_000);
afterAll(async () => {
  await h?.close();
});

const DOCS = Number(process.env.PARTITIONS_TEST_DOCS ?? 5000);

test(`${DOCS} documents over 4 ranges, split to 8 by an ARM throughput raise mid-run, the application writing: each document migrated exactly once, every application write intact`, async () => {
  const result = await runPartitionScenario(h, {
    docs: DOCS,
    initialThroughput: 40_000,
    raisedThroughput: 80_000,
    id: `count-${randomUUID().slice(0, 6)}`,
    // About 6 RU per document: a few seconds of migrating, so the split lands while ranges are in flight.
    ruBudget: 6000,
    appPauseMs: 5,
  });
  console.log(`partition scenario: ${JSON.stringify(result.summary)}`);
  expect(result.rangesBefore).toBe(4);
  expect(result.rangesAfter).toBe(8);
  expect(result.report.status).toBe('completed');
  expect(result.report.verification?.ok).toBe(true);
  // The raise split ranges the workflow was migrating or had yet to start: it replaced them by their children.
  expect(result.splitNotes).toBeGreaterThan(0);
  expect(result.notMigratedOnce).toEqual([]);
  expect(result.appWritesLost).toEqual([]);
  expect(result.appWrites).toBeGreaterThan(0);
  expect(result.report.counters.scanned).toBeLessThanOrEqual(1.5 * result.total);
}, 300_000);

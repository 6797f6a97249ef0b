/**
 * A page of the migration's scan query costs about the same at 200 000 documents as at 1 000: the emulator resumes a
 * cursor (local/cosmos/scan.ts) instead of re-running the query over the whole container and skipping, as the stock
 * server does. And a scan that rewrites every page it reads (as a migration does) sees every document exactly once.
 *
 * Prints the per-page times; the only timed assert is a generous bound. Without the cursor
 * (LOCAL_COSMOS_UNFIXED=cursor) a page at 200 000 documents takes seconds and the bound fails.
 */
import type { Container, ItemDefinition } from '@azure/cosmos';
import { startTestEmulator, type TestEmulator } from './cosmos-support';

const RANGE = 'x-ms-documentdb-partitionkeyrangeid';
const SCAN = 'SELECT * FROM c WHERE (NOT IS_DEFINED(c.v) OR c.v = @from)';
const PAGE = 100;
const PAGES = 15;

let emulator: TestEmulator;

interface Doc extends ItemDefinition {
  id: string;
  pk: string;
  n: number;
  v?: number;
}

const makeDoc = (n: number): Doc => ({ id: `d${n}`, pk: `tenant-${n % 997}`, n, data: 'x'.repeat(120) });

async function seed(container: Container, count: number): Promise<void> {
  const batches: number[] = [];
  for (let i = 0; i < count; i += 100) batches.push(i);
  const worker = async () => {
    for (let start = batches.shift(); start !== undefined; start = batches.shift()) {
      const ops = Array.from({ length: Math.min(100, count - start) }, (_, j) => ({
        operationType: 'Create' as const,
        resourceBody: makeDoc(start + j),
      }));
      const results = await container.items.bulk(ops);
      if (!results.every((r) => r.statusCode === 201)) throw new Error(`seeding ${container.id} failed at ${start}`);
    }
  };
  await Promise.all([worker(), worker(), worker()]);
}

/** ms per page of the scan query, first PAGES pages (a range's, when given). */
async function pageTimes(container: Container, rangeId?: string): Promise<number[]> {
  const it = container.items.query<Doc>(
    { query: SCAN, parameters: [{ name: '@from', value: 1 }] },
    { maxItemCount: PAGE, ...(rangeId === undefined ? {} : { initialHeaders: { [RANGE]: rangeId } }) }
  );
  await it.fetchNext(); // warm-up: routing map, query plan
  const times: number[] = [];
  while (it.hasMoreResults() && times.length < PAGES) {
    const start = performance.now();
    const page = await it.fetchNext();
    times.push(performance.now() - start);
    expect(page.resources.length).toBeLessThanOrEqual(PAGE);
  }
  return times;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (xs: number[]) => `median ${median(xs).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms`;

beforeAll(async () => {
  emulator = await startTestEmulator({ ruModel: false });
  await emulator.client.databases.createIfNotExists({ id: 'scan' });
});

afterAll(async () => {
  await emulator.stop();
});

test('a page of the scan query costs about the same at 200 000 documents as at 1 000', async () => {
  const db = emulator.client.database('scan');
  const { container: small } = await db.containers.create({ id: 'small', partitionKey: '/pk' });
  const { container: big } = await db.containers.create({ id: 'big', partitionKey: '/pk' });
  await seed(small, 1_000);
  const seedStart = performance.now();
  await seed(big, 200_000);
  const seeded = performance.now() - seedStart;
  await emulator.cosmos.control.setPartitionCount('scan', 'big', 4);

  const smallTimes = await pageTimes(small);
  const bigTimes = await pageTimes(big);
  const bigRangeTimes = await pageTimes(big, '2');
  console.log(
    [
      `scan query pages of ${PAGE} (seeding 200 000 documents took ${(seeded / 1000).toFixed(1)} s):`,
      `  1 000 documents, 1 range:                      ${fmt(smallTimes)}`,
      `  200 000 documents, 4 ranges, across ranges:     ${fmt(bigTimes)}`,
      `  200 000 documents, 4 ranges, one range (header): ${fmt(bigRangeTimes)}`,
    ].join('\n')
  );
  expect(median(bigTimes)).toBeLessThan(250);
  expect(median(bigRangeTimes)).toBeLessThan(250);
}, 600_000);

test('a scan that rewrites each page it reads sees every document exactly once', async () => {
  const { container } = await emulator.client
    .database('scan')
    .containers.create({ id: 'rewrite', partitionKey: '/pk', throughput: 20_000 });
  await seed(container, 1_000);
  const { resources: ranges } = await container.readPartitionKeyRanges().fetchAll();
  expect(ranges).toHaveLength(2);
  const seen = new Set<string>();
  for (const range of ranges) {
    const it = container.items.query<Doc>(
      { query: SCAN, parameters: [{ name: '@from', value: 1 }] },
      { maxItemCount: 64, initialHeaders: { [RANGE]: range.id } }
    );
    while (it.hasMoreResults()) {
      const { resources } = await it.fetchNext();
      for (const doc of resources) {
        expect(seen.has(doc.id)).toBe(false);
        seen.add(doc.id);
        // The migration's write: the document leaves the filter (v = 2), and keeps its place in the scan order.
        await container.items.upsert({ ...doc, v: 2 });
      }
    }
  }
  expect(seen.size).toBe(1_000);
});

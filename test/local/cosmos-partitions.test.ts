/**
 * Physical partitions in the emulator, through the real @azure/cosmos client over HTTPS: ranges from provisioned
 * RU/s, EPK hashing identical to the SDK's, range-scoped queries and read feeds (each range read once), aggregates
 * across ranges through the SDK's query plan, splits (410/1002 and the SDK recovering), per-partition RU budgets,
 * Low priority throttled first, and the HTTPS controls.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import https from 'node:https';
import { createRequire } from 'node:module';
import { PriorityLevel, type Container, type Database, type ItemDefinition } from '@azure/cosmos';
import { effectivePartitionKey, epkInRange } from '../../local/cosmos/epk';
import type { PartitionLayout } from '../../local/cosmos/types';
import { startTestEmulator, type TestEmulator } from './cosmos-support';

/** The SDK's own hashing (not exported by the package: node_modules/@azure/cosmos/dist/commonjs/utils/hashing). */
const sdkHash = (
  createRequire(require.resolve('@azure/cosmos'))('./utils/hashing/hash.js') as {
    hashPartitionKey: (partitionKey: unknown[], definition: unknown) => string;
  }
).hashPartitionKey;

const RANGE = 'x-ms-documentdb-partitionkeyrangeid';
const DB = 'parts';
const DOCS = 600;

let emulator: TestEmulator;
let database: Database;

interface Doc extends ItemDefinition {
  id: string;
  pk: string;
  n: number;
}

const docs: Doc[] = Array.from({ length: DOCS }, (_, n) => ({ id: `d${n}`, pk: `tenant-${n % 50}`, n }));

async function seed(container: Container, items: Doc[]): Promise<void> {
  for (let i = 0; i < items.length; i += 100) {
    const results = await container.items.bulk(
      items.slice(i, i + 100).map((resourceBody) => ({ operationType: 'Upsert' as const, resourceBody }))
    );
    expect(results.every((r) => r.statusCode < 300)).toBe(true);
  }
}

async function pkRanges(container: Container) {
  return (await container.readPartitionKeyRanges().fetchAll()).resources as {
    id: string;
    minInclusive: string;
    maxExclusive: string;
    parents?: string[];
  }[];
}

/** Every page of a query scoped to one range (as activities/cosmos/feed-ranges.ts does it). */
async function scanRange(container: Container, rangeId: string, query: string, maxItemCount = 37): Promise<Doc[]> {
  const it = container.items.query<Doc>(query, { maxItemCount, initialHeaders: { [RANGE]: rangeId } });
  const out: Doc[] = [];
  while (it.hasMoreResults()) out.push(...(await it.fetchNext()).resources);
  return out;
}

async function value<T>(container: Container, query: string, rangeId?: string): Promise<T> {
  const options = rangeId === undefined ? {} : { initialHeaders: { [RANGE]: rangeId } };
  const { resources } = await container.items.query<T>(query, options).fetchAll();
  expect(resources).toHaveLength(1);
  return resources[0]!;
}

/** Reads every range once and checks that each document is where the SDK's hash says, and nowhere else. */
async function expectEachRangeReadOnce(container: Container, definition: unknown, expected: Doc[]): Promise<void> {
  const ranges = await pkRanges(container);
  const seen = new Map<string, string>();
  for (const range of ranges) {
    const page = await scanRange(container, range.id, 'SELECT * FROM c WHERE c.n >= 0');
    for (const doc of page) {
      expect(seen.get(doc.id)).toBeUndefined();
      seen.set(doc.id, range.id);
      expect(epkInRange(sdkHash([doc.pk], definition), range.minInclusive, range.maxExclusive)).toBe(true);
    }
    expect(await value<number>(container, 'SELECT VALUE COUNT(1) FROM c', range.id)).toBe(page.length);
  }
  expect([...seen.keys()].sort()).toEqual(expected.map((d) => d.id).sort());
}

beforeAll(async () => {
  emulator = await startTestEmulator({ ruModel: false });
  ({ database } = await emulator.client.databases.createIfNotExists({ id: DB }));
});

afterAll(async () => {
  await emulator.stop();
});

describe('effective partition keys', () => {
  it('are computed exactly as the SDK computes them, v1 and v2', () => {
    const values: unknown[] = ['', 'a', 'tenant-7', 'ü€😀', 'x'.repeat(150), 0, 1, -1, 2.5, -123.75, 1e300, 2 ** 40];
    values.push(true, false, null, {}, undefined);
    for (let i = 0; i < 300; i++) values.push(`k${i}-${'z'.repeat(i % 37)}`, i * 7919 - 1000);
    for (const version of [1, 2] as const) {
      const definition = { paths: ['/pk'], kind: 'Hash', version };
      for (const v of values) expect(effectivePartitionKey([v], version)).toBe(sdkHash([v], definition));
    }
  });
});

describe('partition layout', () => {
  it('follows ⌈RU/s ÷ 10 000⌉ for a data-plane create with throughput; unprovisioned containers have one range', async () => {
    const { container: big } = await database.containers.create({
      id: 'layout-v1',
      partitionKey: { paths: ['/pk'] },
      throughput: 40_000,
    });
    const ranges = await pkRanges(big);
    expect(ranges.map((r) => r.id)).toEqual(['0', '1', '2', '3']);
    expect(ranges[0]!.minInclusive).toBe('');
    expect(ranges[3]!.maxExclusive).toBe('FF');
    for (let i = 1; i < ranges.length; i++) expect(ranges[i]!.minInclusive).toBe(ranges[i - 1]!.maxExclusive);
    expect(await big.getFeedRanges()).toHaveLength(4);

    const { container: v2 } = await database.containers.create({
      id: 'layout-v2',
      partitionKey: { paths: ['/pk'], version: 2 },
      throughput: 25_000,
    });
    expect((await pkRanges(v2)).map((r) => [r.minInclusive, r.maxExclusive])).toEqual([
      ['', '15555555555555555555555555555555'],
      ['15555555555555555555555555555555', '2AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
      ['2AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'FF'],
    ]);

    const { container: plain } = await database.containers.create({ id: 'layout-plain', partitionKey: '/pk' });
    expect((await pkRanges(plain)).map((r) => [r.id, r.minInclusive, r.maxExclusive])).toEqual([['0', '', 'FF']]);
  });
});

describe.each([1, 2] as const)('a container with 4 ranges, partition key version %i', (version) => {
  let container: Container;
  const definition = { paths: ['/pk'], kind: 'Hash', version };

  beforeAll(async () => {
    ({ container } = await database.containers.create({
      id: `scan-v${version}`,
      partitionKey: { paths: ['/pk'], version },
      throughput: 40_000,
    }));
    await seed(container, docs);
  });

  it('answers a range-scoped query, page by page, with only that range: every document read exactly once', async () => {
    const ranges = await pkRanges(container);
    expect(ranges).toHaveLength(4);
    await expectEachRangeReadOnce(container, definition, docs);
    // Every range holds some of the 50 partition key values.
    for (const range of ranges) {
      expect((await scanRange(container, range.id, 'SELECT c.id FROM c')).length).toBeGreaterThan(0);
    }
  });

  it('scopes the read feed (readAll) to the range too', async () => {
    let total = 0;
    for (const range of await pkRanges(container)) {
      const { resources } = await container.items
        .readAll<Doc>({ maxItemCount: 50, initialHeaders: { [RANGE]: range.id } })
        .fetchAll();
      total += resources.length;
      for (const doc of resources) {
        expect(epkInRange(sdkHash([doc.pk], definition), range.minInclusive, range.maxExclusive)).toBe(true);
      }
    }
    expect(total).toBe(DOCS);
  });

  it('serves a simple filtered query across ranges, whole or paged', async () => {
    const { resources } = await container.items
      .query<Doc>({ query: 'SELECT * FROM c WHERE c.pk = @pk', parameters: [{ name: '@pk', value: 'tenant-3' }] })
      .fetchAll();
    expect(resources.map((d) => d.n).sort((a, b) => a - b)).toEqual(
      docs.filter((d) => d.pk === 'tenant-3').map((d) => d.n)
    );

    const it = container.items.query<Doc>('SELECT c.id FROM c WHERE c.n < 450', { maxItemCount: 40 });
    const ids: string[] = [];
    while (it.hasMoreResults()) ids.push(...((await it.fetchNext()).resources ?? []).map((d) => d.id));
    expect(ids).toHaveLength(450);
    expect(new Set(ids).size).toBe(450);
  });

  it('runs aggregates across ranges through the query plan, and per range directly', async () => {
    expect(await value<number>(container, 'SELECT VALUE COUNT(1) FROM c')).toBe(DOCS);
    expect(await value<number>(container, 'SELECT VALUE COUNT(1) FROM c WHERE c.n < 100')).toBe(100);
    expect(await value<number>(container, 'SELECT VALUE SUM(c.n) FROM c')).toBe((DOCS * (DOCS - 1)) / 2);
    expect(await value<number>(container, 'SELECT VALUE MIN(c.n) FROM c WHERE c.n > 10')).toBe(11);
    expect(await value<number>(container, 'SELECT VALUE MAX(c.n) FROM c')).toBe(DOCS - 1);
    expect(await value<number>(container, 'SELECT VALUE AVG(c.n) FROM c WHERE c.n < 11')).toBe(5);
    // TOP across ranges: the SDK runs the query on every range and keeps the first n (OffsetLimitEndpointComponent).
    const { resources: top } = await container.items.query<Doc>('SELECT TOP 5 * FROM c WHERE c.n >= 100').fetchAll();
    expect(top).toHaveLength(5);
    expect(top.every((d) => d.n >= 100)).toBe(true);
    expect((await container.items.query('SELECT TOP 700 c.id FROM c').fetchAll()).resources).toHaveLength(DOCS);
    // A partition with no match contributes nothing.
    expect(await value<number>(container, "SELECT VALUE COUNT(1) FROM c WHERE c.pk = 'tenant-3'")).toBe(12);
    let sum = 0;
    for (const range of await pkRanges(container))
      sum += await value<number>(container, 'SELECT VALUE COUNT(1) FROM c', range.id);
    expect(sum).toBe(DOCS);
  });

  it('routes point operations and bulk writes as on Azure (the SDK groups bulk by its routing map)', async () => {
    const doc = docs[123]!;
    const { resource } = await container.item(doc.id, doc.pk).read<Doc>();
    expect(resource?.n).toBe(123);
    const results = await container.items.executeBulkOperations(
      docs.slice(0, 120).map((d) => ({
        operationType: 'Upsert' as const,
        partitionKey: d.pk,
        resourceBody: { ...d, touched: true },
      }))
    );
    const failed = results.filter((r) => !(r.response && r.response.statusCode < 300));
    expect(failed.map((r) => r.error?.message ?? r.response?.statusCode)).toEqual([]);
    expect(await value<number>(container, 'SELECT VALUE COUNT(1) FROM c WHERE c.touched = true')).toBe(120);
  });
});

describe('EPK sub-ranges', () => {
  it('x-ms-start-epk / x-ms-end-epk narrow a range-scoped query (the SDK sends them after a merge)', async () => {
    const definition = { paths: ['/pk'], kind: 'Hash', version: 2 };
    const { container } = await database.containers.create({ id: 'sub', partitionKey: { paths: ['/pk'], version: 2 } });
    await seed(container, docs.slice(0, 200));
    const mid = '20000000000000000000000000000000';
    const halves: string[][] = [];
    for (const [start, end] of [
      ['', mid],
      [mid, 'FF'],
    ] as const) {
      const { resources } = await container.items
        .query<Doc>('SELECT * FROM c', {
          initialHeaders: { [RANGE]: '0', 'x-ms-start-epk': start, 'x-ms-end-epk': end },
        })
        .fetchAll();
      for (const doc of resources) expect(epkInRange(sdkHash([doc.pk], definition), start, end)).toBe(true);
      halves.push(resources.map((d) => d.id));
    }
    expect(halves[0]!.length).toBeGreaterThan(0);
    expect(halves[1]!.length).toBeGreaterThan(0);
    expect([...halves[0]!, ...halves[1]!].sort()).toEqual(
      docs
        .slice(0, 200)
        .map((d) => d.id)
        .sort()
    );
  });
});

describe('splits', () => {
  let container: Container;
  const definition = { paths: ['/pk'], kind: 'Hash', version: 2 };

  beforeAll(async () => {
    ({ container } = await database.containers.create({
      id: 'split',
      partitionKey: { paths: ['/pk'], version: 2 },
      throughput: 20_000,
    }));
    await seed(container, docs);
  });

  it('replaces a range by two children with new ids and half its hash range each; the old id answers 410/1002', async () => {
    const before = await pkRanges(container);
    expect(before.map((r) => r.id)).toEqual(['0', '1']);
    // This client has cached the two-range routing map (bulk and the aggregate both used it).
    expect(await value<number>(container, 'SELECT VALUE COUNT(1) FROM c')).toBe(DOCS);

    const layout = await emulator.cosmos.control.splitPartition(DB, 'split', '1');
    expect(layout.ranges).toEqual([
      { id: '0', minInclusive: '', maxExclusive: '20000000000000000000000000000000', parents: [] },
      {
        id: '2',
        minInclusive: '20000000000000000000000000000000',
        maxExclusive: '30000000000000000000000000000000',
        parents: ['1'],
      },
      { id: '3', minInclusive: '30000000000000000000000000000000', maxExclusive: 'FF', parents: ['1'] },
    ]);

    const err = await container.items
      .query('SELECT * FROM c', { initialHeaders: { [RANGE]: '1' } })
      .fetchNext()
      .then(
        () => undefined,
        (e: unknown) => e as { code?: number; substatus?: number }
      );
    expect(err).toMatchObject({ code: 410, substatus: 1002 });
  });

  it('the SDK keeps working across it: queries after the split, bulk over a stale routing map, feed ranges listed again', async () => {
    const gone = () => emulator.cosmos.control.stats().partitionKeyRangeGone;
    // A query over several ranges reads the ranges afresh when it starts (routing/smartRoutingMapProvider.js makes a
    // new PartitionKeyRangeCache), so queries started after a split see the children. (A split while such a query is
    // under way is not survivable with @azure/cosmos 4.9.3: see local/README.md.)
    expect(await value<number>(container, 'SELECT VALUE COUNT(1) FROM c')).toBe(DOCS);
    const { resources: ids } = await container.items
      .query<Doc>('SELECT c.id FROM c', { forceQueryPlan: true, maxItemCount: 20 })
      .fetchAll();
    expect(new Set(ids.map((d) => d.id)).size).toBe(DOCS);
    let before: number;

    // Bulk groups by the stale map, gets 410/1002 for the split range, refreshes and regroups: executeBulkOperations
    // (bulk/BulkHelper.js, retry/bulkExecutionRetryPolicy.js) and items.bulk (Items.js executeBatchOperations).
    await emulator.cosmos.control.splitPartition(DB, 'split', '0');
    before = gone();
    const executed = await container.items.executeBulkOperations(
      docs.map((d) => ({ operationType: 'Upsert' as const, partitionKey: d.pk, resourceBody: { ...d, after: 1 } }))
    );
    expect(executed.filter((r) => !(r.response && r.response.statusCode < 300))).toEqual([]);
    expect(gone()).toBeGreaterThan(before);
    await emulator.cosmos.control.splitPartition(DB, 'split', '2');
    before = gone();
    const results = await container.items.bulk(
      docs.slice(0, 100).map((d) => ({ operationType: 'Upsert' as const, resourceBody: { ...d, after: 2 } }))
    );
    expect(results.map((r) => r.statusCode).every((s) => s === 200)).toBe(true);
    expect(gone()).toBeGreaterThan(before);
    expect(await value<number>(container, 'SELECT VALUE COUNT(1) FROM c WHERE c.after = 1')).toBe(DOCS - 100);
    expect(await value<number>(container, 'SELECT VALUE COUNT(1) FROM c WHERE c.after = 2')).toBe(100);

    const feedRanges = await container.getFeedRanges();
    expect(feedRanges).toHaveLength(5);
    await expectEachRangeReadOnce(container, definition, docs);
  });

  it("a range scan split half-way resumes on the children with the parent's continuation, each document once", async () => {
    const { container: c } = await database.containers.create({
      id: 'split-scan',
      partitionKey: { paths: ['/pk'] },
      throughput: 20_000,
    });
    await seed(c, docs);
    const parent = (await pkRanges(c))[0]!;
    const query = 'SELECT c.id, c.pk FROM c';
    const first = c.items.query<Doc>(query, { maxItemCount: 25, initialHeaders: { [RANGE]: parent.id } });
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) seen.push(...(await first.fetchNext()).resources.map((d) => d.id));
    const { continuationToken } = await first.fetchNext().then((page) => {
      seen.push(...page.resources.map((d) => d.id));
      return page;
    });
    expect(continuationToken).toBeDefined();

    const layout = await emulator.cosmos.control.splitPartition(DB, 'split-scan', parent.id);
    const children = layout.ranges.filter((r) => r.parents.includes(parent.id));
    expect(children).toHaveLength(2);
    for (const child of children) {
      const it = c.items.query<Doc>(query, {
        maxItemCount: 25,
        continuationToken,
        initialHeaders: { [RANGE]: child.id },
      });
      while (it.hasMoreResults()) seen.push(...(await it.fetchNext()).resources.map((d) => d.id));
    }
    const inParent = docs.filter((d) =>
      epkInRange(sdkHash([d.pk], { paths: ['/pk'] }), parent.minInclusive, parent.maxExclusive)
    );
    expect(seen.length).toBe(inParent.length);
    expect([...seen].sort()).toEqual(inParent.map((d) => d.id).sort());
  });

  it('raising the provisioned throughput past P × 10 000 RU/s splits in the background', async () => {
    const { container: grow } = await database.containers.create({
      id: 'grow',
      partitionKey: { paths: ['/pk'], version: 2 },
      throughput: 10_000,
    });
    await seed(grow, docs.slice(0, 200));
    expect(await pkRanges(grow)).toHaveLength(1);
    emulator.cosmos.control.setThroughput(DB, 'grow', 35_000);
    let layout: PartitionLayout = await emulator.cosmos.control.partitions(DB, 'grow');
    for (let i = 0; i < 200 && layout.ranges.length < 4; i++) {
      await sleep(50);
      layout = await emulator.cosmos.control.partitions(DB, 'grow');
    }
    expect(layout.ranges.map((r) => r.id)).toEqual(['3', '4', '5', '6']);
    expect(await value<number>(grow, 'SELECT VALUE COUNT(1) FROM c')).toBe(200);
    await expectEachRangeReadOnce(grow, { paths: ['/pk'], kind: 'Hash', version: 2 }, docs.slice(0, 200));
    // Lowering never merges.
    emulator.cosmos.control.setThroughput(DB, 'grow', 400);
    expect((await emulator.cosmos.control.partitions(DB, 'grow')).ranges).toHaveLength(4);
  });
});

describe('request units per physical partition', () => {
  afterEach(() => emulator.cosmos.control.setRuModel(false));

  const status = (p: Promise<unknown>) =>
    p.then(
      () => 200,
      (e: { code?: number }) => e.code
    );

  it('gives each range provisioned ÷ P RU/s and throttles a hot range alone', async () => {
    await database.containers.create({ id: 'hot', partitionKey: { paths: ['/pk'] } });
    emulator.cosmos.control.setThroughput(DB, 'hot', 800);
    const layout = await emulator.cosmos.control.setPartitionCount(DB, 'hot', 2);
    const rangeOf = (pk: string) =>
      layout.ranges.find((r) => epkInRange(effectivePartitionKey([pk], 1), r.minInclusive, r.maxExclusive))!.id;
    const pks = docs.map((d) => d.pk);
    const a = pks.find((pk) => rangeOf(pk) === layout.ranges[0]!.id)!;
    const b = pks.find((pk) => rangeOf(pk) === layout.ranges[1]!.id)!;
    emulator.cosmos.control.setRuModel(true);
    const strict = emulator.newClient({ maxRetryAttemptCount: 0 }).database(DB).container('hot');

    // 300 KB costs ~1 500 RU: more than a range's 400 RU/s, admitted on a full bucket, leaving it ~1 100 in debt.
    expect(await status(strict.items.create({ id: 'big', pk: a, data: 'x'.repeat(300 * 1024) }))).toBe(200);
    expect(await status(strict.items.create({ id: 'a2', pk: a }))).toBe(429);
    expect(await status(strict.items.create({ id: 'b1', pk: b }))).toBe(200);
  });

  it("the 'reserve' model (the emulator's earlier one): Low may not take the half of a partition High uses", async () => {
    emulator.cosmos.control.setPriorityBasedExecution(true);
    emulator.cosmos.control.setPriorityModel('reserve');
    const strictClient = emulator.newClient({ maxRetryAttemptCount: 0 });
    // 10 RU/s: two 5-RU writes fill a second; refill is slow enough for these few requests.
    for (const id of ['prio-mixed', 'prio-low']) {
      await database.containers.create({ id, partitionKey: { paths: ['/pk'] } });
      emulator.cosmos.control.setThroughput(DB, id, 10);
    }
    emulator.cosmos.control.setRuModel(true);
    const mixed = strictClient.database(DB).container('prio-mixed');
    const low = { priorityLevel: PriorityLevel.Low };
    expect(await status(mixed.items.create({ id: 'h1', pk: 'p' }))).toBe(200); // High: 10 -> 5 RU left
    expect(await status(mixed.items.create({ id: 'l1', pk: 'p' }, low))).toBe(429); // Low may not go below half
    expect(await status(mixed.items.create({ id: 'h2', pk: 'p' }))).toBe(200); // High takes the rest

    // Alone, Low traffic may use the whole budget.
    const alone = strictClient.database(DB).container('prio-low');
    expect(await status(alone.items.create({ id: 'l1', pk: 'p' }, low))).toBe(200);
    expect(await status(alone.items.create({ id: 'l2', pk: 'p' }, low))).toBe(200);
    expect(await status(alone.items.create({ id: 'l3', pk: 'p' }, low))).toBe(429);
    emulator.cosmos.control.setPriorityBasedExecution(false);
    emulator.cosmos.control.setPriorityModel('azure');
  });

  it('ignores priorities while the account has priority-based execution off, its default as on Azure', async () => {
    expect(emulator.cosmos.control.priorityBasedExecution()).toBe(false);
    const strictClient = emulator.newClient({ maxRetryAttemptCount: 0 });
    await database.containers.create({ id: 'prio-off', partitionKey: { paths: ['/pk'] } });
    emulator.cosmos.control.setThroughput(DB, 'prio-off', 10);
    emulator.cosmos.control.setRuModel(true);
    const mixed = strictClient.database(DB).container('prio-off');
    const low = { priorityLevel: PriorityLevel.Low };
    expect(await status(mixed.items.create({ id: 'h1', pk: 'p' }))).toBe(200); // 10 -> 5 RU left
    expect(await status(mixed.items.create({ id: 'l1', pk: 'p' }, low))).toBe(200); // first come, first served
    expect(await status(mixed.items.create({ id: 'h2', pk: 'p' }))).toBe(429);
  });

  // https://learn.microsoft.com/azure/cosmos-db/priority-based-execution (and its FAQ: "no reservation of RU/s"):
  // each priority may use the whole throughput alone; over capacity with both present, Low is throttled first.
  it("Azure's model: no reservation for High; over capacity, High takes over what Low used and Low is throttled", async () => {
    emulator.cosmos.control.setPriorityBasedExecution(true);
    try {
      const strictClient = emulator.newClient({ maxRetryAttemptCount: 0 });
      for (const id of ['azure-mixed', 'azure-high']) {
        await database.containers.create({ id, partitionKey: { paths: ['/pk'] } });
        emulator.cosmos.control.setThroughput(DB, id, 10); // 10 RU/s: two 5-RU writes fill a second
      }
      emulator.cosmos.control.setRuModel(true);
      const mixed = strictClient.database(DB).container('azure-mixed');
      const low = { priorityLevel: PriorityLevel.Low };
      expect(await status(mixed.items.create({ id: 'h1', pk: 'p' }))).toBe(200); // High: 10 -> 5 RU left
      expect(await status(mixed.items.create({ id: 'l1', pk: 'p' }, low))).toBe(200); // no reservation: 5 -> 0
      // Over capacity: the High request is served with what Low just used (Low is throttled first)...
      expect(await status(mixed.items.create({ id: 'h2', pk: 'p' }))).toBe(200);
      // ...and Low yields while High presses, though a plain bucket would soon pay for it.
      const yielded = await mixed.items
        .create({ id: 'l2', pk: 'p' }, low)
        .catch((err: { code?: number; retryAfterInMs?: number }) => err);
      expect((yielded as { code?: number }).code).toBe(429);
      // Without Low to take over from, High over capacity is throttled like anyone.
      expect(await status(mixed.items.create({ id: 'h3', pk: 'p' }))).toBe(429);

      // Alone, High (like Low, in the reserve test above) uses the whole budget and no more.
      const high = strictClient.database(DB).container('azure-high');
      expect(await status(high.items.create({ id: 'h1', pk: 'p' }))).toBe(200);
      expect(await status(high.items.create({ id: 'h2', pk: 'p' }))).toBe(200);
      expect(await status(high.items.create({ id: 'h3', pk: 'p' }))).toBe(429);
    } finally {
      emulator.cosmos.control.setPriorityBasedExecution(false);
    }
  });
});

describe('partition controls over HTTPS', () => {
  const call = (method: string, path: string, body?: unknown, key: string | null = emulator.cosmos.key) =>
    new Promise<{ status: number; body: unknown }>((resolve, reject) => {
      const req = https.request(
        new URL(path, emulator.cosmos.endpoint),
        { method, ca: emulator.certificate.cert, headers: key ? { 'x-local-key': key } : {} },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
        }
      );
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });

  it('read the layout, set the count, split a range; refuse bad bodies, unknown containers, missing keys', async () => {
    const { container } = await database.containers.create({ id: 'ctl', partitionKey: { paths: ['/pk'] } });
    await seed(container, docs.slice(0, 100));
    expect(await call('GET', '/_local/partitions?database=parts&container=ctl')).toEqual({
      status: 200,
      body: { ranges: [{ id: '0', minInclusive: '', maxExclusive: 'FF', parents: [] }] },
    });
    const set = await call('PUT', '/_local/partitions', { database: DB, container: 'ctl', count: 3 });
    expect(set.status).toBe(200);
    expect((set.body as PartitionLayout).ranges.map((r) => r.id)).toEqual(['1', '2', '3']);
    const split = await call('POST', '/_local/partitions/split', { database: DB, container: 'ctl', rangeId: '2' });
    expect((split.body as PartitionLayout).ranges.map((r) => [r.id, r.parents])).toEqual([
      ['1', []],
      ['4', ['2']],
      ['5', ['2']],
      ['3', []],
    ]);
    expect(await pkRanges(container)).toHaveLength(4);
    expect(await value<number>(container, 'SELECT VALUE COUNT(1) FROM c')).toBe(100);

    expect((await call('PUT', '/_local/partitions', { database: DB, container: 'ctl', count: 0 })).status).toBe(400);
    expect(
      (await call('POST', '/_local/partitions/split', { database: DB, container: 'ctl', rangeId: '2' })).status
    ).toBe(404);
    expect((await call('GET', '/_local/partitions?database=parts&container=nope')).status).toBe(404);
    expect((await call('GET', '/_local/partitions?database=parts&container=ctl', undefined, null)).status).toBe(401);
  });
});

/**
 * The change feed in latest-version mode through @azure/cosmos 4.9's own `items.getChangeFeedIterator`
 * (client/ChangeFeed/ChangeFeedForEpkRange.js, ChangeFeedForPartitionKey.js): from the beginning, from now, from a
 * time, from a continuation; per feed range and per partition key; paging; each new or updated document delivered
 * once, as its latest version, in `_lsn` order within a range; 304 when nothing changed; a parent range's
 * continuation continuing on its children after a split. `LOCAL_COSMOS_UNFIXED=changefeed` makes these tests fail.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ChangeFeedMode,
  ChangeFeedStartFrom,
  StatusCodes,
  type ChangeFeedIteratorOptions,
  type ChangeFeedPullModelIterator,
  type Container,
  type Database,
  type ItemDefinition,
} from '@azure/cosmos';
import { startTestEmulator, type TestEmulator } from './cosmos-support';

const DB = 'feed';

interface Doc extends ItemDefinition {
  id: string;
  pk: string;
  n: number;
}

type FeedDoc = Doc & { _lsn: number; _rid: string; _etag: string; _ts: number };

let emulator: TestEmulator;
let database: Database;

beforeAll(async () => {
  emulator = await startTestEmulator();
  ({ database } = await emulator.client.databases.create({ id: DB }));
}, 60_000);

afterAll(async () => {
  await emulator?.stop();
});

async function newContainer(id: string, throughput?: number): Promise<Container> {
  const { container } = await database.containers.create({
    id,
    partitionKey: { paths: ['/pk'], version: 2 },
    ...(throughput ? { throughput } : {}),
  });
  return container;
}

/** Reads pages until the feed answers 304; returns the documents and the last continuation token. */
async function drain(
  iterator: ChangeFeedPullModelIterator<Doc>
): Promise<{ docs: FeedDoc[]; pages: number; continuation: string }> {
  const docs: FeedDoc[] = [];
  let pages = 0;
  for (;;) {
    const page = await iterator.readNext();
    if (page.statusCode === StatusCodes.NotModified) {
      expect(page.result).toEqual([]);
      return { docs, pages, continuation: page.continuationToken };
    }
    expect(page.statusCode).toBe(StatusCodes.Ok);
    pages++;
    docs.push(...(page.result as unknown as FeedDoc[]));
  }
}

const feed = (container: Container, options: ChangeFeedIteratorOptions) =>
  container.items.getChangeFeedIterator<Doc>(options);

/** The document as a point read returns it, with the `_lsn` the feed adds. */
async function asStored(container: Container, doc: FeedDoc): Promise<void> {
  const { resource } = await container.item(doc.id, doc.pk).read<Doc>();
  expect(doc).toEqual({ ...resource, _lsn: doc._lsn });
}

const ids = (docs: Doc[]) => docs.map((d) => d.id);

test('from the beginning, paged: every document once in _lsn order, then only what changed since, as its latest version', async () => {
  const container = await newContainer('beginning');
  for (let n = 0; n < 10; n++) await container.items.create<Doc>({ id: `d${n}`, pk: `k${n % 3}`, n });

  const iterator = feed(container, { changeFeedStartFrom: ChangeFeedStartFrom.Beginning(), maxItemCount: 3 });
  const first = await drain(iterator);
  expect(first.pages).toBe(4); // 3 + 3 + 3 + 1
  expect(ids(first.docs)).toEqual(Array.from({ length: 10 }, (_, n) => `d${n}`));
  const lsns = first.docs.map((d) => d._lsn);
  expect([...lsns].sort((a, b) => a - b)).toEqual(lsns);
  expect(new Set(lsns).size).toBe(10);
  for (const doc of first.docs) await asStored(container, doc);

  // Nothing changed: 304 again, not a repeat.
  expect((await iterator.readNext()).statusCode).toBe(StatusCodes.NotModified);

  // d4 updated twice (delivered once, as its last version), d7 patched, d10 created, d2 created and deleted.
  await container.item('d4', 'k1').replace<Doc>({ id: 'd4', pk: 'k1', n: 40 });
  await container.item('d4', 'k1').replace<Doc>({ id: 'd4', pk: 'k1', n: 400 });
  await container.item('d7', 'k1').patch([{ op: 'set', path: '/n', value: 70 }]);
  await container.items.create<Doc>({ id: 'd10', pk: 'k1', n: 10 });
  await container.items.create<Doc>({ id: 'gone', pk: 'k1', n: -1 });
  await container.item('gone', 'k1').delete();

  const second = await drain(iterator);
  expect(second.docs.map(({ id, n }) => ({ id, n }))).toEqual([
    { id: 'd4', n: 400 },
    { id: 'd7', n: 70 },
    { id: 'd10', n: 10 },
  ]);
  expect(Math.min(...second.docs.map((d) => d._lsn))).toBeGreaterThan(Math.max(...lsns));
  for (const doc of second.docs) await asStored(container, doc);
});

test('from now: 304 until something is written, then exactly the writes made since', async () => {
  const container = await newContainer('now');
  await container.items.create<Doc>({ id: 'before', pk: 'a', n: 0 });
  const iterator = feed(container, { changeFeedStartFrom: ChangeFeedStartFrom.Now() });
  expect((await iterator.readNext()).statusCode).toBe(StatusCodes.NotModified);

  const { resource: created } = await container.items.create<Doc>({ id: 'after', pk: 'b', n: 1 });
  await container.item('before', 'a').replace<Doc>({ id: 'before', pk: 'a', n: 2 });
  const { docs } = await drain(iterator);
  expect(docs.map(({ id, n }) => ({ id, n }))).toEqual([
    { id: 'after', n: 1 },
    { id: 'before', n: 2 },
  ]);
  expect(docs[0]).toEqual({ ...created, _lsn: docs[0]!._lsn });
});

test('per partition key (Beginning(pk) and Now(pk)): only that key, in write order', async () => {
  const container = await newContainer('by-key');
  for (let n = 0; n < 30; n++) await container.items.create<Doc>({ id: `d${n}`, pk: `k${n % 5}`, n });
  const { docs } = await drain(
    feed(container, { changeFeedStartFrom: ChangeFeedStartFrom.Beginning('k2'), maxItemCount: 4 })
  );
  expect(ids(docs)).toEqual(['d2', 'd7', 'd12', 'd17', 'd22', 'd27']);

  const now = feed(container, { changeFeedStartFrom: ChangeFeedStartFrom.Now('k3') });
  expect((await now.readNext()).statusCode).toBe(StatusCodes.NotModified);
  await container.items.create<Doc>({ id: 'x', pk: 'k4', n: 0 });
  await container.items.create<Doc>({ id: 'y', pk: 'k3', n: 0 });
  expect(ids((await drain(now)).docs)).toEqual(['y']);
});

test('from a time: only documents written at or after it', async () => {
  const container = await newContainer('time');
  await container.items.create<Doc>({ id: 'old', pk: 'a', n: 0 });
  await container.items.create<Doc>({ id: 'touched', pk: 'a', n: 0 });
  // The SDK sends the time as an HTTP date (whole seconds): start at the next whole second.
  const second = Math.floor(Date.now() / 1000) + 1;
  while (Date.now() < second * 1000) await sleep(20);
  const start = new Date(second * 1000);
  await container.items.create<Doc>({ id: 'new', pk: 'b', n: 1 });
  await container.item('touched', 'a').replace<Doc>({ id: 'touched', pk: 'a', n: 1 });
  const { docs } = await drain(feed(container, { changeFeedStartFrom: ChangeFeedStartFrom.Time(start) }));
  expect(ids(docs)).toEqual(['new', 'touched']);
});

test('from a continuation in a new iterator: the changes after it, none before, none twice', async () => {
  const container = await newContainer('resume');
  for (let n = 0; n < 5; n++) await container.items.create<Doc>({ id: `d${n}`, pk: `k${n}`, n });
  const { continuation } = await drain(feed(container, { changeFeedStartFrom: ChangeFeedStartFrom.Beginning() }));
  await container.items.create<Doc>({ id: 'd5', pk: 'k5', n: 5 });
  await container.item('d1', 'k1').replace<Doc>({ id: 'd1', pk: 'k1', n: 10 });

  const resumed = feed(container, { changeFeedStartFrom: ChangeFeedStartFrom.Continuation(continuation) });
  const { docs, continuation: next } = await drain(resumed);
  expect(docs.map(({ id, n }) => ({ id, n }))).toEqual([
    { id: 'd5', n: 5 },
    { id: 'd1', n: 10 },
  ]);
  const again = feed(container, { changeFeedStartFrom: ChangeFeedStartFrom.Continuation(next) });
  expect((await again.readNext()).statusCode).toBe(StatusCodes.NotModified);
});

test('per feed range: the ranges together deliver each document once; a parent range continues on its children after a split', async () => {
  const container = await newContainer('ranges', 20_000);
  const all: Doc[] = Array.from({ length: 60 }, (_, n) => ({ id: `d${n}`, pk: `tenant-${n}`, n }));
  for (const doc of all) await container.items.create<Doc>(doc);
  const ranges = await container.getFeedRanges();
  expect(ranges).toHaveLength(2);

  const perRange = await Promise.all(
    ranges.map((range) =>
      drain(feed(container, { changeFeedStartFrom: ChangeFeedStartFrom.Beginning(range), maxItemCount: 7 }))
    )
  );
  const delivered = perRange.flatMap((r) => ids(r.docs));
  expect([...delivered].sort()).toEqual(ids(all).sort());
  expect(perRange.every((r) => r.docs.length > 0)).toBe(true);
  for (const r of perRange) {
    const lsns = r.docs.map((d) => d._lsn);
    expect([...lsns].sort((a, b) => a - b)).toEqual(lsns);
  }

  // The whole container from the beginning, then a split of both ranges, then writes on every side.
  const { continuation } = await drain(feed(container, { changeFeedStartFrom: ChangeFeedStartFrom.Beginning() }));
  for (const range of (await emulator.cosmos.control.partitions(DB, 'ranges')).ranges) {
    await emulator.cosmos.control.splitPartition(DB, 'ranges', range.id);
  }
  expect((await emulator.cosmos.control.partitions(DB, 'ranges')).ranges).toHaveLength(4);
  for (let n = 0; n < 20; n++) {
    await container
      .item(`d${n * 3}`, `tenant-${n * 3}`)
      .replace<Doc>({ id: `d${n * 3}`, pk: `tenant-${n * 3}`, n: -n });
  }
  const resumed = await drain(feed(container, { changeFeedStartFrom: ChangeFeedStartFrom.Continuation(continuation) }));
  expect(ids(resumed.docs).sort()).toEqual(Array.from({ length: 20 }, (_, n) => `d${n * 3}`).sort());
  expect(resumed.docs.every((d) => d.n <= 0)).toBe(true);
}, 60_000);

test('a request charge on every page, 304 included', async () => {
  const container = await newContainer('charges');
  await container.items.create<Doc>({ id: 'a', pk: 'a', n: 0 });
  const iterator = feed(container, { changeFeedStartFrom: ChangeFeedStartFrom.Beginning() });
  const page = await iterator.readNext();
  expect(page.statusCode).toBe(StatusCodes.Ok);
  expect(page.requestCharge).toBeGreaterThan(1);
  const notModified = await iterator.readNext();
  expect(notModified.statusCode).toBe(StatusCodes.NotModified);
  expect(notModified.requestCharge).toBeGreaterThan(0);
});

test('all versions and deletes: every create, replace and delete since now, in order, TTL expiries marked', async () => {
  const { container } = await database.containers.create({
    id: 'avad',
    partitionKey: { paths: ['/pk'], version: 2 },
    defaultTtl: -1,
  });
  const options = (start: ChangeFeedIteratorOptions['changeFeedStartFrom']) => ({
    changeFeedStartFrom: start,
    changeFeedMode: ChangeFeedMode.AllVersionsAndDeletes,
  });
  // From the beginning is not offered in this mode (Azure: now or a continuation).
  await expect(feed(container, options(ChangeFeedStartFrom.Beginning())).readNext()).rejects.toMatchObject({
    code: 400,
  });
  const all = feed(container, options(ChangeFeedStartFrom.Now()));
  const keyA = feed(container, options(ChangeFeedStartFrom.Now('a')));
  expect((await all.readNext()).statusCode).toBe(StatusCodes.NotModified);
  expect((await keyA.readNext()).statusCode).toBe(StatusCodes.NotModified);

  await container.items.create<Doc>({ id: 'x', pk: 'a', n: 1 });
  await container.item('x', 'a').replace<Doc>({ id: 'x', pk: 'a', n: 2 });
  await container.item('x', 'a').patch([{ op: 'incr', path: '/n', value: 1 }]);
  await container.items.upsert<Doc>({ id: 'y', pk: 'b', n: 0 });
  await container.item('y', 'b').delete();
  await container.items.create({ id: 'z', pk: 'a', n: 0, ttl: 1 });
  const deadline = Date.now() + 10_000;
  while ((await container.item('z', 'a').read()).statusCode !== 404) {
    if (Date.now() > deadline) throw new Error('z did not expire');
    await sleep(100);
  }

  type Change = { current?: FeedDoc; metadata: Record<string, unknown> };
  const changes = (await drain(all)).docs as unknown as Change[];
  const summary = changes.map((c) => ({
    op: c.metadata.operationType,
    id: c.current?.id ?? c.metadata.id,
    ...(c.current ? { n: c.current.n } : { partitionKey: c.metadata.partitionKey, ttl: c.metadata.timeToLiveExpired }),
  }));
  expect(summary).toEqual([
    { op: 'create', id: 'x', n: 1 },
    { op: 'replace', id: 'x', n: 2 },
    { op: 'replace', id: 'x', n: 3 },
    { op: 'create', id: 'y', n: 0 },
    { op: 'delete', id: 'y', partitionKey: { pk: 'b' }, ttl: false },
    { op: 'create', id: 'z', n: 0 },
    { op: 'delete', id: 'z', partitionKey: { pk: 'a' }, ttl: true },
  ]);
  const lsns = changes.map((c) => c.metadata.lsn as number);
  expect([...lsns].sort((a, b) => a - b)).toEqual(lsns);
  expect(changes[1]!.metadata.previousImageLSN).toBe(lsns[0]);
  expect(changes[4]!.metadata.previousImageLSN).toBe(lsns[3]);

  const onlyA = (await drain(keyA)).docs as unknown as Change[];
  expect(onlyA.map((c) => `${String(c.metadata.operationType)} ${c.current?.id ?? String(c.metadata.id)}`)).toEqual([
    'create x',
    'replace x',
    'replace x',
    'create z',
    'delete z',
  ]);
}, 30_000);

test('after a restart of the emulator, a continuation from before re-delivers documents and misses no later write', async () => {
  const own = await startTestEmulator();
  try {
    const { database: db } = await own.client.databases.create({ id: 'restart' });
    const { container } = await db.containers.create({ id: 'c', partitionKey: { paths: ['/pk'], version: 2 } });
    for (let n = 0; n < 3; n++) await container.items.create<Doc>({ id: `d${n}`, pk: 'a', n });
    const { continuation } = await drain(feed(container, { changeFeedStartFrom: ChangeFeedStartFrom.Beginning() }));
    const versions = feed(container, {
      changeFeedStartFrom: ChangeFeedStartFrom.Now(),
      changeFeedMode: ChangeFeedMode.AllVersionsAndDeletes,
    });
    const { continuation: versionsContinuation } = await drain(versions);
    await own.stop();

    const again = await startTestEmulator({ dataDir: own.dataDir, certificate: own.certificate });
    try {
      const c = again.client.database('restart').container('c');
      await c.items.create<Doc>({ id: 'after', pk: 'a', n: 9 });
      const { docs } = await drain(
        c.items.getChangeFeedIterator<Doc>({ changeFeedStartFrom: ChangeFeedStartFrom.Continuation(continuation) })
      );
      // The replay wrote every document again (new _lsn): at-least-once, never a skipped write.
      expect(ids(docs).sort()).toEqual(['after', 'd0', 'd1', 'd2']);
      // The versions were in memory: an all-versions-and-deletes continuation from before is refused, not half-served.
      const stale = c.items.getChangeFeedIterator<Doc>({
        changeFeedStartFrom: ChangeFeedStartFrom.Continuation(versionsContinuation),
        changeFeedMode: ChangeFeedMode.AllVersionsAndDeletes,
      });
      await expect(stale.readNext()).rejects.toMatchObject({ code: 400 });
    } finally {
      await again.stop();
    }
  } finally {
    await own.stop().catch(() => undefined);
  }
}, 60_000);

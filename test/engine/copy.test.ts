/**
 * The copy mode's activities on the local stack (emulator over HTTPS through @azure/cosmos, ARM imitation through
 * @azure/arm-cosmosdb): a source partitioned by /accountNo copied into a target partitioned by /tenant (which up()
 * derives), while an application creates, updates (also moving a document to another tenant) and deletes in the
 * source; the catch-up replays the source's all-versions-and-deletes feed from a start point taken before the
 * backfill. The target must then hold exactly up() of every source document, and the source what the application
 * wrote. COPY_DOCS sets the source's size (default 2,000; the 20,000 with COPY_DOCS=20000).
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import type { Container } from '@azure/cosmos';
import type { DocumentFailure } from '../../common/activities';
import type { CopyRangeInput, CopyRangeResult, SyncCopyInput, SyncCopyResult } from '../../common/copy';
import { ErrorType } from '../../common/errors';
import type { Migration, MigrationDocument } from '../../common/migration';
import { copyRange } from '../../activities/copy/backfill';
import { prepareCopyTarget } from '../../activities/copy/prepare-target';
import { markCopyStart, reverseSyncRange, syncCopyRange } from '../../activities/copy/sync';
import { verifyCopy } from '../../activities/copy/verify';
import { findDeletedCopies, findDeletedSources } from '../../activities/copy/reconcile';
import { checkTargetCopies } from '../../activities/copy/target-copies';
import { createRestoreActivities } from '../../activities/arm/restore';
import { listFeedRanges } from '../../activities/cosmos/feed-ranges';
import { continuationWithin } from '../../workflows/copy/feed-continuation';
import { checkMigration } from '../../activities/registry';
import { seed, startEngineStack, wholeRange, type EngineStack } from './support';

type Account = MigrationDocument & { accountNo: string; org: string; balance: number; schemaVersion?: number };

const DOCS = Number(process.env.COPY_DOCS ?? 2000);
const DATABASE = 'copy';

let engine: EngineStack;
beforeAll(async () => {
  engine = await startEngineStack();
}, 120_000);
afterAll(async () => {
  await engine?.close();
});

let seq = 0;
function names(): { source: string; target: string } {
  seq += 1;
  const stem = `accounts${seq}-${Date.now().toString(36)}`;
  return { source: stem, target: `${stem}-by-tenant` };
}

/** The module under test: tenant derived from org; the source's partition key (accountNo) kept. */
function repartition(source: string, target: string, extra: Partial<Migration> = {}): Migration {
  return {
    id: 'repartition',
    description: 'accounts by tenant',
    database: DATABASE,
    container: source,
    fromVersion: 1,
    toVersion: 2,
    target: { container: target, partitionKey: '/tenant' },
    up(doc: Account) {
      if (doc.org === 'no-tenant') return { ...doc }; // a document the module cannot place
      return { ...doc, tenant: `tenant-${doc.org}` };
    },
    down(doc: Account & { tenant?: string }) {
      const back: Record<string, unknown> = { ...doc };
      delete back.tenant;
      return back as Account;
    },
    ...extra,
  };
}

/** What the target must hold for a source document, computed here independently of the engine. */
function expectedCopy(doc: Record<string, unknown>): Record<string, unknown> {
  const plain = withoutSystem(doc);
  if (plain.schemaVersion !== undefined && plain.schemaVersion !== 1) return plain;
  return { ...plain, tenant: `tenant-${String(plain.org)}`, schemaVersion: 2 };
}

/** What the source must hold again for a target document after the reverse sync: down() of it. */
function expectedBack(doc: Record<string, unknown>): Record<string, unknown> {
  const back = withoutSystem(doc);
  delete back.tenant;
  return { ...back, schemaVersion: 1 };
}

function withoutSystem(doc: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(doc).filter(([k]) => !['_rid', '_self', '_etag', '_attachments', '_ts', '_lsn'].includes(k))
  );
}

async function sourceContainer(source: string): Promise<Container> {
  const { database } = await engine.deps.cosmos.databases.createIfNotExists({ id: DATABASE });
  const { container } = await database.containers.createIfNotExists({
    id: source,
    partitionKey: { paths: ['/accountNo'], version: 2 },
  });
  return container;
}

function account(i: number, org = `o${i % 17}`): Account {
  return { id: `acct-${i}`, accountNo: `A-${i % 400}`, org, balance: i, schemaVersion: 1 };
}

async function all(container: Container): Promise<Map<string, Record<string, unknown>>> {
  const { resources } = await container.items.readAll<Record<string, unknown> & { id: string }>().fetchAll();
  return new Map(resources.map((d) => [JSON.stringify([d.accountNo, d.id]), withoutSystem(d)]));
}

function run<I, R>(fn: (deps: typeof engine.deps, input: I) => Promise<R>, input: I, heartbeatDetails?: unknown) {
  const env = new MockActivityEnvironment(heartbeatDetails !== undefined ? { heartbeatDetails } : {});
  const beats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => beats.push(d));
  const result = env.run<[typeof engine.deps, I], R, typeof fn>(fn, engine.deps, input);
  return { result, beats };
}

/** The repartition module on `sourceName`, and its target prepared (created) as the workflow's preflight does. */
async function prepared(sourceName: string, targetName: string) {
  engine.use(repartition(sourceName, targetName));
  const ref = { database: DATABASE, container: sourceName, migration: 'repartition' };
  const target = { database: DATABASE, container: targetName };
  await run(prepareCopyTarget, { ...ref, target, createdByThisRun: false }).result;
  return { ref, target };
}

/** The application: creates, updates (a fifth of them moving the account to another org) and deletes, until stopped. */
function application(source: Container, model: Map<string, Account>) {
  let stopped = false;
  let ops = 0;
  let next = DOCS;
  const keys = () => [...model.keys()];
  const loop = (async () => {
    while (!stopped) {
      const pick = model.get(keys()[(ops * 7919) % model.size]!)!;
      const kind = ops % 5;
      if (kind === 0 || kind === 1) {
        const doc = account(next++);
        await source.items.create(doc);
        model.set(doc.id, doc);
      } else if (kind === 2 || kind === 3) {
        const moved = ops % 4 === 2;
        const doc = { ...pick, balance: pick.balance + 1000, ...(moved ? { org: `moved-${ops}` } : {}) };
        await source.item(pick.id, pick.accountNo).replace(doc);
        model.set(doc.id, doc);
      } else {
        await source.item(pick.id, pick.accountNo).delete();
        model.delete(pick.id);
      }
      ops += 1;
    }
  })();
  return {
    ops: () => ops,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

/** The application after the cutover, on the target: creates, updates, moves an account to another org (a delete and
 * a create: the partition key cannot change) and deletes, in the new shape, until stopped. */
function targetApplication(target: Container, model: Map<string, Account & { tenant: string }>) {
  let stopped = false;
  let ops = 0;
  let next = 10 * DOCS;
  const loop = (async () => {
    while (!stopped) {
      const keys = [...model.keys()];
      const pick = model.get(keys[(ops * 104729) % keys.length]!)!;
      const kind = ops % 4;
      if (kind === 0) {
        const doc = { ...account(next++), schemaVersion: 2 };
        const placed = { ...doc, tenant: `tenant-${doc.org}` };
        await target.items.create(placed);
        model.set(placed.id, placed);
      } else if (kind === 1) {
        const doc = { ...pick, balance: pick.balance + 7 };
        await target.item(pick.id, pick.tenant).replace(doc);
        model.set(doc.id, doc);
      } else if (kind === 2) {
        const org = `after-${ops}`;
        const doc = { ...pick, org, tenant: `tenant-${org}` };
        await target.item(pick.id, pick.tenant).delete();
        await target.items.create(doc);
        model.set(doc.id, doc);
      } else {
        await target.item(pick.id, pick.tenant).delete();
        model.delete(pick.id);
      }
      ops += 1;
    }
  })();
  return {
    ops: () => ops,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

/** Runs an activity again and again from its continuation until it reports done; every result kept. */
async function untilDone<I extends { continuation?: string }, R extends { done: boolean; continuation?: string }>(
  fn: (deps: typeof engine.deps, input: I) => Promise<R>,
  input: I
): Promise<R[]> {
  const results: R[] = [];
  let continuation = input.continuation;
  for (;;) {
    const result = await run(fn, { ...input, continuation }).result;
    results.push(result);
    if (result.done) return results;
    continuation = result.continuation;
  }
}

test('the module target is validated where modules are loaded, field by field', () => {
  const good = repartition('a', 'b');
  expect(checkMigration(good)).toEqual([]);
  expect(
    checkMigration({ ...good, target: { container: 'a', partitionKey: 'tenant', throughput: 100, extra: 1 } })
  ).toEqual([
    'target.partitionKey: must be a path starting with "/", e.g. "/tenant"',
    'target.throughput: Too small: expected number to be >=400',
    'target: Unrecognized key: "extra"',
  ]);
  expect(checkMigration({ ...good, target: { container: 'a', partitionKey: '/tenant' } })).toEqual([
    'target.container: must differ from the source container (the source is never written)',
  ]);
  expect(
    checkMigration({ ...good, target: { container: 'b', partitionKey: '/tenant', throughputAfterCopy: 400 } })
  ).toEqual(['target.throughputAfterCopy: needs target.throughput (only dedicated throughput can be lowered)']);
  expect(
    checkMigration({
      ...good,
      target: { container: 'b', partitionKey: '/tenant', throughput: 4000, throughputAfterCopy: 400 },
    })
  ).toEqual([]);
});

test(`${DOCS} accounts by /accountNo copied into a container by /tenant while the application creates, updates and deletes: the target is exactly up() of the source; after the cutover the application's writes to the target come back to the source through down()`, async () => {
  const { source: sourceName, target: targetName } = names();
  const source = await sourceContainer(sourceName);
  const seeded = Array.from({ length: DOCS }, (_, i) => account(i));
  await seed(source, seeded, 'accountNo');
  const model = new Map(seeded.map((d) => [d.id, d]));
  engine.use(repartition(sourceName, targetName));
  const ref = { database: DATABASE, container: sourceName, migration: 'repartition' };
  const target = { database: DATABASE, container: targetName };

  const prepared = await run(prepareCopyTarget, { ...ref, target, createdByThisRun: false }).result;
  expect(prepared).toEqual({ created: true, partitionKeyPaths: ['/tenant'] });
  const { resource: definition } = await engine.deps.cosmos.database(DATABASE).container(targetName).read();
  expect(definition?.partitionKey?.paths).toEqual(['/tenant']);

  const range = await wholeRange(source);
  const mode = 'all-versions-and-deletes' as const;
  const start = await run(markCopyStart, { ...ref, target, feedRange: range, mode }).result;
  const app = application(source, model);
  let resumeAt = start.continuation;
  try {
    const backfill = await untilDone<CopyRangeInput, CopyRangeResult>(copyRange, {
      ...ref,
      target,
      feedRange: range,
      batchSize: 100,
      maxFailures: 0,
      maxSeconds: 0, // one page per attempt (backfill.ts): every attempt after the first resumes from a continuation
    });
    expect(backfill.length).toBeGreaterThan(1); // resumed from its continuation at least once
    const copied = backfill.reduce((n, r) => n + r.counters.written, 0);
    expect(copied).toBeGreaterThanOrEqual(DOCS * 0.8);
    expect(backfill.flatMap((r) => r.failures)).toEqual([]);
    // The catch-up while the application goes on writing (it never reaches the head while the writes go on: a few
    // rounds, as the catch-up phase runs until the cutover).
    let continuation = start.continuation;
    for (let round = 0; round < 3; round++) {
      const r = await run(syncCopyRange, {
        ...ref,
        target,
        feedRange: range,
        continuation,
        mode,
        batchSize: 100,
        maxFailures: 0,
        maxSeconds: 1,
      }).result;
      expect(r.failures).toEqual([]);
      continuation = r.continuation;
    }
    resumeAt = continuation;
  } finally {
    await app.stop();
  }
  expect(app.ops()).toBeGreaterThan(50);
  // The cutover: the application stopped, the feed drained to its head from where the catch-up stood.
  const last = await untilDone<SyncCopyInput, SyncCopyResult>(syncCopyRange, {
    ...ref,
    target,
    feedRange: range,
    continuation: resumeAt,
    mode,
    batchSize: 100,
    maxFailures: 0,
  });
  expect(last.at(-1)).toMatchObject({ done: true, secondsBehind: 0, failures: [] });

  // The source is exactly what the application wrote: the run never wrote it.
  const sourceNow = await all(source);
  expect(sourceNow).toEqual(new Map([...model.values()].map((d) => [JSON.stringify([d.accountNo, d.id]), d])));
  // The target is exactly up() of the source: every update, no deleted document, no copy left behind by a move.
  const expected = new Map([...sourceNow].map(([k, d]) => [k, expectedCopy(d)]));
  const targetContainer = engine.deps.cosmos.database(DATABASE).container(targetName);
  const copied = await all(targetContainer);
  expect(copied).toEqual(expected);
  // The verification at the cutover point agrees, with figures that are not zero.
  const verified = await run(verifyCopy, { ...ref, target, samplePerRange: 50 }).result;
  expect(verified).toMatchObject({
    passed: true,
    expectedByVersion: { '2': sourceNow.size },
    targetByVersion: { '2': sourceNow.size },
    sourceTotal: sourceNow.size,
    targetTotal: sourceNow.size,
    sampled: 50,
    mismatches: [],
  });

  // The cutover point: the target's feed marked before the application is pointed at it; then the application
  // writes to the target, and a rollback drains the reverse sync (the target's feed written back through down()).
  const targetRanges = await listFeedRanges(targetContainer);
  const points = await Promise.all(
    targetRanges.map((feedRange) => run(markCopyStart, { ...ref, target, feedRange, mode, of: 'target' }).result)
  );
  const targetModel = new Map(
    [...copied.values()].map((d) => [d.id as string, d as unknown as Account & { tenant: string }])
  );
  const after = targetApplication(targetContainer, targetModel);
  while (after.ops() < 80) await new Promise((resolve) => setTimeout(resolve, 50));
  await after.stop();
  let writtenBack = 0;
  for (const [i, feedRange] of targetRanges.entries()) {
    const results = await untilDone<SyncCopyInput, SyncCopyResult>(reverseSyncRange, {
      ...ref,
      target,
      feedRange,
      continuation: points[i]!.continuation,
      mode,
      batchSize: 100,
      maxFailures: 0,
    });
    expect(results.flatMap((r) => r.failures)).toEqual([]);
    writtenBack += results.reduce((n, r) => n + r.counters.written + r.counters.deleted, 0);
  }
  expect(writtenBack).toBeGreaterThanOrEqual(80);
  // Every write the application made to the target is in the source again, as down() makes it.
  const targetNow = await all(targetContainer);
  expect(targetNow).toEqual(new Map([...targetModel.values()].map((d) => [JSON.stringify([d.accountNo, d.id]), d])));
  expect(await all(source)).toEqual(new Map([...targetNow].map(([k, d]) => [k, expectedBack(d)])));
}, 600_000);

test('a document without its new partition key, and two whose ids meet in one new logical partition, are named problems (ids and source keys only)', async () => {
  const { source: sourceName, target: targetName } = names();
  const source = await sourceContainer(sourceName);
  await seed(
    source,
    [
      { id: 'twin', accountNo: 'A-1', org: 'same', balance: 1, schemaVersion: 1 },
      { id: 'twin', accountNo: 'A-2', org: 'same', balance: 2, schemaVersion: 1 },
      { id: 'lost', accountNo: 'A-3', org: 'no-tenant', balance: 3, schemaVersion: 1 },
      { id: 'fine', accountNo: 'A-4', org: 'other', balance: 4, schemaVersion: 1 },
    ],
    'accountNo'
  );
  engine.use(repartition(sourceName, targetName, { target: { container: targetName, partitionKey: '/tenant' } }));
  const ref = { database: DATABASE, container: sourceName, migration: 'repartition' };
  const target = { database: DATABASE, container: targetName };
  await run(prepareCopyTarget, { ...ref, target, createdByThisRun: false }).result;
  const input = { ...ref, target, feedRange: await wholeRange(source), batchSize: 100, maxFailures: 5 };
  const [result] = await untilDone<CopyRangeInput, CopyRangeResult>(copyRange, input);
  const failures = [...result!.failures].sort((a, b) => a.id.localeCompare(b.id));
  const twinCopied = (await all(engine.deps.cosmos.database(DATABASE).container(targetName))).has(
    JSON.stringify(['A-1', 'twin'])
  );
  const [twinKept, twinRefused] = twinCopied ? ['A-1', 'A-2'] : ['A-2', 'A-1'];
  expect(failures).toEqual<DocumentFailure[]>([
    {
      id: 'lost',
      partitionKey: 'A-3',
      error: 'the new partition key /tenant is missing (up() must derive it); not copied',
    },
    {
      id: 'twin',
      partitionKey: twinRefused,
      error: `its id collides in the new logical partition with the copy of the source document of partition key "${twinKept}"; not copied`,
    },
  ]);
  expect(result!.counters).toMatchObject({ read: 4, written: 2, failed: 2 });
  // Over maxFailures, the range stops for the operator with what it did.
  await expect(
    run(copyRange, { ...input, target, maxFailures: 1 }, undefined).result.then(
      () => undefined,
      (err: { type?: string }) => err.type
    )
  ).resolves.toBe(ErrorType.FailureThresholdExceeded);
}, 120_000);

test('preflight refuses a target that exists with documents, takes back an empty one of the declared shape (a retried creation)', async () => {
  const { source: sourceName, target: targetName } = names();
  await sourceContainer(sourceName);
  // Unique keys are declared here only: the emulator's stock store (@vercel/cosmosdb-server lib/account/items.js)
  // treats each unique-key path as unique on its own across the container, not as one key per logical partition.
  engine.use(
    repartition(sourceName, targetName, {
      target: { container: targetName, partitionKey: '/tenant', uniqueKeys: [{ paths: ['/email'] }], throughput: 600 },
    })
  );
  const ref = { database: DATABASE, container: sourceName, migration: 'repartition' };
  const target = { database: DATABASE, container: targetName };
  expect((await run(prepareCopyTarget, { ...ref, target, createdByThisRun: false }).result).created).toBe(true);
  const { resource: definition } = await engine.deps.cosmos.database(DATABASE).container(targetName).read();
  expect(definition?.partitionKey?.paths).toEqual(['/tenant']);
  expect(definition?.uniqueKeyPolicy?.uniqueKeys).toEqual([{ paths: ['/email'] }]);
  const { resource: offer } = await engine.deps.cosmos.database(DATABASE).container(targetName).readOffer();
  expect(offer?.content?.offerThroughput).toBe(600);
  // The activity retried after ARM created the container: empty, the declared shape.
  expect(await run(prepareCopyTarget, { ...ref, target, createdByThisRun: false }).result).toEqual({
    created: false,
    partitionKeyPaths: ['/tenant'],
  });
  await engine.deps.cosmos
    .database(DATABASE)
    .container(targetName)
    .items.create({ id: 'someone-else', tenant: 't', accountNo: 'x' });
  await expect(
    run(prepareCopyTarget, { ...ref, target, createdByThisRun: false }).result.then(
      () => 'accepted',
      (err: { type?: string; message: string }) => `${err.type}: ${err.message}`
    )
  ).resolves.toMatch(/^ContainerExists: the copy's target copy\/.* exists already \(1 document\(s\)/);
  // The run's own target (its state says it created it) is taken back with its documents.
  expect((await run(prepareCopyTarget, { ...ref, target, createdByThisRun: true }).result).created).toBe(false);
}, 120_000);

test('a backfill resumed from its last heartbeat on another worker copies every document once, no problem counted', async () => {
  const { source: sourceName, target: targetName } = names();
  const source = await sourceContainer(sourceName);
  const docs = Array.from({ length: 500 }, (_, i) => account(i));
  await seed(source, docs, 'accountNo');
  const { ref, target } = await prepared(sourceName, targetName);
  const input: CopyRangeInput = { ...ref, target, feedRange: await wholeRange(source), batchSize: 50, maxFailures: 0 };
  // The first worker dies after three pages: only its heartbeats survive. The pages after them were written too
  // (the worker died before heartbeating them): the next attempt meets their copies again (409) and keeps them.
  const first = run(copyRange, input);
  await first.result;
  const third = first.beats.filter((b) => (b as { counters: { read: number } }).counters.read === 150)[0];
  expect(third).toBeDefined();
  const resumed = await run(copyRange, input, third).result;
  expect(resumed).toMatchObject({ done: true, failures: [], counters: { read: 500, failed: 0 } });
  const copies = await all(engine.deps.cosmos.database(DATABASE).container(targetName));
  expect(copies).toEqual(new Map(docs.map((d) => [JSON.stringify([d.accountNo, d.id]), expectedCopy(d)])));
}, 120_000);

test('the verification names a copy that differs from up() of its source, one that is missing, and counts that differ', async () => {
  const { source: sourceName, target: targetName } = names();
  const source = await sourceContainer(sourceName);
  const docs = Array.from({ length: 30 }, (_, i) => account(i));
  await seed(source, docs, 'accountNo');
  const { ref, target } = await prepared(sourceName, targetName);
  await untilDone<CopyRangeInput, CopyRangeResult>(copyRange, {
    ...ref,
    target,
    feedRange: await wholeRange(source),
    batchSize: 100,
    maxFailures: 0,
  });
  const good = await run(verifyCopy, { ...ref, target, samplePerRange: 30 }).result;
  expect(good).toMatchObject({ passed: true, sampled: 30, sourceTotal: 30, targetTotal: 30, mismatches: [] });
  const copies = engine.deps.cosmos.database(DATABASE).container(targetName);
  const { resource: three } = await copies.item('acct-3', 'tenant-o3').read<Account>();
  await copies.item('acct-3', 'tenant-o3').replace({ ...three!, balance: -1 });
  await copies.item('acct-4', 'tenant-o4').delete();
  const bad = await run(verifyCopy, { ...ref, target, samplePerRange: 30 }).result;
  expect(bad).toMatchObject({ passed: false, sourceTotal: 30, targetTotal: 29, targetByVersion: { '2': 29 } });
  expect(bad.mismatches).toEqual([
    { id: 'acct-3', partitionKey: 'A-3', error: 'its copy differs from up() of it' },
    { id: 'acct-4', partitionKey: 'A-4', error: 'its copy is missing from the target' },
  ]);
}, 120_000);

test('a catch-up resumed from its last heartbeat on another worker replays the pages after it: the target is still exactly up() of the source', async () => {
  const { source: sourceName, target: targetName } = names();
  const source = await sourceContainer(sourceName);
  const docs = Array.from({ length: 200 }, (_, i) => account(i));
  await seed(source, docs, 'accountNo');
  const model = new Map(docs.map((d) => [d.id, d]));
  const { ref, target } = await prepared(sourceName, targetName);
  const feedRange = await wholeRange(source);
  const mode = 'all-versions-and-deletes' as const;
  const start = await run(markCopyStart, { ...ref, target, feedRange, mode }).result;
  await untilDone<CopyRangeInput, CopyRangeResult>(copyRange, {
    ...ref,
    target,
    feedRange,
    batchSize: 100,
    maxFailures: 0,
  });
  const app = application(source, model);
  while (app.ops() < 150) await new Promise((resolve) => setTimeout(resolve, 20));
  await app.stop();
  const input: SyncCopyInput = {
    ...ref,
    target,
    feedRange,
    continuation: start.continuation,
    mode,
    batchSize: 20,
    maxFailures: 0,
  };
  const first = run(syncCopyRange, input);
  await first.result;
  // The worker that ran it died after its third page: the retry starts from that heartbeat, the pages after it are
  // applied a second time (upserts and deletes of the same changes: nothing doubles, nothing is left behind).
  const third = first.beats.filter((b) => (b as { counters: { read: number } }).counters.read > 0)[2];
  expect(third).toBeDefined();
  const resumed = await run(syncCopyRange, input, third).result;
  expect(resumed).toMatchObject({ done: true, failures: [] });
  expect(resumed.counters.read).toBeGreaterThan((third as { counters: { read: number } }).counters.read);
  const sourceNow = await all(source);
  expect(sourceNow.size).toBe(model.size);
  const copies = await all(engine.deps.cosmos.database(DATABASE).container(targetName));
  expect(copies).toEqual(new Map([...sourceNow].map(([k, d]) => [k, expectedCopy(d)])));
}, 120_000);

test('a source range that splits during the backfill: FeedRangeSplit with what was copied, its children copied from their start, the catch-up goes on over the split from the start point; the target is exactly up() of the source', async () => {
  const { source: sourceName, target: targetName } = names();
  const source = await sourceContainer(sourceName);
  await engine.stack.cosmos.control.setPartitionCount(DATABASE, sourceName, 2);
  const docs = Array.from({ length: 1000 }, (_, i) => account(i));
  await seed(source, docs, 'accountNo');
  const model = new Map(docs.map((d) => [d.id, d]));
  const { ref, target } = await prepared(sourceName, targetName);
  const mode = 'all-versions-and-deletes' as const;
  const ranges = await listFeedRanges(source);
  expect(ranges).toHaveLength(2);
  const starts = await Promise.all(
    ranges.map((feedRange) => run(markCopyStart, { ...ref, target, feedRange, mode }).result)
  );
  const [first, second] = ranges as [string, string];
  const { minInclusive, maxExclusive } = JSON.parse(first) as { minInclusive: string; maxExclusive: string };
  const layout = await engine.stack.cosmos.control.partitions(DATABASE, sourceName);
  const parentId = layout.ranges.find((r) => r.minInclusive === minInclusive)!.id;

  const env = new MockActivityEnvironment();
  let split: Promise<unknown> | undefined;
  env.on('heartbeat', (d: unknown) => {
    if ((d as { counters: { written: number } }).counters.written > 0) {
      split ??= engine.stack.cosmos.control.splitPartition(DATABASE, sourceName, parentId);
    }
  });
  const input: CopyRangeInput = { ...ref, target, feedRange: first, batchSize: 20, maxFailures: 0 };
  const err = (await env.run(copyRange, engine.deps, input).catch((e: unknown) => e)) as {
    type?: string;
    details?: [CopyRangeResult];
  };
  await split;
  expect(err.type).toBe(ErrorType.FeedRangeSplit);
  const atSplit = err.details![0];
  expect(atSplit.counters.written).toBeGreaterThan(0);
  expect(atSplit.counters.written).toBeLessThan(1000);

  const app = application(source, model);
  try {
    // What the range loop does: the parent replaced by the ranges inside it, each copied from its start.
    const children = (await listFeedRanges(source)).filter((r) => {
      const child = JSON.parse(r) as { minInclusive: string; maxExclusive: string };
      return child.minInclusive >= minInclusive && (child.maxExclusive <= maxExclusive || maxExclusive === 'FF');
    });
    expect(children).toHaveLength(2);
    for (const feedRange of [...children, second]) {
      const results = await untilDone<CopyRangeInput, CopyRangeResult>(copyRange, { ...input, feedRange });
      expect(results.flatMap((r) => r.failures)).toEqual([]);
    }
  } finally {
    await app.stop();
  }
  expect(app.ops()).toBeGreaterThan(0);
  // The catch-up from the start points taken before the split: the parent's continuation goes on over its children.
  for (const [i, feedRange] of ranges.entries()) {
    const results = await untilDone<SyncCopyInput, SyncCopyResult>(syncCopyRange, {
      ...ref,
      target,
      feedRange,
      continuation: starts[i]!.continuation,
      mode,
      batchSize: 100,
      maxFailures: 0,
    });
    expect(results.flatMap((r) => r.failures)).toEqual([]);
  }
  const sourceNow = await all(source);
  expect(sourceNow).toEqual(new Map([...model.values()].map((d) => [JSON.stringify([d.accountNo, d.id]), d])));
  const copies = await all(engine.deps.cosmos.database(DATABASE).container(targetName));
  expect(copies).toEqual(new Map([...sourceNow].map(([k, d]) => [k, expectedCopy(d)])));
}, 300_000);

test("a source range that splits during the catch-up, the application writing before and after the split: each child goes on from the parent's continuation clipped to it (continuationWithin), so the changes between the parent's last page and the split are copied; the target is exactly up() of the source", async () => {
  const { source: sourceName, target: targetName } = names();
  const source = await sourceContainer(sourceName);
  await engine.stack.cosmos.control.setPartitionCount(DATABASE, sourceName, 2);
  const docs = Array.from({ length: 300 }, (_, i) => account(i));
  await seed(source, docs, 'accountNo');
  const model = new Map(docs.map((d) => [d.id, d]));
  const { ref, target } = await prepared(sourceName, targetName);
  const mode = 'all-versions-and-deletes' as const;
  const ranges = await listFeedRanges(source);
  expect(ranges).toHaveLength(2);
  const starts = await Promise.all(
    ranges.map((feedRange) => run(markCopyStart, { ...ref, target, feedRange, mode }).result)
  );
  for (const feedRange of ranges) {
    await untilDone<CopyRangeInput, CopyRangeResult>(copyRange, {
      ...ref,
      target,
      feedRange,
      batchSize: 100,
      maxFailures: 0,
    });
  }
  const [parent, other] = ranges as [string, string];
  const { minInclusive } = JSON.parse(parent) as { minInclusive: string };
  const layout = await engine.stack.cosmos.control.partitions(DATABASE, sourceName);
  const parentId = layout.ranges.find((r) => r.minInclusive === minInclusive)!.id;
  const sync = (feedRange: string, continuation: string) =>
    untilDone<SyncCopyInput, SyncCopyResult>(syncCopyRange, {
      ...ref,
      target,
      feedRange,
      continuation,
      mode,
      batchSize: 50,
      maxFailures: 0,
    });
  const wait = (ops: number) =>
    (async () => {
      while (app.ops() < ops) await new Promise((resolve) => setTimeout(resolve, 10));
    })();
  const app = application(source, model);
  let parentPoint: string;
  let otherPoint: string;
  try {
    await wait(40);
    // A first catch-up round over both ranges: the parent's point in the feed as the workflow checkpoints it.
    parentPoint = (await sync(parent, starts[0]!.continuation)).at(-1)!.continuation!;
    otherPoint = (await sync(other, starts[1]!.continuation)).at(-1)!.continuation!;
    // Changes after the parent's last page and before the split: a child that started "from now" would miss them.
    await wait(app.ops() + 60);
    await engine.stack.cosmos.control.splitPartition(DATABASE, sourceName, parentId);
    await wait(app.ops() + 60);
  } finally {
    await app.stop();
  }
  const children = (await listFeedRanges(source)).filter((r) => r !== other);
  expect(children).toHaveLength(2);
  const parentToken = JSON.parse(parentPoint) as { rid: string; Continuation: { continuationToken: string }[] };
  for (const child of children) {
    const continuation = continuationWithin([parentPoint], child)!;
    const bounds = JSON.parse(child) as { minInclusive: string; maxExclusive: string };
    // The parent's etag, on the child's EPK range only (@azure/cosmos CompositeContinuationToken).
    expect(JSON.parse(continuation)).toEqual({
      rid: parentToken.rid,
      Continuation: [{ ...bounds, continuationToken: parentToken.Continuation[0]!.continuationToken }],
    });
    const results = await sync(child, continuation);
    expect(results.flatMap((r) => r.failures)).toEqual([]);
    // Each child read only its own range: its continuation names no other.
    const last = JSON.parse(results.at(-1)!.continuation) as { Continuation: { minInclusive: string }[] };
    expect(last.Continuation.map((e) => e.minInclusive)).toEqual([bounds.minInclusive]);
  }
  await sync(other, otherPoint);
  const sourceNow = await all(source);
  expect(sourceNow).toEqual(new Map([...model.values()].map((d) => [JSON.stringify([d.accountNo, d.id]), d])));
  const copies = await all(engine.deps.cosmos.database(DATABASE).container(targetName));
  expect(copies).toEqual(new Map([...sourceNow].map(([k, d]) => [k, expectedCopy(d)])));
}, 120_000);

test("checkTargetCopies, before a rollback deletes a target that never cut over: every target document compared whole with up() of its source document; one the application wrote and a copy that differs are counted and named by id, the run's copies are not", async () => {
  const { source: sourceName, target: targetName } = names();
  const source = await sourceContainer(sourceName);
  const docs = Array.from({ length: 250 }, (_, i) => account(i));
  await seed(source, docs, 'accountNo');
  const { ref, target } = await prepared(sourceName, targetName);
  const feedRange = await wholeRange(source);
  await untilDone<CopyRangeInput, CopyRangeResult>(copyRange, {
    ...ref,
    target,
    feedRange,
    batchSize: 100,
    maxFailures: 0,
  });
  const check = (batchSize = 40) => run(checkTargetCopies, { ...ref, target, batchSize }).result;
  // Only the run's copies: nothing to ask.
  const clean = await check();
  expect(clean).toMatchObject({ documents: 250, notCopies: 0, ids: [] });
  expect(clean.ruConsumed).toBeGreaterThan(0);
  const copies = engine.deps.cosmos.database(DATABASE).container(targetName);
  // The application writes one document of its own, and changes one field of a copy.
  await copies.items.create({ ...expectedCopy(account(9000)), id: 'app-written' });
  const changed = expectedCopy(docs[17]!);
  await copies.item(changed.id as string, changed.tenant as string).replace({ ...changed, balance: -1 });
  const found = await check();
  expect(found).toMatchObject({ documents: 251, notCopies: 2 });
  expect([...found.ids].sort()).toEqual(['acct-17', 'app-written']);
  // Resumed from a heartbeat after its first page (beats[0] is the change feed's mark, before any page), it counts
  // the rest once.
  const first = run(checkTargetCopies, { ...ref, target, batchSize: 40 });
  await first.result;
  const resumed = await run(checkTargetCopies, { ...ref, target, batchSize: 40 }, first.beats[1]).result;
  expect({ ...resumed, ruConsumed: 0 }).toEqual({ ...found, ruConsumed: 0 });
  // A target already deleted (a retried rollback): nothing in it.
  await engine.deps.cosmos.database(DATABASE).container(targetName).delete();
  expect(await check()).toEqual({ documents: 0, notCopies: 0, ids: [], ruConsumed: 0 });
}, 120_000);

test("the delete after a clean checkTargetCopies acts only on what was checked: a copy replaced after the check's mark in the target's change feed stops it (ContainerInUse), nothing deleted; unchanged, it deletes", async () => {
  const { source: sourceName, target: targetName } = names();
  const source = await sourceContainer(sourceName);
  const docs = Array.from({ length: 40 }, (_, i) => account(i));
  await seed(source, docs, 'accountNo');
  const { ref, target } = await prepared(sourceName, targetName);
  await untilDone<CopyRangeInput, CopyRangeResult>(copyRange, {
    ...ref,
    target,
    feedRange: await wholeRange(source),
    batchSize: 100,
    maxFailures: 0,
  });
  const check = await run(checkTargetCopies, { ...ref, target, batchSize: 100 }).result;
  expect(check).toMatchObject({ documents: 40, notCopies: 0, changesFrom: expect.any(String) });
  const copies = engine.deps.cosmos.database(DATABASE).container(targetName);
  // The application overwrites a copy it already checked: same count, so only the feed can tell.
  const overwritten = expectedCopy(docs[3]!);
  await copies.item(overwritten.id as string, overwritten.tenant as string).replace({ ...overwritten, balance: -7 });
  const { deleteContainer } = createRestoreActivities(engine.deps);
  const del = { ...target, documentsApproved: check.documents, unchangedSince: check.changesFrom };
  const refused = await new MockActivityEnvironment().run(deleteContainer, del).catch((err: unknown) => err);
  expect(refused).toBeInstanceOf(ApplicationFailure);
  expect(refused).toMatchObject({ type: 'ContainerInUse', nonRetryable: true });
  expect(String((refused as Error).message)).toContain(
    '1 document(s) were created or replaced in it after it was checked'
  );
  expect((await all(copies)).size).toBe(40);
  // Checked again, with nothing written since: deleted.
  const again = await run(checkTargetCopies, { ...ref, target, batchSize: 100 }).result;
  await new MockActivityEnvironment().run(deleteContainer, {
    ...target,
    documentsApproved: again.documents,
    unchangedSince: again.changesFrom,
  });
  const gone = await copies.read().catch((err: unknown) => err);
  expect(gone).toMatchObject({ code: 404 });
}, 120_000);

test('latest-version mode (no continuous backup): the feed brings no deletes; findDeletedCopies, comparing the target with the source at the cutover point, deletes exactly the copies left behind', async () => {
  const { source: sourceName, target: targetName } = names();
  const source = await sourceContainer(sourceName);
  const docs = Array.from({ length: 300 }, (_, i) => account(i));
  await seed(source, docs, 'accountNo');
  const model = new Map(docs.map((d) => [d.id, d]));
  const { ref, target } = await prepared(sourceName, targetName);
  const feedRange = await wholeRange(source);
  const mode = 'latest-version' as const;
  const start = await run(markCopyStart, { ...ref, target, feedRange, mode }).result;
  const app = application(source, model);
  try {
    await untilDone<CopyRangeInput, CopyRangeResult>(copyRange, {
      ...ref,
      target,
      feedRange,
      batchSize: 20,
      maxFailures: 0,
    });
    while (app.ops() < 150) await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    await app.stop();
  }
  const synced = await untilDone<SyncCopyInput, SyncCopyResult>(syncCopyRange, {
    ...ref,
    target,
    feedRange,
    continuation: start.continuation,
    mode,
    batchSize: 100,
    maxFailures: 0,
  });
  expect(synced.flatMap((r) => r.failures)).toEqual([]);
  const sourceNow = await all(source);
  const expected = new Map([...sourceNow].map(([k, d]) => [k, expectedCopy(d)]));
  const copies = engine.deps.cosmos.database(DATABASE).container(targetName);
  const before = await all(copies);
  const leftBehind = [...before.keys()].filter((k) => !expected.has(k));
  expect(leftBehind.length).toBeGreaterThan(0); // the application deleted some: the feed did not say so
  let deleted = 0;
  for (const targetRange of await listFeedRanges(copies)) {
    const results = await untilDone<CopyRangeInput, CopyRangeResult>(findDeletedCopies, {
      ...ref,
      target,
      feedRange: targetRange,
      batchSize: 50,
      maxFailures: 0,
    });
    deleted += results.reduce((n, r) => n + r.counters.deleted, 0);
  }
  expect(deleted).toBe(leftBehind.length);
  expect(await all(copies)).toEqual(expected);
}, 120_000);

test("latest-version mode, a rollback after the cutover: the reverse sync brings the application's creates and updates back, and findDeletedSources deletes from the source what the application deleted in the target (that feed has none); a document up() could not place stays", async () => {
  const { source: sourceName, target: targetName } = names();
  const source = await sourceContainer(sourceName);
  const docs = [...Array.from({ length: 200 }, (_, i) => account(i)), account(200, 'no-tenant')];
  await seed(source, docs, 'accountNo');
  const { ref, target } = await prepared(sourceName, targetName);
  const mode = 'latest-version' as const;
  const sourceRanges = await listFeedRanges(source);
  for (const feedRange of sourceRanges) {
    await untilDone<CopyRangeInput, CopyRangeResult>(copyRange, {
      ...ref,
      target,
      feedRange,
      batchSize: 50,
      maxFailures: 1,
    });
  }
  // The cutover point: the target's feed marked, then the application writes to the target (deletes included).
  const targetContainer = engine.deps.cosmos.database(DATABASE).container(targetName);
  const targetRanges = await listFeedRanges(targetContainer);
  const points = await Promise.all(
    targetRanges.map((feedRange) => run(markCopyStart, { ...ref, target, feedRange, mode, of: 'target' }).result)
  );
  const targetModel = new Map(
    [...(await all(targetContainer)).values()].map((d) => [
      d.id as string,
      d as unknown as Account & { tenant: string },
    ])
  );
  const after = targetApplication(targetContainer, targetModel);
  while (after.ops() < 80) await new Promise((resolve) => setTimeout(resolve, 20));
  await after.stop();
  for (const [i, feedRange] of targetRanges.entries()) {
    const results = await untilDone<SyncCopyInput, SyncCopyResult>(reverseSyncRange, {
      ...ref,
      target,
      feedRange,
      continuation: points[i]!.continuation,
      mode,
      batchSize: 100,
      maxFailures: 0,
    });
    expect(results.flatMap((r) => r.failures)).toEqual([]);
  }
  const targetNow = await all(targetContainer);
  const unplaced = JSON.stringify([docs[200]!.accountNo, docs[200]!.id]);
  const wanted = new Map([...[...targetNow].map(([k, d]) => [k, expectedBack(d)] as const), [unplaced, docs[200]!]]);
  // The feed carried no deletes: the documents the application deleted in the target are still in the source.
  const leftBehind = [...(await all(source)).keys()].filter((k) => !wanted.has(k));
  expect(leftBehind.length).toBeGreaterThan(0);
  let deleted = 0;
  for (const feedRange of sourceRanges) {
    const results = await untilDone<CopyRangeInput, CopyRangeResult>(findDeletedSources, {
      ...ref,
      target,
      feedRange,
      batchSize: 30,
      maxFailures: 0,
    });
    expect(results.flatMap((r) => r.failures)).toEqual([]);
    deleted += results.reduce((n, r) => n + r.counters.deleted, 0);
  }
  expect(deleted).toBe(leftBehind.length);
  // The source is down() of the target exactly, and the document up() could not place is left as it was.
  expect(await all(source)).toEqual(wanted);
}, 120_000);

test('findDeletedSources with keepMissing (the copy was not complete at the cutover): a source document whose copy is missing is named, never deleted, since its copy may never have been made', async () => {
  const { source: sourceName, target: targetName } = names();
  const source = await sourceContainer(sourceName);
  const docs = Array.from({ length: 60 }, (_, i) => account(i));
  await seed(source, docs, 'accountNo');
  const { ref, target } = await prepared(sourceName, targetName);
  const sourceRanges = await listFeedRanges(source);
  for (const feedRange of sourceRanges) {
    await untilDone<CopyRangeInput, CopyRangeResult>(copyRange, {
      ...ref,
      target,
      feedRange,
      batchSize: 50,
      maxFailures: 0,
    });
  }
  // Three copies missing from the target: never made (a failed write the operator accepted) or deleted since, the
  // containers cannot tell which.
  const targetContainer = engine.deps.cosmos.database(DATABASE).container(targetName);
  const missing = docs.slice(0, 3);
  for (const d of missing) await targetContainer.item(d.id, `tenant-${d.org}`).delete();
  const before = await all(source);
  const failures: DocumentFailure[] = [];
  let deleted = 0;
  for (const feedRange of sourceRanges) {
    const results = await untilDone<CopyRangeInput, CopyRangeResult>(findDeletedSources, {
      ...ref,
      target,
      feedRange,
      batchSize: 25,
      maxFailures: 10,
      keepMissing: true,
    });
    failures.push(...results.flatMap((r) => r.failures));
    deleted += results.reduce((n, r) => n + r.counters.deleted, 0);
  }
  expect(deleted).toBe(0);
  expect(failures.map((f) => f.id).sort()).toEqual(missing.map((d) => d.id).sort());
  expect(failures.every((f) => f.error.includes('not complete at the cutover'))).toBe(true);
  expect(await all(source)).toEqual(before);
}, 120_000);

test("the source's reads and the target's writes share one RU budget: a backfill at ruBudget spends at most that per second", async () => {
  const { source: sourceName, target: targetName } = names();
  const source = await sourceContainer(sourceName);
  await seed(
    source,
    Array.from({ length: 200 }, (_, i) => account(i)),
    'accountNo'
  );
  const { ref, target } = await prepared(sourceName, targetName);
  const ruBudget = 400;
  const started = Date.now();
  const [result] = await untilDone<CopyRangeInput, CopyRangeResult>(copyRange, {
    ...ref,
    target,
    feedRange: await wholeRange(source),
    batchSize: 50,
    maxFailures: 0,
    ruBudget,
  });
  const seconds = (Date.now() - started) / 1000;
  expect(result!.counters).toMatchObject({ read: 200, written: 200, failed: 0 });
  // Spent: the scan's pages and the creates, both booked on the one budget (RuBudget pays a request's charge back
  // after it, so at most one request ahead of the budget: the allowance below).
  const spent = result!.counters.ruConsumed;
  expect(spent).toBeGreaterThan(2 * ruBudget);
  expect(seconds).toBeGreaterThanOrEqual((spent - ruBudget) / ruBudget);
}, 120_000);

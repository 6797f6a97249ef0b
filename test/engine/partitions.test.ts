/**
 * The engine on a container of several physical partitions (the emulator's partition model, local/README.md): a range
 * that splits while migrateRange scans it, the Low priority of every migration request, the bounded final pass, and
 * counts, samples and remaining checks done per range with aggregates (a split while counting included).
 */
import https from 'node:https';
import fs from 'node:fs';
import { CosmosClient, type Container } from '@azure/cosmos';
import { createDefaultHttpClient, type PipelineRequest } from '@azure/core-rest-pipeline';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { MigrationCounters, Snapshot } from '../../common/activities';
import type { Migration, MigrationDocument } from '../../common/migration';
import { createEngineActivities } from '../../activities/engine';
import type { ActivityDeps } from '../../activities/deps';
import { isPartitionGone, listFeedRanges } from '../../activities/cosmos/feed-ranges';
import { MAX_FINAL_PASSES } from '../../activities/cosmos/migrate-range';
import { childRanges } from '../../workflows/ranges';
import { freshContainer, rangeInput, readAll, runRange, seed, startEngineStack, type EngineStack } from './support';

let engine: EngineStack;

beforeAll(async () => {
  engine = await startEngineStack();
}, 120_000);

afterAll(async () => {
  await engine?.close();
});

type Doc = MigrationDocument & { tenantId: string; name?: string; first?: string; schemaVersion?: number | string };

/** Splits `name` (1 → 2) and counts up() calls per id, so a test can prove no document was transformed twice. */
function splitName(transforms = new Map<string, number>(), extra: Partial<Migration> = {}): Migration {
  return {
    id: 'split-name',
    description: 'split name',
    database: 'engine',
    container: 'customers',
    fromVersion: 1,
    toVersion: 2,
    up(doc: Doc) {
      transforms.set(doc.id, (transforms.get(doc.id) ?? 0) + 1);
      if (typeof doc.name !== 'string') return undefined;
      const next: Doc = { ...doc, first: doc.name.split(' ')[0] };
      delete next.name;
      return next;
    },
    ...extra,
  };
}

/** Unique partition keys, so the documents spread evenly over the ranges. */
function customers(n: number, prefix = 'cust'): Doc[] {
  return Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, tenantId: `t${i}`, name: `First${i} Last${i}` }));
}

/** A container of `count` physical partitions (fresh ids), seeded. */
async function partitioned(count: number, docs: Doc[]): Promise<Container> {
  const container = await freshContainer(engine.deps);
  await engine.stack.cosmos.control.setPartitionCount(container.database.id, container.id, count);
  await seed(container, docs);
  return container;
}

/** The live partition key range whose hash range starts where the feed range does. */
async function pkRangeIdOf(container: Container, feedRange: string): Promise<string> {
  const { minInclusive } = JSON.parse(feedRange) as { minInclusive: string };
  const layout = await engine.stack.cosmos.control.partitions(container.database.id, container.id);
  return layout.ranges.find((r) => r.minInclusive === minInclusive)!.id;
}

async function versionsOf(container: Container, ids: string[]): Promise<unknown[]> {
  const all = await readAll<Doc>(container);
  return ids.map((id) => all.get(id)?.schemaVersion);
}

test('a range that splits while migrateRange scans it: the pages in flight are committed, FeedRangeSplit is thrown, and its children finish the work with no document migrated twice', async () => {
  const transforms = new Map<string, number>();
  engine.use(splitName(transforms));
  const docs = customers(1200);
  const container = await partitioned(2, docs);
  const [first, second] = await listFeedRanges(container);
  const parentId = await pkRangeIdOf(container, first!);

  let split: Promise<unknown> | undefined;
  const heartbeats: unknown[] = [];
  const err = await runRange(engine.deps, rangeInput(container, 'split-name', first!, { batchSize: 20 }), {
    heartbeats,
    onHeartbeat: (details) => {
      const migrated = (details as { counters: MigrationCounters }).counters.migrated;
      if (migrated > 0 && !split) {
        split = engine.stack.cosmos.control.splitPartition(container.database.id, container.id, parentId);
      }
    },
  }).catch((e: unknown) => e);
  await split;

  expect(err).toBeInstanceOf(ApplicationFailure);
  expect((err as ApplicationFailure).type).toBe('FeedRangeSplit');
  expect((err as ApplicationFailure).nonRetryable).toBe(true);
  expect((err as Error).message).toContain('split while it was migrated (410/1002)');
  const [atSplit] = (err as ApplicationFailure).details as [MigrationCounters];
  // Everything it wrote was committed: the last heartbeat (what a retry or the workflow sees) counts exactly the
  // documents now at version 2.
  const migratedNow = (await readAll<Doc>(container)).values();
  const atV2 = [...migratedNow].filter((d) => d.schemaVersion === 2).length;
  expect(atSplit.migrated).toBeGreaterThan(0);
  expect(atV2).toBe(atSplit.migrated);
  const last = heartbeats.at(-1) as { counters: MigrationCounters };
  expect(last.counters.migrated).toBe(atSplit.migrated);

  // What the workflow does: the parent is replaced by the ranges inside it, each scanned from its start.
  const children = childRanges(first!, await listFeedRanges(container));
  expect(children).toHaveLength(2);
  let byChildren = 0;
  for (const range of children) {
    const { result } = await runRange(engine.deps, rangeInput(container, 'split-name', range, { batchSize: 20 }));
    expect(result.done).toBe(true);
    byChildren += result.counters.migrated;
  }
  // The split came mid-scan: the children had documents of the parent left to migrate.
  expect(byChildren).toBeGreaterThan(0);
  const { result: other } = await runRange(engine.deps, rangeInput(container, 'split-name', second!));
  const migrated = atSplit.migrated + byChildren + other.counters.migrated;
  expect(migrated).toBe(docs.length);
  expect(
    await versionsOf(
      container,
      docs.map((d) => d.id)
    )
  ).toEqual(docs.map(() => 2));
  expect([...transforms.values()].every((n) => n === 1)).toBe(true);
  expect(transforms.size).toBe(docs.length);
  expect(engine.stack.cosmos.control.stats().partitionKeyRangeGone).toBeGreaterThan(0);
});

/** A client like the worker's that records every request it sends. */
function spyingDeps(): { deps: ActivityDeps; requests: PipelineRequest[]; close(): void } {
  const { settings } = engine.stack;
  const inner = createDefaultHttpClient();
  const requests: PipelineRequest[] = [];
  const client = new CosmosClient({
    endpoint: settings.cosmosEndpoint,
    key: settings.cosmosKey!,
    agent: new https.Agent({ keepAlive: true, ca: fs.readFileSync(settings.caCertPath!, 'utf8') }),
    connectionPolicy: { enableEndpointDiscovery: true },
    httpClient: {
      sendRequest(request) {
        requests.push(request);
        return inner.sendRequest(request);
      },
    },
  });
  return { deps: { ...engine.deps, cosmos: client }, requests, close: () => client.dispose() };
}

const header = (r: PipelineRequest, name: string) => r.headers.get(name);

test('every request of the migration (page queries and bulk writes) is sent at Low priority', async () => {
  engine.use(splitName());
  const container = await partitioned(2, customers(300));
  const spy = spyingDeps();
  try {
    for (const range of await listFeedRanges(container)) {
      await runRange(spy.deps, rangeInput(container, 'split-name', range, { batchSize: 50 }));
    }
  } finally {
    spy.close();
  }
  const docsPath = `/dbs/${container.database.id}/colls/${container.id}/docs`;
  const dataPlane = spy.requests.filter((r) => r.method === 'POST' && new URL(r.url).pathname === docsPath);
  const queries = dataPlane.filter((r) => header(r, 'x-ms-documentdb-isquery') === 'true');
  const bulk = dataPlane.filter((r) => header(r, 'x-ms-cosmos-is-batch-request') !== undefined);
  expect(queries.length).toBeGreaterThanOrEqual(2);
  expect(bulk.length).toBeGreaterThanOrEqual(6);
  expect(dataPlane.map((r) => header(r, 'x-ms-cosmos-priority-level'))).toEqual(dataPlane.map(() => 'Low'));
  expect(await versionsOf(container, ['cust-0', 'cust-299'])).toEqual([2, 2]);
});

test('an application that keeps writing documents at the old version is not chased forever: the final pass stops after its passes and counts them as rewrittenByApp', async () => {
  const container = await freshContainer(engine.deps);
  await seed(container, customers(100));
  await seed(container, [{ id: 'late-0', tenantId: 'late', name: 'Late Zero' }]);
  // The "application" creates a new document at the old version each time one of its documents is migrated (from
  // inside the transform, so deterministically after the pass read it and before the pass ends): each pass finds a
  // new one, so a final pass that ran "until nothing changes" would never end.
  const app = engine.deps.cosmos.database(container.database.id).container(container.id);
  engine.use(
    splitName(new Map(), {
      async up(doc: Doc) {
        if (doc.id.startsWith('late-')) {
          const k = Number(doc.id.slice('late-'.length));
          await app.items.create({ id: `late-${k + 1}`, tenantId: 'late', name: `Late ${k + 1}` });
        }
        if (typeof doc.name !== 'string') return undefined;
        const next: Doc = { ...doc, first: doc.name.split(' ')[0] };
        delete next.name;
        return next;
      },
    })
  );
  const [range] = await listFeedRanges(container);
  const { result } = await runRange(engine.deps, rangeInput(container, 'split-name', range!));
  expect(result.done).toBe(true);
  expect(result.counters).toMatchObject({ migrated: 101 + MAX_FINAL_PASSES, rewrittenByApp: MAX_FINAL_PASSES });
  const late = Array.from({ length: MAX_FINAL_PASSES + 2 }, (_, k) => `late-${k}`);
  // late-0 by the scan, one per final pass, and the last one the application wrote is left for verification.
  expect(await versionsOf(container, late)).toEqual([...late.slice(0, -1).map(() => 2), undefined]);
}, 60_000);

test('snapshot, plan and verification count per physical partition with aggregates, survive a split while counting, and sample every range', async () => {
  engine.use(
    splitName(new Map(), { verify: (doc: Doc) => typeof doc.first === 'string' || `${doc.id} has no first name` })
  );
  const docs: Doc[] = [
    ...customers(50, 'none'),
    ...customers(30, 'v1').map((d) => ({ ...d, schemaVersion: 1 })),
    ...customers(20, 'v2').map((d) => ({ ...d, schemaVersion: 2, first: 'x' })),
    ...customers(5, 'vx').map((d) => ({ ...d, schemaVersion: 'x' })),
  ];
  const container = await partitioned(4, docs);
  const ref = { database: container.database.id, container: container.id };
  const spy = spyingDeps();
  const activities = createEngineActivities(spy.deps);
  try {
    // takeSnapshot as an activity; at its first heartbeat (one range counted), another range splits.
    const layout = await engine.stack.cosmos.control.partitions(ref.database, ref.container);
    const goneBefore = engine.stack.cosmos.control.stats().partitionKeyRangeGone;
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    let split: Promise<unknown> | undefined;
    env.on('heartbeat', (d: unknown) => {
      beats.push(d);
      split ??= engine.stack.cosmos.control.splitPartition(ref.database, ref.container, layout.ranges.at(-1)!.id);
    });
    const snapshot: Snapshot = await env.run(activities.takeSnapshot, { ...ref, versionField: 'schemaVersion' });
    await split;
    expect(snapshot.documentCount).toBe(105);
    expect(snapshot.countsByVersion).toEqual({ '(missing)': 50, '1': 30, '2': 20, x: 5 });
    expect(engine.stack.cosmos.control.stats().partitionKeyRangeGone).toBeGreaterThan(goneBefore);
    // A heartbeat per range: the 4 ranges, one of them counted again as its 2 children.
    expect(beats.length).toBeGreaterThanOrEqual(4);

    // Every count was an aggregate sent to one partition key range; no query read the documents themselves.
    const queries = spy.requests.filter((r) => header(r, 'x-ms-documentdb-isquery') === 'true');
    const bodies = queries.map((r) => bodyText(r.body));
    expect(bodies.every((b) => /COUNT\(1\)|TOP 1 VALUE/.test(b))).toBe(true);
    expect(queries.every((r) => header(r, 'x-ms-documentdb-partitionkeyrangeid') !== undefined)).toBe(true);

    const plan = await activities.planMigration({ ...ref, migration: 'split-name', direction: 'up', sampleSize: 10 });
    expect(plan).toMatchObject({ totalDocuments: 105, documentsToMigrate: 80, sample: { size: 10, wouldChange: 10 } });

    for (const range of await listFeedRanges(container)) {
      await runRange(spy.deps, rangeInput(container, 'split-name', range));
    }
    spy.requests.splice(0);
    const report = await activities.verifyMigration({
      ...ref,
      migration: 'split-name',
      direction: 'up',
      sampleSize: 10,
    });
    expect(report).toMatchObject({ ok: true, remaining: 0, countsByVersion: { '2': 100, x: 5 } });
    expect(report.sampled).toBe(10);
    // The sample came from every range: one TOP query per live range (5 after the split), no scan of every key.
    const sampleQueries = spy.requests.filter((r) => /SELECT TOP \d+ c\.id/.test(bodyText(r.body)));
    expect(new Set(sampleQueries.map((r) => header(r, 'x-ms-documentdb-partitionkeyrangeid'))).size).toBe(5);
  } finally {
    spy.close();
  }
}, 60_000);

test('what counts as a gone range: 410 with substatus 1002/1007/1008 and the SDK 503 of fetchAll, nothing else', () => {
  expect(isPartitionGone({ code: 410, substatus: 1002 })).toBe(true);
  expect(isPartitionGone({ code: 410, substatus: 1007 })).toBe(true);
  expect(isPartitionGone({ code: 503, message: 'Encountered partition split and could not recover.' })).toBe(true);
  expect(isPartitionGone({ code: 410, substatus: 1000 })).toBe(false); // NameCacheIsStale: the SDK retries it
  expect(isPartitionGone({ code: 410 })).toBe(false);
  expect(isPartitionGone({ code: 503, message: 'Service Unavailable' })).toBe(false);
  expect(isPartitionGone({ code: 429 })).toBe(false);
});

/** A spied request's body as text (the SDK sends JSON strings; anything else is serialised). */
function bodyText(body: unknown): string {
  return typeof body === 'string' ? body : JSON.stringify(body ?? '');
}

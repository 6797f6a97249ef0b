/**
 * The phases around the migration proper, on the example migration 001 and its demo data: the snapshot's restore
 * point from the server's clock, the plan (counts, sample dry-run, measured RU), and verification catching a wrong
 * document, a relationship violation and documents left behind.
 */
import path from 'node:path';
import type { Container } from '@azure/cosmos';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { VerificationReport } from '../../common/activities';
import type { Migration, MigrationDocument } from '../../common/migration';
import { createEngineActivities, type EngineActivities } from '../../activities/engine';
import { loadRegistry } from '../../activities/registry';
import { demoCustomer, seedDemoCustomers } from '../../local/demo-seed';
import { liveRanges, rangeOptions } from '../../activities/cosmos/counts';
import {
  freshContainer,
  readAll,
  registryOf,
  runRange,
  startEngineStack,
  wholeRange,
  type EngineStack,
} from './support';

let engine: EngineStack;
let activities: EngineActivities;
let split: Migration;

beforeAll(async () => {
  engine = await startEngineStack();
  activities = createEngineActivities(engine.deps);
  split = (await loadRegistry(path.resolve(__dirname, '../../migrations'))).get('001-split-customer-name').definition;
  engine.deps.registry = registryOf([split]);
}, 120_000);

afterAll(async () => {
  await engine?.close();
});

type Customer = MigrationDocument & { tenantId: string; name?: string; firstName?: string; schemaVersion?: number };

async function demo(n: number): Promise<Container> {
  const container = await freshContainer(engine.deps, 'demo');
  await seedDemoCustomers(container, n);
  return container;
}

const ref = (c: Container) => ({ database: c.database.id, container: c.id });
const input = (c: Container) => ({ ...ref(c), migration: '001-split-customer-name', direction: 'up' as const });

async function migrate(c: Container): Promise<void> {
  const { result } = await runRange(engine.deps, {
    ...input(c),
    feedRange: await wholeRange(c),
    batchSize: 100,
    maxFailures: 0,
    dryRun: false,
  });
  expect(result.counters.failed).toBe(0);
}

test('takeSnapshot: T0 from the server clock separates the writes before it from the writes after it', async () => {
  const c = await demo(30);
  const before = await c.items.create({ id: 'before', tenantId: 'tenant-1', name: 'Before Snapshot' });

  const snapshot = await activities.takeSnapshot({ ...ref(c), versionField: 'schemaVersion' });

  const after = await c.items.create({ id: 'after', tenantId: 'tenant-1', name: 'After Snapshot' });
  const t0 = Date.parse(snapshot.t0);
  expect(t0 % 1000).toBe(0); // a whole second after the server's date header
  expect(before.resource!._ts * 1000).toBeLessThan(t0);
  expect(after.resource!._ts * 1000).toBeGreaterThanOrEqual(t0);
  expect(snapshot.documentCount).toBe(31);
  expect(snapshot.countsByVersion).toEqual({ '(missing)': 31 });
});

test('snapshot and plan of a container the migration has yet to create: a restore point, nothing to migrate', async () => {
  const missing = { database: 'demo', container: 'not-yet' };
  const snapshot = await activities.takeSnapshot({ ...missing, versionField: 'schemaVersion' });
  expect(snapshot).toMatchObject({ documentCount: 0, countsByVersion: {} });
  expect(Math.abs(Date.parse(snapshot.t0) - Date.now())).toBeLessThan(5000);
  const plan = await activities.planMigration({
    ...missing,
    migration: '001-split-customer-name',
    direction: 'up',
    sampleSize: 10,
  });
  expect(plan).toMatchObject({ totalDocuments: 0, documentsToMigrate: 0, estimatedSeconds: 0 });
  expect(plan.documentsAtTarget).toBeUndefined();
});

test('planMigration: counts, a dry-run sample, RU per read and per write measured on a probe, an estimate at the budget', async () => {
  const c = await demo(400);
  await c.items.create({ id: 'no-name', tenantId: 'tenant-1' }); // up() skips it
  await c.items.create({ id: 'already', tenantId: 'tenant-1', firstName: 'A', lastName: 'B', schemaVersion: 2 });
  const before = await readAll(c);

  const plan = await activities.planMigration({ ...input(c), sampleSize: 50, ruBudget: 500 });

  expect(plan.totalDocuments).toBe(402);
  expect(plan.documentsToMigrate).toBe(401);
  // An earlier run's document, at toVersion already: part of the state at T0 (a restore keeps it there).
  expect(plan.documentsAtTarget).toBe(1);
  expect(plan.sample.size).toBe(50);
  expect(plan.sample.wouldChange + plan.sample.wouldSkip).toBe(50);
  expect(plan.sample.failures).toEqual([]);
  expect(plan.sample.averageDocumentBytes).toBeGreaterThan(100);
  expect(plan.sample.ruPerRead).toBeGreaterThan(0);
  expect(plan.sample.ruPerWrite).toBeGreaterThanOrEqual(5);
  expect(plan.estimatedSeconds).toBeCloseTo((401 * (plan.sample.ruPerRead + plan.sample.ruPerWrite)) / 500, 0);
  expect(plan.ruBudget).toBe(500);
  // Nothing was written to the user's container, and the probe is gone from the history container.
  const after = await readAll(c);
  for (const [id, doc] of before) expect(after.get(id)!._etag).toBe(doc._etag);
  const history = engine.deps.cosmos.database('demo').container(engine.deps.control.historyContainer);
  const { resources: probes } = await history.items
    .query("SELECT * FROM c WHERE c.migrationId = '(plan-probe)'")
    .fetchAll();
  expect(probes).toEqual([]);
});

test('verifyMigration: ok after a clean migration; a wrong document, a relationship violation and leftovers are problems', async () => {
  const c = await demo(300);
  await migrate(c);

  const clean = await activities.verifyMigration({ ...input(c), sampleSize: 300 });
  expect(clean).toMatchObject({ ok: true, problems: [], remaining: 0, sampled: 300, sampleFailures: [] });
  expect(clean.countsByVersion).toEqual({ '2': 300 });
  expect(clean.relationships).toEqual([{ name: 'no migrated customer keeps name', rows: 0 }]);

  // A document stamped 2 but wrong (no firstName), one stamped 2 that kept `name`, and one put back at version 1.
  const docs = await readAll<Customer>(c);
  const wrong = docs.get('cust-00007')!;
  delete wrong.firstName;
  await c.item(wrong.id, wrong.tenantId).replace(wrong);
  const kept = docs.get('cust-00011')!;
  await c.item(kept.id, kept.tenantId).replace({ ...kept, name: 'Still Here' });
  const reverted = docs.get('cust-00013')!;
  await c
    .item(reverted.id, reverted.tenantId)
    .replace({ id: reverted.id, tenantId: reverted.tenantId, name: 'Back Again' });

  const report = await activities.verifyMigration({ ...input(c), sampleSize: 300 });

  expect(report.ok).toBe(false);
  expect(report.remaining).toBe(1);
  expect(report.countsByVersion).toEqual({ '2': 299, '(missing)': 1 });
  expect(report.sampleFailures.map((f) => [f.id, f.error]).sort()).toEqual([
    ['cust-00007', 'firstName is missing'],
    ['cust-00011', 'name is still present'],
  ]);
  expect(report.relationships).toEqual([{ name: 'no migrated customer keeps name', rows: 1 }]);
  expect(report.problems).toEqual([
    '1 document(s) at version 1 (or without schemaVersion) still need migrating (e.g. cust-00013).',
    expect.stringMatching(
      /^2 of 299 sampled document\(s\) fail verify\(\): cust-000(07|11): .*; cust-000(07|11): .*\.$/
    ),
    'relationship "no migrated customer keeps name" returned 1 row(s); it must return none.',
  ]);
});

test('verifyMigration: leftovers are counted in every range of a container of 4 physical partitions, not only the first', async () => {
  const c = await freshContainer(engine.deps, 'demo');
  await engine.stack.cosmos.control.setPartitionCount(c.database.id, c.id, 4);
  await seedDemoCustomers(c, 200, 40);
  for (const range of await c.getFeedRanges()) {
    const { minInclusive, maxExclusive } = range as unknown as { minInclusive: string; maxExclusive: string };
    const { result } = await runRange(engine.deps, {
      ...input(c),
      feedRange: JSON.stringify({ minInclusive, maxExclusive }),
      batchSize: 100,
      maxFailures: 0,
      dryRun: false,
    });
    expect(result.counters.failed).toBe(0);
  }
  // One document of each live range put back at version 1, read inside that range (counts.ts rangeOptions).
  const ranges = await liveRanges(c);
  expect(ranges).toHaveLength(4);
  const putBack: string[] = [];
  for (const range of ranges) {
    const { resources } = await c.items.query<Customer>('SELECT TOP 1 * FROM c', rangeOptions(range)).fetchAll();
    const doc = resources[0]!;
    await c.item(doc.id, doc.tenantId).replace(demoCustomer(Number(doc.id.slice(5)), 40));
    putBack.push(doc.id);
  }
  const report = await activities.verifyMigration({ ...input(c), sampleSize: 10 });
  expect(report.ok).toBe(false);
  expect(report.remaining).toBe(4);
  expect(report.countsByVersion).toEqual({ '2': 196, '(missing)': 4 });
  expect(report.problems[0]).toMatch(/^4 document\(s\) at version 1 \(or without schemaVersion\) still need migrating/);
  expect(new Set(putBack).size).toBe(4);
});

test('verifyMigration: documents whose transform fails are tolerated up to allowedRemaining (the failures already recorded)', async () => {
  const c = await demo(20);
  const strict: Migration = {
    ...split,
    id: 'strict-split',
    up(doc: Customer) {
      if (doc.id === 'cust-00003') throw new Error('cannot split this one');
      return split.up!(doc);
    },
  };
  engine.deps.registry = registryOf([split, strict]);
  const { result } = await runRange(engine.deps, {
    ...ref(c),
    migration: 'strict-split',
    direction: 'up',
    feedRange: await wholeRange(c),
    batchSize: 100,
    maxFailures: 1,
    dryRun: false,
  });
  expect(result.counters).toMatchObject({ migrated: 19, failed: 1 });

  const tolerated = await activities.verifyMigration({
    ...ref(c),
    migration: 'strict-split',
    direction: 'up',
    sampleSize: 5,
    allowedRemaining: 1,
  });
  expect(tolerated.problems).toEqual([]);
  expect(tolerated.remaining).toBe(1);
  const strictReport = await activities.verifyMigration({
    ...ref(c),
    migration: 'strict-split',
    direction: 'up',
    sampleSize: 5,
  });
  expect(strictReport.problems).toEqual([
    '1 document(s) at version 1 (or without schemaVersion) fail the up() transform, more than the 0 known failures (e.g. cust-00003).',
  ]);
  engine.deps.registry = registryOf([split]);
});

test('001 up then down on the demo data: every customer comes back exactly as seeded, and verification agrees', async () => {
  const c = await demo(250);
  const before = await readAll(c);
  await migrate(c);
  const range = await wholeRange(c);
  const { result } = await runRange(engine.deps, {
    ...ref(c),
    migration: '001-split-customer-name',
    direction: 'down',
    feedRange: range,
    batchSize: 100,
    maxFailures: 0,
    dryRun: false,
  });
  expect(result.counters).toMatchObject({ migrated: 250, failed: 0 });
  const after = await readAll(c);
  for (const [id, doc] of before) {
    const { _etag: _e1, _ts: _t1, ...was } = doc as Record<string, unknown>;
    const { _etag: _e2, _ts: _t2, ...now } = after.get(id) as Record<string, unknown>;
    expect(now).toEqual(was);
  }
  const report = await activities.verifyMigration({ ...input(c), direction: 'down', sampleSize: 10 });
  expect(report).toMatchObject({ ok: true, remaining: 0, countsByVersion: { '(missing)': 250 } });
});

test('verifyMigration: a verify() that throws, answers neither true nor a message, or quotes the document is a named failure without the document’s values; five are shown of more', async () => {
  const c = await demo(8);
  await migrate(c);
  const picky: Migration = {
    ...split,
    id: 'picky-split',
    verify(doc: Customer & { email?: string }) {
      const i = Number(doc.id.slice(5));
      if (i === 0) throw new Error(`cannot read ${String(doc.email)}`);
      if (i === 1) return false as unknown as string;
      // The id and the partition key are kept in a failure; every other value of the document is not.
      if (i < 7) return `${doc.id} of ${doc.tenantId}: ${String(doc.firstName)} looks wrong`;
      return true;
    },
  };
  engine.deps.registry = registryOf([split, picky]);
  try {
    const report = await activities.verifyMigration({
      ...ref(c),
      migration: 'picky-split',
      direction: 'up',
      sampleSize: 8,
    });
    const docs = await readAll<Customer>(c);
    const failure = (i: number, error: string) => {
      const id = `cust-0000${i}`;
      return { id, partitionKey: docs.get(id)!.tenantId, error };
    };
    expect(report.sampled).toBe(8);
    expect([...report.sampleFailures].sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      failure(0, 'verify() threw: cannot read ‹value›'),
      failure(1, 'verify() returned neither true nor a message'),
      ...[2, 3, 4, 5, 6].map((i) => {
        const id = `cust-0000${i}`;
        return failure(i, `${id} of ${docs.get(id)!.tenantId}: ‹value› looks wrong`);
      }),
    ]);
    expect(report.ok).toBe(false);
    expect(report.problems).toHaveLength(1);
    const shown = report.sampleFailures.slice(0, 5).map((f) => `${f.id}: ${f.error}`);
    expect(report.problems[0]).toBe(`7 of 8 sampled document(s) fail verify(): ${shown.join('; ')}.`);
    // No value of the documents but their ids and partition keys (the shown failures are the listed ones).
    const text = JSON.stringify(report);
    for (const doc of docs.values()) {
      for (const value of [doc.firstName, (doc as { email?: string }).email]) expect(text).not.toContain(value);
    }
  } finally {
    engine.deps.registry = registryOf([split]);
  }
});

test('verifyMigration: a sample of 0 reads nothing; a container that does not exist is a problem', async () => {
  const c = await demo(5);
  await migrate(c);
  const none = await activities.verifyMigration({ ...input(c), sampleSize: 0 });
  expect(none).toMatchObject({ ok: true, sampled: 0, sampleFailures: [], remaining: 0 });
  const gone = await activities.verifyMigration({
    database: c.database.id,
    container: 'no-such-container',
    migration: '001-split-customer-name',
    direction: 'up',
    sampleSize: 5,
  });
  expect(gone).toEqual({
    ok: false,
    problems: [`container ${c.database.id}/no-such-container does not exist.`],
    countsByVersion: {},
    remaining: 0,
    sampled: 0,
    sampleFailures: [],
    relationships: [],
  });
});

test('verifyMigration heartbeats its progress: leftovers found per page, each range checked and sampled, relationship rows', async () => {
  const c = await demo(30);
  await migrate(c);
  for (const i of [3, 4, 5]) {
    const doc = demoCustomer(i);
    await c.item(doc.id, doc.tenantId).replace(doc);
  }
  const env = new MockActivityEnvironment();
  const beats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => beats.push(d));
  const report: VerificationReport = await env.run(() => activities.verifyMigration({ ...input(c), sampleSize: 5 }));
  expect(report).toMatchObject({ ok: false, remaining: 3, stillToMigrate: 3, sampled: 5 });
  const verifying = beats.filter(
    (b) =>
      typeof b === 'object' &&
      b !== null &&
      ('remaining' in b || 'relationship' in b || ['remaining', 'sample'].includes((b as { what?: string }).what ?? ''))
  );
  expect(verifying).toEqual([
    { remaining: 3 },
    { what: 'remaining', ranges: 1, left: 0 },
    { what: 'sample', ranges: 1, left: 0 },
    { relationship: 'no migrated customer keeps name', rows: 0 },
  ]);
});

test('verifyMigration counts leftovers past the five it names, and never counts a candidate the transform skips as failing', async () => {
  const c = await demo(8);
  const skips: Migration = { ...split, id: 'skips-all', up: () => undefined };
  const fails: Migration = {
    ...split,
    id: 'fails-all',
    up() {
      throw new Error('cannot');
    },
  };
  engine.deps.registry = registryOf([split, skips, fails]);
  try {
    const ids = [0, 1, 2, 3, 4].map((i) => `cust-0000${i}`).join(', ');
    const left = await activities.verifyMigration({ ...input(c), sampleSize: 0 });
    expect(left).toMatchObject({ remaining: 8, stillToMigrate: 8 });
    expect(left.problems).toEqual([
      `8 document(s) at version 1 (or without schemaVersion) still need migrating (e.g. ${ids}).`,
    ]);
    const skipped = await activities.verifyMigration({
      ...ref(c),
      migration: 'skips-all',
      direction: 'up',
      sampleSize: 0,
    });
    expect(skipped).toMatchObject({ ok: true, problems: [], remaining: 0, stillToMigrate: 0 });
    const failing = await activities.verifyMigration({
      ...ref(c),
      migration: 'fails-all',
      direction: 'up',
      sampleSize: 0,
    });
    expect(failing).toMatchObject({ remaining: 8, stillToMigrate: 0 });
    expect(failing.problems).toEqual([
      `8 document(s) at version 1 (or without schemaVersion) fail the up() transform, more than the 0 known failures (e.g. ${ids}).`,
    ]);
  } finally {
    engine.deps.registry = registryOf([split]);
  }
});

test('verifyMigration after down: leftovers are the documents still at the new version, and relationships (an up check) are not run', async () => {
  const c = await demo(6);
  await migrate(c);
  const report = await activities.verifyMigration({ ...input(c), direction: 'down', sampleSize: 5 });
  expect(report).toMatchObject({ ok: false, remaining: 6, stillToMigrate: 6, sampled: 0, relationships: [] });
  expect(report.problems).toEqual([
    '6 document(s) at version 2 still need migrating (e.g. cust-00000, cust-00001, cust-00002, cust-00003, cust-00004).',
  ]);
});

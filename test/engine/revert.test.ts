/**
 * revertFromPreimages on the local stack: the three-way revert of a migration next to an application that kept
 * writing after it (patches, conflicting edits, deletes, new documents), from the pre-images and from a copy restored
 * at T0.
 */
import { ErrorType } from '../../common/errors';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Container } from '@azure/cosmos';
import type { RevertInput, RevertResult } from '../../common/activities';
import type { Migration, MigrationDocument } from '../../common/migration';
import type { RevertCheckpoint } from '../../activities/cosmos/revert';
import { preimagesContainerName } from '../../activities/cosmos/preimages';
import { createEngineActivities } from '../../activities/engine';
import { revertFromPreimages } from '../../activities/cosmos/revert';
import {
  freshContainer,
  rangeInput,
  readAll,
  runRange,
  seed,
  startEngineStack,
  wholeRange,
  withoutSystem,
  type EngineStack,
} from './support';

let engine: EngineStack;

beforeAll(async () => {
  engine = await startEngineStack();
}, 120_000);

afterAll(async () => {
  await engine?.close();
});

type Doc = MigrationDocument & {
  tenantId: string;
  name?: string;
  firstName?: string;
  lastName?: string;
  schemaVersion?: number;
  visits?: number;
};

/** Hooks the tests use to act as the application while the revert recomputes up(). */
interface Hooks {
  onUp?: (doc: Doc) => Promise<void>;
  /** Makes up() no longer deterministic for these ids (another lastName than it wrote). */
  drift?: Set<string>;
}

function splitName(hooks: Hooks = {}, extra: Partial<Migration> = {}): Migration {
  return {
    id: 'split-name',
    description: 'split name',
    database: 'engine',
    container: 'customers',
    fromVersion: 1,
    toVersion: 2,
    async up(doc: Doc) {
      await hooks.onUp?.(doc);
      if (typeof doc.name !== 'string') return undefined;
      const [first, ...rest] = doc.name.split(' ');
      const next: Doc = { ...doc, firstName: first, lastName: rest.join(' ') };
      if (hooks.drift?.has(doc.id)) next.lastName = `${next.lastName}-v2`;
      delete next.name;
      return next;
    },
    down(doc: Doc) {
      const next: Doc = { ...doc, name: [doc.firstName, doc.lastName].filter(Boolean).join(' ') };
      delete next.firstName;
      delete next.lastName;
      delete next.schemaVersion;
      return next;
    },
    ...extra,
  };
}

function customers(n: number, from = 0, extra: (i: number) => Record<string, unknown> = () => ({})): Doc[] {
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    return {
      id: `cust-${i}`,
      tenantId: `t${i % 7}`,
      name: `First${i} Last${i}`,
      email: `c${i}@example.com`,
      address: { city: `City${i}`, zip: `${10000 + i}` },
      ...extra(i),
    };
  });
}

async function runRevert(
  input: RevertInput,
  options: { heartbeatDetails?: unknown; heartbeats?: unknown[] } = {}
): Promise<RevertResult> {
  const env = new MockActivityEnvironment(
    options.heartbeatDetails !== undefined ? { heartbeatDetails: options.heartbeatDetails } : {}
  );
  env.on('heartbeat', (d: unknown) => options.heartbeats?.push(d));
  const result: RevertResult = await env.run(revertFromPreimages, engine.deps, input);
  return result;
}

/** The documents, the migration with pre-images, and the state right before it (what the revert must give back). */
async function migrated(docs: Doc[], hooks: Hooks) {
  const container = await freshContainer(engine.deps);
  await seed(container, docs);
  engine.use(splitName(hooks));
  const range = await wholeRange(container);
  const before = await readAll<Doc>(container);
  await createEngineActivities(engine.deps).ensurePreimagesContainer({
    database: container.database.id,
    container: container.id,
  });
  const { result } = await runRange(engine.deps, rangeInput(container, 'split-name', range, { preimages: true }));
  return { container, before, migratedCount: result.counters.migrated };
}

async function preimagesRange(container: Container): Promise<string> {
  return wholeRange(container.database.container(preimagesContainerName(container.id)));
}

function revertInput(container: Container, feedRange: string, extra: Partial<RevertInput> = {}): RevertInput {
  return {
    database: container.database.id,
    container: container.id,
    migration: 'split-name',
    source: { kind: 'preimages' },
    feedRange,
    ...extra,
  };
}

/** What the application does after the migration; the same story for both sources. */
async function applicationWrites(container: Container) {
  const item = (i: number) => container.item(`cust-${i}`, `t${i % 7}`);
  const read = async (i: number) => (await item(i).read<Doc>()).resource!;
  // cust-1: a field the migration does not touch.
  await item(1).replace({ ...(await read(1)), visits: 3 });
  // cust-2: a field the migration wrote (lastName), and one it does not (email).
  await item(2).replace({ ...(await read(2)), lastName: 'Hopper', email: 'grace@example.com' });
  // cust-3: deleted.
  await item(3).delete();
  // cust-4: a nested object the migration does not touch, changed inside.
  const four = await read(4);
  await item(4).replace({ ...four, address: { ...(four.address as object), zip: '99999' } });
  // A customer created after the migration, in the new shape.
  await container.items.create({ id: 'cust-new', tenantId: 't1', firstName: 'New', lastName: 'One', schemaVersion: 2 });
}

function expectThreeWay(
  after: Map<string, Doc & { _etag: string }>,
  before: Map<string, Doc & { _etag: string }>,
  untouchedIds: string[]
) {
  // Unchanged since the migration: exactly the document before it.
  for (const id of untouchedIds) expect(withoutSystem(after.get(id))).toEqual(withoutSystem(before.get(id)));
  // The application's own field kept, everything the migration did undone.
  expect(withoutSystem(after.get('cust-1'))).toEqual({ ...withoutSystem(before.get('cust-1')), visits: 3 });
  // lastName both changed: left as the application wrote it; the rest the migration did is undone; email stays.
  expect(withoutSystem(after.get('cust-2'))).toEqual({
    ...withoutSystem(before.get('cust-2')),
    lastName: 'Hopper',
    email: 'grace@example.com',
  });
  expect(after.has('cust-3')).toBe(false);
  expect((after.get('cust-4')!.address as { zip: string }).zip).toBe('99999');
  expect(after.get('cust-4')!.name).toBe('First4 Last4');
  expect(after.get('cust-4')!.schemaVersion).toBeUndefined();
  expect(withoutSystem(after.get('cust-new'))).toEqual({
    id: 'cust-new',
    tenantId: 't1',
    firstName: 'New',
    lastName: 'One',
    schemaVersion: 2,
  });
}

test('three-way revert from the pre-images: untouched documents come back exactly, the application keeps its writes, conflicts are listed and never overwritten', async () => {
  const hooks: Hooks = {};
  const docs = [...customers(150), ...customers(10, 150, () => ({ schemaVersion: 5 }))];
  const { container, before, migratedCount } = await migrated(docs, hooks);
  expect(migratedCount).toBe(150);
  await applicationWrites(container);
  const newEtag = (await container.item('cust-new', 't1').read<{ id: string; _etag: string }>()).resource!._etag;

  // While the revert runs, the application writes cust-5 between our read and our write (a 412).
  let raced = false;
  hooks.onUp = async (doc) => {
    if (doc.id === 'cust-5' && !raced) {
      raced = true;
      const { resource } = await container.item('cust-5', 't5').read<Doc>();
      await container.item('cust-5', 't5').replace({ ...resource!, visits: 1 });
    }
  };
  const heartbeats: unknown[] = [];
  const result = await runRevert(revertInput(container, await preimagesRange(container), { batchSize: 40 }), {
    heartbeats,
  });
  hooks.onUp = undefined;

  expect(result.done).toBe(true);
  expect(result.counters).toMatchObject({
    scanned: 150,
    reverted: 145,
    merged: 4, // cust-1, cust-2, cust-4, cust-5
    conflicts: 1,
    deletedByApp: 1,
    unchanged: 0,
    failed: 0,
  });
  expect(result.counters.ruConsumed).toBeGreaterThan(0);
  expect(result.conflicts).toEqual([{ id: 'cust-2', partitionKey: 't2', fields: ['lastName'] }]);
  expect(heartbeats.length).toBeGreaterThanOrEqual(4);
  expect(JSON.stringify([result, heartbeats])).not.toMatch(/First\d|Hopper|example\.com/);

  const after = await readAll<Doc>(container);
  const untouched = customers(150)
    .map((d) => d.id)
    .filter((id) => !['cust-1', 'cust-2', 'cust-3', 'cust-4', 'cust-5'].includes(id));
  expectThreeWay(after, before, untouched);
  expect(withoutSystem(after.get('cust-5'))).toEqual({ ...withoutSystem(before.get('cust-5')), visits: 1 });
  expect(after.get('cust-new')!._etag).toBe(newEtag);
  // Other versions were never the migration's: not touched.
  for (const d of docs.filter((x) => x.schemaVersion === 5))
    expect(after.get(d.id)!._etag).toBe(before.get(d.id)!._etag);

  // Again: nothing left to revert, nothing written.
  const again = await runRevert(revertInput(container, await preimagesRange(container)));
  // cust-2 is back at the old version too (its conflict was listed by the first run): not the migration's any more.
  expect(again.counters).toMatchObject({ scanned: 150, reverted: 0, merged: 0, unchanged: 149, deletedByApp: 1 });
  expect(again.counters.conflicts).toBe(0);
  const final = await readAll<Doc>(container);
  for (const [id, doc] of after) expect(final.get(id)!._etag).toBe(doc._etag);
});

test('the same three-way revert from a copy restored at T0 (side-by-side restore)', async () => {
  const docs = [...customers(120), ...customers(5, 120, () => ({ schemaVersion: 5 }))];
  const { container, before } = await migrated(docs, {});
  // The copy at T0: what a point-in-time restore into a new container would hold.
  const copy = await freshContainer(engine.deps);
  await seed(
    copy,
    [...before.values()].map((d) => withoutSystem(d)!)
  );
  await applicationWrites(container);

  const result = await runRevert(
    revertInput(container, await wholeRange(copy), {
      source: { kind: 'container', database: copy.database.id, container: copy.id },
    })
  );

  expect(result.counters).toMatchObject({
    scanned: 120, // the copy's candidates: documents at version 5 are not the migration's
    reverted: 116,
    merged: 3,
    conflicts: 1,
    deletedByApp: 1,
    failed: 0,
  });
  expect(result.conflicts).toEqual([{ id: 'cust-2', partitionKey: 't2', fields: ['lastName'] }]);
  const after = await readAll<Doc>(container);
  const untouched = customers(120)
    .map((d) => d.id)
    .filter((id) => !['cust-1', 'cust-2', 'cust-3', 'cust-4'].includes(id));
  expectThreeWay(after, before, untouched);
});

test('a transform that no longer recomputes what it wrote: the fields that differ are conflicts, never overwritten', async () => {
  const hooks: Hooks = {};
  const { container, before } = await migrated(customers(20), hooks);
  const migratedDocs = await readAll<Doc>(container);
  hooks.drift = new Set(['cust-7']); // up() now gives cust-7 another lastName than it wrote

  const result = await runRevert(revertInput(container, await preimagesRange(container)));

  expect(result.counters).toMatchObject({ reverted: 19, merged: 1, conflicts: 1 });
  expect(result.conflicts).toEqual([{ id: 'cust-7', partitionKey: 't0', fields: ['lastName'] }]);
  const after = await readAll<Doc>(container);
  expect(after.get('cust-7')!.lastName).toBe(migratedDocs.get('cust-7')!.lastName);
  expect(after.get('cust-7')!.name).toBe(before.get('cust-7')!.name);
  expect(withoutSystem(after.get('cust-8'))).toEqual(withoutSystem(before.get('cust-8')));
});

test('resumable: maxPages returns a continuation, a retry resumes from the last heartbeat, every document reverted once', async () => {
  const { container, before } = await migrated(customers(300), {});
  const range = await preimagesRange(container);

  // A worker whose copy of the module is not the one the run approved refuses (retryable), and writes nothing.
  const skew = await runRevert(revertInput(container, range, { checksum: 'another-module' })).catch((e: unknown) => e);
  expect(skew).toBeInstanceOf(ApplicationFailure);
  expect((skew as ApplicationFailure).type).toBe(ErrorType.MigrationChanged);
  expect((skew as ApplicationFailure).nonRetryable).toBe(false);

  const first = await runRevert(
    revertInput(container, range, { batchSize: 50, maxPages: 2, checksum: 'test-split-name' })
  );
  expect(first.done).toBe(false);
  expect(first.continuation).toBeDefined();
  expect(first.counters).toMatchObject({ scanned: 100, reverted: 100 });

  const heartbeats: unknown[] = [];
  const second = await runRevert(
    revertInput(container, range, { batchSize: 50, maxPages: 2, continuation: first.continuation }),
    { heartbeats }
  );
  expect(second.counters).toMatchObject({ scanned: 100, reverted: 100 });
  // A retried attempt of the second activity resumes after its last committed page.
  const last = heartbeats[heartbeats.length - 2] as RevertCheckpoint;
  expect(last.counters.scanned).toBe(50);
  const retried = await runRevert(revertInput(container, range, { batchSize: 50, continuation: first.continuation }), {
    heartbeatDetails: last,
  });
  expect(retried.done).toBe(true);
  expect(retried.counters.scanned).toBe(50 + 150);
  expect(retried.counters).toMatchObject({ reverted: 150, unchanged: 50 }); // the page redone was reverted already
  const after = await readAll<Doc>(container);
  for (const [id, doc] of before) expect(withoutSystem(after.get(id))).toEqual(withoutSystem(doc));
});

test('an application writing all along (during the migration, after it, during the revert) under a 429 storm: the revert gives back every original document with every one of the application writes', async () => {
  const originals = customers(600);
  const container = await freshContainer(engine.deps);
  await seed(container, originals);
  engine.use(splitName());
  const before = await readAll<Doc>(container);
  await createEngineActivities(engine.deps).ensurePreimagesContainer({
    database: container.database.id,
    container: container.id,
  });

  // The application: read-modify-write with the ETag, bumping `visits` on documents of any shape.
  const visits = new Map<string, number>();
  let stop = false;
  let appWrites = 0;
  const writeLoop = async (loop: number) => {
    for (let seq = 1; !stop; seq += 1) {
      const n = (seq * 7919 + loop * 104_729) % originals.length;
      const item = container.item(`cust-${n}`, `t${n % 7}`);
      for (;;) {
        try {
          const { resource } = await item.read<Doc>();
          const next = (resource!.visits ?? 0) + 1;
          await item.replace(
            { ...resource!, visits: next },
            { accessCondition: { type: 'IfMatch', condition: resource!._etag } }
          );
          visits.set(`cust-${n}`, next);
          appWrites += 1;
          break;
        } catch (err) {
          const code = (err as { code?: number }).code;
          if (code !== 412 && code !== 429) throw err;
        }
      }
    }
  };
  const writer = Promise.all([0, 1, 2].map(writeLoop));
  engine.stack.cosmos.control.setFaults([{ kinds: ['batch', 'query'], throttleProbability: 0.3, retryAfterMs: 20 }]);
  try {
    const migration = await runRange(
      engine.deps,
      rangeInput(container, 'split-name', await wholeRange(container), {
        batchSize: 50,
        preimages: true,
        ruBudget: 4000,
      })
    );
    const rerun = await runRange(
      engine.deps,
      rangeInput(container, 'split-name', await wholeRange(container), { preimages: true })
    );
    expect(migration.result.counters.migrated + rerun.result.counters.migrated).toBe(600);
    const revert = await runRevert(revertInput(container, await preimagesRange(container), { batchSize: 50 }));
    stop = true;
    await writer;
    console.log(
      `application writes all along: ${appWrites} writes; migration ${migration.result.counters.conflicts} conflicts, ` +
        `${migration.result.preimagesWritten} pre-images; revert ${JSON.stringify(revert.counters)}`
    );
    expect(revert.counters).toMatchObject({ scanned: 600, conflicts: 0, failed: 0, deletedByApp: 0 });
    expect(revert.counters.reverted + revert.counters.merged).toBe(600);
    expect(revert.counters.merged).toBeGreaterThan(0);
  } finally {
    stop = true;
    engine.stack.cosmos.control.setFaults([]);
    await writer;
  }
  const after = await readAll<Doc>(container);
  expect(after.size).toBe(600);
  for (const [id, doc] of before) {
    const expected = { ...withoutSystem(doc), ...(visits.has(id) ? { visits: visits.get(id) } : {}) };
    expect(withoutSystem(after.get(id))).toEqual(expected);
  }
  expect(visits.size).toBeGreaterThan(50);
}, 120_000);

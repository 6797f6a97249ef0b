/**
 * revertFromPreimages on the local stack, per document: a migration that splits `name` into `firstName`/`lastName`
 * (fields that derive from each other), reverted next to an application that kept writing after it (an edit of an
 * unrelated field, an edit of a derived field, a delete, a delete and re-create under the same id, a new document at
 * the new version, a write racing the revert), from the pre-images and from a copy restored at T0. Every document
 * is compared whole: untouched ones are exactly their pre-image; the others are exactly as the application wrote
 * them (named) or, with a proved down(), exactly `down(live)`; none mixes the two versions.
 */
import { ErrorType } from '../../common/errors';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Container } from '@azure/cosmos';
import type { RevertInput, RevertResult } from '../../common/activities';
import type { Migration, MigrationDocument } from '../../common/migration';
import type { RevertCheckpoint } from '../../activities/cosmos/revert';
import { createEngineActivities } from '../../activities/engine';
import { revertFromPreimages } from '../../activities/cosmos/revert';
import { preimageId } from '../../activities/cosmos/preimages';
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

function revertInput(container: Container, extra: Partial<RevertInput> = {}): Promise<RevertInput> {
  return wholeRange(container).then((feedRange) => ({
    database: container.database.id,
    container: container.id,
    migration: 'split-name',
    source: { kind: 'preimages' },
    feedRange,
    ...extra,
  }));
}

/** What the application does after the migration; the same story for every test. Returns what it wrote, by id. */
async function applicationWrites(container: Container): Promise<Map<string, Doc>> {
  const item = (i: number | string) => container.item(`cust-${i}`, typeof i === 'number' ? `t${i % 7}` : 't1');
  const read = async (i: number) => (await item(i).read<Doc>()).resource!;
  const wrote = new Map<string, Doc>();
  const replace = async (i: number, doc: Doc) => {
    await item(i).replace(doc);
    wrote.set(doc.id, doc);
  };
  // cust-1: a field the migration does not touch.
  await replace(1, { ...(await read(1)), visits: 3 });
  // cust-2: a field the migration derived (lastName), and one it does not (email).
  await replace(2, { ...(await read(2)), lastName: 'Byron', email: 'ada@example.com' });
  // cust-3: deleted.
  await item(3).delete();
  // cust-6: deleted, and another customer created under the same id, in the new shape.
  await item(6).delete();
  const other: Doc = { id: 'cust-6', tenantId: 't6', firstName: 'Grace', lastName: 'Hopper', schemaVersion: 2 };
  await container.items.create(other);
  wrote.set('cust-6', other);
  // A customer created after the migration, in the new shape.
  const created: Doc = { id: 'cust-new', tenantId: 't1', firstName: 'New', lastName: 'One', schemaVersion: 2 };
  await container.items.create(created);
  wrote.set('cust-new', created);
  return wrote;
}

/** The module's down() of a document as the application left it. */
function down(doc: Doc): Doc {
  return splitName().down!(structuredClone(withoutSystem(doc)) as Doc) as Doc;
}

/** Every document is one version or the other, whole: never `name` beside `firstName`/`lastName`. */
function expectNoMix(after: Map<string, Doc>): void {
  for (const doc of after.values()) {
    const old = doc.name !== undefined;
    const next = doc.firstName !== undefined || doc.lastName !== undefined || doc.schemaVersion === 2;
    expect({ id: doc.id, mixed: old && next }).toEqual({ id: doc.id, mixed: false });
  }
}

test('no proved down(): untouched documents get their pre-image, every document the application wrote since is left exactly as it wrote it and named, and none mixes versions or carries a deleted document', async () => {
  const hooks: Hooks = {};
  const docs = [...customers(150), ...customers(10, 150, () => ({ schemaVersion: 5 }))];
  const { container, before, migratedCount } = await migrated(docs, hooks);
  expect(migratedCount).toBe(150);
  const wrote = await applicationWrites(container);

  // While the revert runs, the application writes cust-5 between our read and our write (a 412).
  let raced = false;
  hooks.onUp = async (doc) => {
    if (doc.id === 'cust-5' && !raced) {
      raced = true;
      const { resource } = await container.item('cust-5', 't5').read<Doc>();
      const next = { ...withoutSystem(resource)!, visits: 1 } as Doc;
      await container.item('cust-5', 't5').replace(next);
      wrote.set('cust-5', next);
    }
  };
  const heartbeats: unknown[] = [];
  const result = await runRevert(await revertInput(container, { batchSize: 40 }), { heartbeats });
  hooks.onUp = undefined;

  expect(result.done).toBe(true);
  expect(result.counters).toMatchObject({ reverted: 145, down: 0, conflicts: 5, failed: 0 });
  expect(result.counters.ruConsumed).toBeGreaterThan(0);
  const byId = (c: { id: string }[]) => [...c].sort((a, b) => a.id.localeCompare(b.id));
  expect(byId(result.conflicts)).toEqual([
    { id: 'cust-1', partitionKey: 't1', reason: 'changed' },
    { id: 'cust-2', partitionKey: 't2', reason: 'changed' },
    { id: 'cust-5', partitionKey: 't5', reason: 'changed' },
    { id: 'cust-6', partitionKey: 't6', reason: 'recreated' },
    { id: 'cust-new', partitionKey: 't1', reason: 'created' },
  ]);
  expect(heartbeats.length).toBeGreaterThanOrEqual(4);
  expect(JSON.stringify([result, heartbeats])).not.toMatch(/First\d|Byron|Hopper|example\.com/);

  const after = await readAll<Doc>(container);
  for (const [id, doc] of before) {
    if (id === 'cust-3')
      expect(after.has(id)).toBe(false); // deleted by the application: stays deleted
    else if (wrote.has(id)) expect(withoutSystem(after.get(id))).toEqual(withoutSystem(wrote.get(id)));
    else expect(withoutSystem(after.get(id))).toEqual(withoutSystem(doc)); // version 5 documents included
  }
  expect(withoutSystem(after.get('cust-new'))).toEqual(wrote.get('cust-new'));
  expectNoMix(after);
  // Every document left at the new version is named.
  const left = [...after.values()].filter((d) => d.schemaVersion === 2).map((d) => d.id);
  expect(left.sort()).toEqual(result.conflicts.map((c) => c.id).sort());

  // Again: the same documents named, nothing written.
  const again = await runRevert(await revertInput(container));
  expect(again.counters).toMatchObject({ scanned: 5, reverted: 0, conflicts: 5 });
  const final = await readAll<Doc>(container);
  for (const [id, doc] of after) expect(final.get(id)!._etag).toBe(doc._etag);
});

test('with a proved down(): every document the application wrote since is given back by down(live), nothing is left at the new version', async () => {
  const { container, before } = await migrated(customers(60), {});
  const wrote = await applicationWrites(container);
  const result = await runRevert(await revertInput(container, { down: true }));
  expect(result.counters).toMatchObject({ reverted: 56, down: 4, conflicts: 0, failed: 0 });
  const after = await readAll<Doc>(container);
  for (const [id, doc] of before) {
    if (id === 'cust-3') expect(after.has(id)).toBe(false);
    else if (wrote.has(id)) expect(withoutSystem(after.get(id))).toEqual(down(wrote.get(id)!));
    else expect(withoutSystem(after.get(id))).toEqual(withoutSystem(doc));
  }
  // The re-created customer is given back as itself, never as the deleted one.
  expect(after.get('cust-6')!.name).toBe('Grace Hopper');
  expect(withoutSystem(after.get('cust-new'))).toEqual(down(wrote.get('cust-new')!));
  expect([...after.values()].filter((d) => d.schemaVersion === 2)).toEqual([]);
  expectNoMix(after);
});

test('from a copy restored at T0 (side-by-side restore): the same per-document rules', async () => {
  const docs = [...customers(60), ...customers(5, 60, () => ({ schemaVersion: 5 }))];
  const { container, before } = await migrated(docs, {});
  // The copy at T0: what a point-in-time restore into a new container would hold.
  const copy = await freshContainer(engine.deps);
  await seed(
    copy,
    [...before.values()].map((d) => withoutSystem(d)!)
  );
  const wrote = await applicationWrites(container);

  const result = await runRevert(
    await revertInput(container, {
      source: { kind: 'container', database: copy.database.id, container: copy.id },
    })
  );

  // A copy's documents have new _rids: the re-created customer differs from up(its base), so it is named as changed.
  expect(result.counters).toMatchObject({ reverted: 56, conflicts: 4, failed: 0 });
  const after = await readAll<Doc>(container);
  for (const [id, doc] of before) {
    if (id === 'cust-3') expect(after.has(id)).toBe(false);
    else if (wrote.has(id)) expect(withoutSystem(after.get(id))).toEqual(withoutSystem(wrote.get(id)));
    else expect(withoutSystem(after.get(id))).toEqual(withoutSystem(doc));
  }
  expectNoMix(after);
});

test('a transform that no longer recomputes what it wrote: the document is named, never overwritten', async () => {
  const hooks: Hooks = {};
  const { container, before } = await migrated(customers(20), hooks);
  const migratedDocs = await readAll<Doc>(container);
  hooks.drift = new Set(['cust-7']); // up() now gives cust-7 another lastName than it wrote

  const result = await runRevert(await revertInput(container));

  expect(result.counters).toMatchObject({ reverted: 19, conflicts: 1 });
  expect(result.conflicts).toEqual([{ id: 'cust-7', partitionKey: 't0', reason: 'changed' }]);
  const after = await readAll<Doc>(container);
  expect(withoutSystem(after.get('cust-7'))).toEqual(withoutSystem(migratedDocs.get('cust-7')));
  expect(withoutSystem(after.get('cust-8'))).toEqual(withoutSystem(before.get('cust-8')));
});

test('resumable: maxPages returns a continuation, a retry resumes from the last heartbeat, every document reverted once', async () => {
  const { container, before } = await migrated(customers(300), {});

  // A worker whose copy of the module is not the one the run approved refuses (non-retryable: the run pauses), and
  // writes nothing.
  const skew = await runRevert(await revertInput(container, { checksum: 'another-module' })).catch((e: unknown) => e);
  expect(skew).toBeInstanceOf(ApplicationFailure);
  expect((skew as ApplicationFailure).type).toBe(ErrorType.MigrationChanged);
  expect((skew as ApplicationFailure).nonRetryable).toBe(true);

  const first = await runRevert(
    await revertInput(container, { batchSize: 50, maxPages: 2, checksum: 'test-split-name' })
  );
  expect(first.done).toBe(false);
  expect(first.continuation).toBeDefined();
  expect(first.counters).toMatchObject({ scanned: 100, reverted: 100 });

  const heartbeats: unknown[] = [];
  const second = await runRevert(
    await revertInput(container, { batchSize: 50, maxPages: 2, continuation: first.continuation }),
    { heartbeats }
  );
  expect(second.counters).toMatchObject({ scanned: 100, reverted: 100 });
  // A retried attempt of the second activity resumes after its last committed page: the page it redoes was
  // reverted already, so it is no longer at the new version and is not read again.
  const last = heartbeats[heartbeats.length - 2] as RevertCheckpoint;
  expect(last.counters.scanned).toBe(50);
  const retried = await runRevert(await revertInput(container, { batchSize: 50, continuation: first.continuation }), {
    heartbeatDetails: last,
  });
  expect(retried.done).toBe(true);
  // The last 100 are what is left after the second activity's two pages.
  expect(retried.counters).toMatchObject({ scanned: 50 + 100, reverted: 50 + 100, unchanged: 0 });
  const after = await readAll<Doc>(container);
  for (const [id, doc] of before) expect(withoutSystem(after.get(id))).toEqual(withoutSystem(doc));
});

test('an application writing all along (during the migration, after it, during the revert) under a 429 storm, with a proved down(): every original document comes back with every one of the application writes', async () => {
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
    const revert = await runRevert(await revertInput(container, { batchSize: 50, down: true }));
    stop = true;
    await writer;
    console.log(
      `application writes all along: ${appWrites} writes; migration ${migration.result.counters.conflicts} conflicts, ` +
        `${migration.result.preimagesWritten} pre-images; revert ${JSON.stringify(revert.counters)}`
    );
    expect(revert.counters).toMatchObject({ conflicts: 0, failed: 0 });
    expect(revert.counters.reverted + revert.counters.down).toBe(600);
    expect(revert.counters.down).toBeGreaterThan(0);
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

test('an application that rewrites a document each time the revert decides it: given up after 10 re-reads, named as failed, left as the application wrote it', async () => {
  const hooks: Hooks = {};
  const { container, before } = await migrated(customers(10), hooks);
  const migratedDocs = await readAll<Doc>(container);
  // cust-4 is rewritten unchanged (a new _etag, the same content) every time up() is recomputed for it: each replace
  // the revert sends answers 412, and each re-read finds it unchanged again.
  let ups = 0;
  hooks.onUp = async (doc) => {
    if (doc.id !== 'cust-4') return;
    ups += 1;
    const item = container.item('cust-4', 't4');
    await item.replace(withoutSystem((await item.read<Doc>()).resource) as Doc);
  };

  const result = await runRevert(await revertInput(container));

  // The first decision and 10 after a 412 each: the 11th 412 gives up (MAX_412_PER_DOCUMENT in revert.ts).
  expect(ups).toBe(11);
  expect(result.failures).toEqual([
    {
      id: 'cust-4',
      partitionKey: 't4',
      error: 'changed by another writer 10 times while reverting; left as it is',
    },
  ]);
  expect(result.counters).toMatchObject({ scanned: 10, reverted: 9, failed: 1, conflicts: 0 });
  const after = await readAll<Doc>(container);
  expect(withoutSystem(after.get('cust-4'))).toEqual(withoutSystem(migratedDocs.get('cust-4')));
  for (const [id, doc] of before) if (id !== 'cust-4') expect(withoutSystem(after.get(id))).toEqual(withoutSystem(doc));
});

test('a document the application deletes while the revert decides it stays deleted, counted unchanged, never reverted', async () => {
  const hooks: Hooks = {};
  const { container, before } = await migrated(customers(10), hooks);
  hooks.onUp = async (doc) => {
    if (doc.id === 'cust-5') await container.item('cust-5', 't5').delete();
  };

  const result = await runRevert(await revertInput(container));

  expect(result.counters).toMatchObject({ scanned: 10, reverted: 9, unchanged: 1, failed: 0, conflicts: 0 });
  expect(result.failures).toEqual([]);
  const after = await readAll<Doc>(container);
  expect(after.has('cust-5')).toBe(false);
  expect(after.size).toBe(9);
  for (const [id, doc] of before) if (id !== 'cust-5') expect(withoutSystem(after.get(id))).toEqual(withoutSystem(doc));
});

test('a base that cannot be read (every pre-image read answered 500) stops the revert: nothing is written, no document is taken for the application’s', async () => {
  const { container } = await migrated(customers(10), {});
  const migratedDocs = await readAll<Doc>(container);
  engine.stack.cosmos.control.setFaults([
    { kinds: ['batch'], bulkOperationFaultProbability: 1, bulkOperationStatus: 500 },
  ]);
  try {
    // With a proved down(), a base taken for missing would be a down(live) written over the migrated document.
    await expect(runRevert(await revertInput(container, { down: true }))).rejects.toThrow(
      /reading the base of cust-\d+ failed with status 500/
    );
  } finally {
    engine.stack.cosmos.control.setFaults([]);
  }
  const after = await readAll<Doc>(container);
  for (const [id, doc] of migratedDocs) expect(withoutSystem(after.get(id))).toEqual(withoutSystem(doc));
});

test('a document the application moves to another version while the revert decides it is left as it wrote it, counted unchanged', async () => {
  const hooks: Hooks = {};
  const { container, before } = await migrated(customers(10), hooks);
  let moved: Doc | undefined;
  hooks.onUp = async (doc) => {
    if (doc.id !== 'cust-3' || moved) return;
    const item = container.item('cust-3', 't3');
    const live = (await item.read<Doc>()).resource!;
    moved = { ...(withoutSystem(live) as Doc), schemaVersion: 3 };
    await item.replace(moved);
  };

  // With a proved down(): a document no longer at the new version must not get down(live) either.
  const result = await runRevert(await revertInput(container, { down: true }));

  expect(result.counters).toMatchObject({ scanned: 10, reverted: 9, down: 0, unchanged: 1, conflicts: 0, failed: 0 });
  const after = await readAll<Doc>(container);
  expect(withoutSystem(after.get('cust-3'))).toEqual(moved);
  for (const [id, doc] of before) if (id !== 'cust-3') expect(withoutSystem(after.get(id))).toEqual(withoutSystem(doc));
});

test('a replace refused for good (500) is a named failure, never counted as reverted or unchanged, and the document is left as it was', async () => {
  const hooks: Hooks = {};
  const { container } = await migrated(customers(4), hooks);
  const migratedDocs = await readAll<Doc>(container);
  // The bases are read by then; from here every bulk operation (the replaces) answers 500.
  hooks.onUp = async () =>
    engine.stack.cosmos.control.setFaults([
      { kinds: ['batch'], bulkOperationFaultProbability: 1, bulkOperationStatus: 500 },
    ]);
  let result: RevertResult;
  try {
    result = await runRevert(await revertInput(container));
  } finally {
    engine.stack.cosmos.control.setFaults([]);
  }
  expect(result.counters).toMatchObject({ scanned: 4, reverted: 0, unchanged: 0, failed: 4 });
  expect([...result.failures].sort((a, b) => a.id.localeCompare(b.id))).toEqual(
    [0, 1, 2, 3].map((i) => ({ id: `cust-${i}`, partitionKey: `t${i}`, error: 'replace failed with status 500' }))
  );
  const after = await readAll<Doc>(container);
  for (const [id, doc] of migratedDocs) expect(withoutSystem(after.get(id))).toEqual(withoutSystem(doc));
});

test('a pre-image that is not this migration’s, or keeps no image, is no base: the document is named as created and left; a ridBefore that is not a string is no evidence of a re-create', async () => {
  const { container, before } = await migrated(customers(6), {});
  const migratedDocs = await readAll<Doc>(container);
  const preimages = container.database.container(`${container.id}-preimages`);
  // Written by hand into the pre-images container under the ids migrateRange gave them (preimages.ts).
  const tamper = async (i: number, change: Record<string, unknown>) => {
    const item = preimages.item(preimageId('split-name', `cust-${i}`), `t${i}`);
    const found = withoutSystem((await item.read<Record<string, unknown>>()).resource)!;
    await preimages.items.upsert({ ...found, ...change });
  };
  await tamper(0, { migrationId: 'another-migration' });
  await tamper(1, { image: null });
  await tamper(2, { image: 'not a document' });
  await tamper(3, { ridBefore: 42 });

  const result = await runRevert(await revertInput(container));

  expect([...result.conflicts].sort((a, b) => a.id.localeCompare(b.id))).toEqual(
    [0, 1, 2].map((i) => ({ id: `cust-${i}`, partitionKey: `t${i}`, reason: 'created' }))
  );
  expect(result.counters).toMatchObject({ scanned: 6, reverted: 3, conflicts: 3, failed: 0, unchanged: 0 });
  const after = await readAll<Doc>(container);
  for (const i of [0, 1, 2]) expect(after.get(`cust-${i}`)).toEqual(migratedDocs.get(`cust-${i}`));
  for (const i of [3, 4, 5])
    expect(withoutSystem(after.get(`cust-${i}`))).toEqual(withoutSystem(before.get(`cust-${i}`)));
});

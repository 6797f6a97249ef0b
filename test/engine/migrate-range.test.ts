/**
 * migrateRange against the local emulator through the real @azure/cosmos client, run as a Temporal activity
 * (MockActivityEnvironment: real heartbeats and cancellation). Every assertion is on the documents themselves.
 */
import { ErrorType } from '../../common/errors';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { Container } from '@azure/cosmos';
import { FAILURE_THRESHOLD_EXCEEDED, type MigrationCounters } from '../../common/activities';
import type { Migration, MigrationDocument } from '../../common/migration';
import type { RangeCheckpoint } from '../../activities/cosmos/migrate-range';
import { createEngineActivities } from '../../activities/engine';
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
  customerDocs,
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
};

/** Counts transforms per document id, so a test can prove no document was transformed twice. */
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
      const [first, ...rest] = doc.name.split(' ');
      const next: Doc = { ...doc, firstName: first, lastName: rest.join(' ') };
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

const customers = (n: number, from?: number, extra?: (i: number) => Record<string, unknown>) =>
  customerDocs<Doc>(n, from, extra);

async function setup(docs: Doc[], migration: Migration): Promise<{ container: Container; range: string }> {
  const container = await freshContainer(engine.deps);
  await seed(container, docs);
  engine.use(migration);
  return { container, range: await wholeRange(container) };
}

test('migrates documents at fromVersion or without a version, stamps toVersion, leaves other versions untouched', async () => {
  const docs = [
    ...customers(250),
    ...customers(30, 250, () => ({ schemaVersion: 1 })),
    ...customers(20, 280, () => ({ schemaVersion: 5 })),
  ];
  const { container, range } = await setup(docs, splitName());
  const before = await readAll<Doc>(container);

  const { result, heartbeats } = await runRange(engine.deps, rangeInput(container, 'split-name', range));

  expect(result.done).toBe(true);
  expect(result.counters).toMatchObject({ scanned: 280, migrated: 280, skipped: 0, failed: 0 });
  expect(result.counters.ruConsumed).toBeGreaterThan(0);
  expect(heartbeats.length).toBeGreaterThanOrEqual(3);
  const after = await readAll<Doc>(container);
  expect(after.size).toBe(300);
  for (const doc of docs) {
    const now = after.get(doc.id)!;
    if (doc.schemaVersion === 5) {
      expect(now._etag).toBe(before.get(doc.id)!._etag);
      expect(withoutSystem(now)).toEqual(withoutSystem(before.get(doc.id)));
    } else {
      const [first, last] = doc.name!.split(' ');
      expect(withoutSystem(now)).toEqual({
        id: doc.id,
        tenantId: doc.tenantId,
        email: doc.email,
        firstName: first,
        lastName: last,
        schemaVersion: 2,
      });
    }
  }
});

test('a bulk write whose connection breaks is sent again: every document migrated, the activity never fails', async () => {
  const { container, range } = await setup(customers(400), splitName());
  const { control } = engine.stack.cosmos;
  const droppedBefore = control.stats().injected.timeout;
  // The emulator drops a quarter of the bulk requests' connections before running them: the SDK rethrows
  // "Bulk request errored with: socket hang up", which items.bulk does not retry. Pages of 10, so 40 bulk requests:
  // with 4 (pages of 100) none was dropped in about a third of the runs, and the test proved nothing (it failed once).
  control.setFaults([{ kinds: ['batch'], timeoutProbability: 0.25, timeoutHangMs: 20 }]);
  let outcome: Awaited<ReturnType<typeof runRange>>;
  try {
    outcome = await runRange(engine.deps, rangeInput(container, 'split-name', range, { batchSize: 10 }));
  } finally {
    control.setFaults([]);
  }

  expect(control.stats().injected.timeout).toBeGreaterThan(droppedBefore);
  expect(outcome.result.done).toBe(true);
  expect(outcome.result.counters).toMatchObject({ migrated: 400, failed: 0 });
  const after = await readAll<Doc>(container);
  expect([...after.values()].filter((d) => d.schemaVersion !== 2)).toEqual([]);
});

test('a second run changes nothing: no document is migrated again and every _etag stays', async () => {
  const transforms = new Map<string, number>();
  const { container, range } = await setup(customers(200), splitName(transforms));
  await runRange(engine.deps, rangeInput(container, 'split-name', range));
  const first = await readAll<Doc>(container);

  const { result } = await runRange(engine.deps, rangeInput(container, 'split-name', range));

  expect(result.counters).toMatchObject({ scanned: 0, migrated: 0, skipped: 0, failed: 0, conflicts: 0 });
  const second = await readAll<Doc>(container);
  for (const [id, doc] of first) expect(second.get(id)!._etag).toBe(doc._etag);
  expect([...transforms.values()].every((n) => n === 1)).toBe(true);
});

test('down restores the original documents exactly (system fields aside)', async () => {
  const originals = customers(150);
  const { container, range } = await setup(originals, splitName());
  const before = await readAll<Doc>(container);
  await runRange(engine.deps, rangeInput(container, 'split-name', range));

  const { result } = await runRange(engine.deps, rangeInput(container, 'split-name', range, { direction: 'down' }));

  expect(result.counters.migrated).toBe(150);
  const after = await readAll<Doc>(container);
  for (const [id, doc] of before) expect(withoutSystem(after.get(id))).toEqual(withoutSystem(doc));
});

test('a concurrent application writer: every one of its writes survives and every document ends migrated', async () => {
  const originals = customers(1500);
  const { container, range } = await setup(originals, splitName());
  // The application: read-modify-write with the document's ETag (as a well-behaved app does), bumping `visits`,
  // and inserting new customers of the old shape while the migration runs.
  const visits = new Map<string, number>();
  const inserted: Doc[] = [];
  let stop = false;
  let appWrites = 0;
  const writeLoop = async (loop: number) => {
    let seq = 0;
    while (!stop) {
      seq += 1;
      if (seq % 10 === 0) {
        const [doc] = customers(1, 100_000 + loop * 10_000 + seq);
        await container.items.create(doc!);
        inserted.push(doc!);
        appWrites += 1;
        continue;
      }
      const n = (seq * 7919 + loop * 104_729) % originals.length;
      const id = `cust-${n}`;
      const tenantId = `t${n % 7}`;
      for (;;) {
        const { resource } = await container.item(id, tenantId).read<Doc & { visits?: number }>();
        const next = (resource!.visits ?? 0) + 1;
        try {
          await container
            .item(id, tenantId)
            .replace(
              { ...resource!, visits: next },
              { accessCondition: { type: 'IfMatch', condition: resource!._etag } }
            );
          visits.set(id, next);
          appWrites += 1;
          break;
        } catch (err) {
          if ((err as { code?: number }).code !== 412) throw err;
        }
      }
    }
  };
  const writer = Promise.all([0, 1, 2, 3].map(writeLoop));
  await sleep(200);

  // A budget stretches the run to a few seconds, so the application and the migration really overlap.
  const { result } = await runRange(
    engine.deps,
    rangeInput(container, 'split-name', range, { batchSize: 50, ruBudget: 2500 })
  );
  stop = true;
  await writer;
  // Inserts that landed after the final pass are migrated by a re-run (a re-run is harmless).
  const rerun = await runRange(engine.deps, rangeInput(container, 'split-name', range));

  console.log(
    `concurrent writer: ${appWrites} application writes, ${result.counters.conflicts} conflicts re-read and re-transformed, ` +
      `${inserted.length} inserts, ${rerun.result.counters.migrated} left for the re-run`
  );
  const after = await readAll<Doc & { visits?: number }>(container);
  expect(after.size).toBe(originals.length + inserted.length);
  for (const doc of [...originals, ...inserted]) {
    const now = after.get(doc.id)!;
    expect(now.schemaVersion).toBe(2);
    expect(now.name).toBeUndefined();
    expect(`${now.firstName} ${now.lastName}`).toBe(doc.name);
    expect(now.visits).toBe(visits.get(doc.id)); // undefined when the writer never touched it
  }
  expect(visits.size).toBeGreaterThan(50);
});

test('a transform that throws: failures recorded with id and message only, and the threshold enforced', async () => {
  const failOn = (doc: Doc) => Number(doc.id.slice(5)) % 40 === 0; // 5 of 200
  const migration = splitName(new Map(), {
    up(doc: Doc) {
      if (failOn(doc)) throw new Error(`no split rule for customer ${doc.id}`);
      const next: Doc = { ...doc, firstName: 'x', lastName: 'y' };
      delete next.name;
      return next;
    },
  });
  const { container, range } = await setup(customers(200), migration);

  const { result } = await runRange(engine.deps, rangeInput(container, 'split-name', range, { maxFailures: 5 }));
  expect(result.counters).toMatchObject({ migrated: 195, failed: 5 });
  expect(result.failures.map((f) => f.id).sort()).toEqual(['cust-0', 'cust-120', 'cust-160', 'cust-40', 'cust-80']);
  for (const f of result.failures) {
    expect(f.error).toBe(`up() threw: no split rule for customer ${f.id}`);
    expect(f.partitionKey).toBe(`t${Number(f.id.slice(5)) % 7}`);
  }
  const after = await readAll<Doc>(container);
  expect(after.get('cust-40')!.name).toBe('First40 Last40'); // left as it was

  // Over the threshold: a non-retryable failure the workflow turns into a pause.
  const second = await setup(customers(200), migration);
  const err = await runRange(
    engine.deps,
    rangeInput(second.container, 'split-name', second.range, { maxFailures: 2 })
  ).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ApplicationFailure);
  const failure = err as ApplicationFailure;
  expect(failure.type).toBe(FAILURE_THRESHOLD_EXCEEDED);
  expect(failure.nonRetryable).toBe(true);
  expect(failure.message).toMatch(
    /document\(s\) failed to migrate in engine\/.+, more than maxFailures \(2\); first: cust-0: up\(\) threw/
  );
  const [counters, failures] = failure.details as [{ failed: number }, { id: string }[]];
  expect(counters.failed).toBeGreaterThan(2);
  expect(failures.length).toBeGreaterThanOrEqual(counters.failed);
  for (const f of failures) expect(['cust-0', 'cust-40', 'cust-80', 'cust-120', 'cust-160']).toContain(f.id);
});

test('over the threshold with several pages in flight: the failure reports exactly what was written, and a resume completes the count', async () => {
  // Every 50th customer fails, slowly: the page holding it is still transforming while the pages after it are
  // fetched and written, so the threshold trips with several pages (and their bulk writes) in flight.
  const failOn = (doc: Doc) => Number(doc.id.slice(5)) % 50 === 25; // 12 of 600
  const migration = splitName(new Map(), {
    async up(doc: Doc) {
      if (failOn(doc)) {
        await sleep(150);
        throw new Error(`no split rule for customer ${doc.id}`);
      }
      const next: Doc = { ...doc, firstName: 'f', lastName: 'l' };
      delete next.name;
      return next;
    },
  });
  const total = 600;
  const failing = customers(total).filter(failOn).length;
  const migratedIn = async (container: Container) =>
    [...(await readAll<Doc>(container)).values()].filter((d) => d.schemaVersion === 2).length;
  const pause = async (container: Container, range: string) => {
    const heartbeats: unknown[] = [];
    const err = await runRange(
      engine.deps,
      rangeInput(container, 'split-name', range, { batchSize: 10, maxFailures: 2 }),
      { heartbeats }
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe(FAILURE_THRESHOLD_EXCEEDED);
    const [counters] = (err as ApplicationFailure).details as [MigrationCounters];
    return { counters, heartbeats: heartbeats as RangeCheckpoint[] };
  };

  // Resumed from the last heartbeat (a retry of the same activity).
  const first = await setup(customers(total), migration);
  const paused = await pause(first.container, first.range);
  const written = await migratedIn(first.container);
  const tripped = paused.heartbeats.find((h) => h.counters.failed > 2)!;
  const last = paused.heartbeats[paused.heartbeats.length - 1]!;
  console.log(
    `threshold with pages in flight: ${tripped.counters.migrated} migrated when the threshold tripped, ` +
      `${paused.counters.migrated} reported, ${written} written`
  );
  // Pages in flight at the trip were written after it: the case that used to be undercounted.
  expect(tripped.counters.migrated).toBeLessThan(written);
  expect(paused.counters.migrated).toBe(written);
  expect(paused.counters.failed).toBeGreaterThan(2);
  expect(last.counters).toEqual(paused.counters);
  const resumed = await runRange(
    engine.deps,
    rangeInput(first.container, 'split-name', first.range, { batchSize: 10, maxFailures: 100 }),
    { heartbeatDetails: last }
  );
  expect(resumed.result.done).toBe(true);
  expect(await migratedIn(first.container)).toBe(total - failing);
  expect(resumed.result.counters).toMatchObject({ migrated: total - failing, failed: failing });
  expect(resumed.result.counters.migrated - paused.counters.migrated).toBe(total - failing - written);

  // Resumed as the workflow does after a pause: a new activity from the range's last checkpoint (here the start);
  // the documents written before the pause are no longer candidates, so the pause's counters must hold them.
  const second = await setup(customers(total), migration);
  const before = await pause(second.container, second.range);
  expect(before.counters.migrated).toBe(await migratedIn(second.container));
  const rerun = await runRange(
    engine.deps,
    rangeInput(second.container, 'split-name', second.range, { batchSize: 10, maxFailures: 100 })
  );
  expect(before.counters.migrated + rerun.result.counters.migrated).toBe(total - failing);
  expect(await migratedIn(second.container)).toBe(total - failing);
}, 60_000);

test('a transform may not change id or the partition key: rejected with a clear error, documents untouched', async () => {
  const migration = splitName(new Map(), {
    up(doc: Doc) {
      if (doc.id === 'cust-1') return { ...doc, id: 'renamed' };
      if (doc.id === 'cust-2') return { ...doc, tenantId: 'other-tenant' };
      if (doc.id === 'cust-3') return [doc] as unknown as Doc;
      return undefined;
    },
  });
  const { container, range } = await setup(customers(5), migration);
  const before = await readAll<Doc>(container);

  const { result } = await runRange(engine.deps, rangeInput(container, 'split-name', range, { maxFailures: 10 }));

  const errors = Object.fromEntries(result.failures.map((f) => [f.id, f.error]));
  expect(errors).toEqual({
    'cust-1': 'up() changed the id (to "renamed"); a migration may not change id',
    'cust-2': 'up() changed the partition key /tenantId (from "t2" to "other-tenant"); a migration may not change it',
    'cust-3': 'up() must return a plain object or undefined, got an array',
  });
  expect(result.counters).toMatchObject({ failed: 3, skipped: 2, migrated: 0 });
  const after = await readAll<Doc>(container);
  for (const [id, doc] of before) expect(after.get(id)!._etag).toBe(doc._etag);
});

test('cancelled between pages, then retried from the last heartbeat: no document is transformed twice', async () => {
  const transforms = new Map<string, number>();
  const { container, range } = await setup(customers(1200), splitName(transforms));
  const heartbeats: unknown[] = [];

  const cancelled = await runRange(engine.deps, rangeInput(container, 'split-name', range, { batchSize: 50 }), {
    heartbeats,
    onHeartbeat: (_details, env) => {
      if (heartbeats.length === 4) env.cancel();
    },
  }).catch((e: unknown) => e);

  expect(cancelled).toBeInstanceOf(CancelledFailure);
  const last = heartbeats[heartbeats.length - 1] as RangeCheckpoint;
  expect(last.phase).toBe('scan');
  expect(last.continuation).toBeDefined();
  expect(last.counters.migrated).toBeGreaterThanOrEqual(200);
  expect(last.counters.migrated).toBeLessThan(1200);
  // Everything counted as migrated is on the server, and nothing else was transformed.
  const midway = await readAll<Doc>(container);
  expect([...midway.values()].filter((d) => d.schemaVersion === 2).length).toBe(last.counters.migrated);
  expect(transforms.size).toBe(last.counters.migrated);

  // Measured outside the product: the documents the emulator's Low-priority queries return during the resume, and
  // the transforms done before the resumed attempt leaves its scan (its first heartbeat in phase 'final'). A resume
  // that skipped the page after its checkpoint would be healed by the final pass; this catches it there.
  const covered = [...midway.values()].filter((d) => d.schemaVersion === 2).length;
  const returnedBefore = engine.stack.cosmos.control.stats().byPriority.Low.documentsReturned;
  let transformedByScan: number | undefined;
  const { result } = await runRange(engine.deps, rangeInput(container, 'split-name', range, { batchSize: 50 }), {
    heartbeatDetails: last,
    onHeartbeat: (details) => {
      if ((details as RangeCheckpoint).phase === 'final') transformedByScan ??= transforms.size;
    },
  });
  const returned = engine.stack.cosmos.control.stats().byPriority.Low.documentsReturned - returnedBefore;

  expect(result.done).toBe(true);
  expect(result.counters.migrated).toBe(1200);
  expect(result.counters.scanned).toBe(1200);
  expect(transforms.size).toBe(1200);
  // The resumed scan alone reached every document left; the final pass found nothing.
  expect(transformedByScan).toBe(1200);
  // It read what was left and at most one page again (the one in flight at the checkpoint).
  expect(returned).toBeGreaterThanOrEqual(1200 - covered);
  expect(returned - (1200 - covered)).toBeLessThanOrEqual(50);
  const twice = [...transforms].filter(([, n]) => n !== 1);
  expect(twice).toEqual([]);
  const after = await readAll<Doc>(container);
  expect([...after.values()].every((d) => d.schemaVersion === 2)).toBe(true);
});

test('maxPages returns a continuation the next activity resumes from; dryRun writes nothing', async () => {
  const { container, range } = await setup(customers(300), splitName());
  const before = await readAll<Doc>(container);

  const dry = await runRange(engine.deps, rangeInput(container, 'split-name', range, { dryRun: true }));
  expect(dry.result.counters).toMatchObject({ scanned: 300, migrated: 300 });
  const unchanged = await readAll<Doc>(container);
  for (const [id, doc] of before) expect(unchanged.get(id)!._etag).toBe(doc._etag);

  const first = await runRange(engine.deps, rangeInput(container, 'split-name', range, { maxPages: 1 }));
  expect(first.result.done).toBe(false);
  expect(first.result.continuation).toBeDefined();
  expect(first.result.counters.migrated).toBe(100);

  const rest = await runRange(
    engine.deps,
    rangeInput(container, 'split-name', range, { continuation: first.result.continuation })
  );
  expect(rest.result.done).toBe(true);
  expect(rest.result.counters.migrated).toBe(200);
  const after = await readAll<Doc>(container);
  expect([...after.values()].every((d) => d.schemaVersion === 2)).toBe(true);
});

test('a document the application changes between our read and our write (412) is re-read and re-transformed, never overwritten', async () => {
  const hot = new Set(['cust-3', 'cust-42', 'cust-77']);
  const app: { container?: Container } = {};
  const transforms = new Map<string, number>();
  const migration = splitName(transforms, {
    async up(doc: Doc) {
      transforms.set(doc.id, (transforms.get(doc.id) ?? 0) + 1);
      if (hot.has(doc.id) && transforms.get(doc.id) === 1) {
        // The application writes the document after the engine read it: the engine's ETag is now stale.
        const { resource } = await app.container!.item(doc.id, doc.tenantId).read<Doc>();
        await app
          .container!.item(doc.id, doc.tenantId)
          .replace({ ...resource!, email: `changed-${doc.id}@example.com` });
      }
      const next: Doc = { ...doc, firstName: doc.name!.split(' ')[0], lastName: doc.name!.split(' ')[1] };
      delete next.name;
      return next;
    },
  });
  const setupResult = await setup(customers(100), migration);
  const container = setupResult.container;
  app.container = container;

  const { result } = await runRange(engine.deps, rangeInput(container, 'split-name', setupResult.range));

  expect(result.counters).toMatchObject({ migrated: 100, conflicts: 3, failed: 0 });
  const after = await readAll<Doc>(container);
  for (const id of hot) {
    expect(after.get(id)!.email).toBe(`changed-${id}@example.com`);
    expect(after.get(id)!.schemaVersion).toBe(2);
    expect(transforms.get(id)).toBe(2);
  }
  expect(after.get('cust-4')!.email).toBe('c4@example.com');
});

test('a failure met by an earlier call of the same range is not counted again by the final pass of a later call', async () => {
  const migration = splitName(new Map(), {
    up(doc: Doc) {
      if (doc.id === 'cust-5') throw new Error('bad customer');
      const next: Doc = { ...doc, firstName: 'f', lastName: 'l' };
      delete next.name;
      return next;
    },
  });
  const { container, range } = await setup(customers(300), migration);

  const first = await runRange(
    engine.deps,
    rangeInput(container, 'split-name', range, { maxPages: 1, maxFailures: 1 })
  );
  expect(first.result.counters).toMatchObject({ migrated: 99, failed: 1 });
  // The workflow has used up the tolerance: the next call tolerates no new failure.
  const rest = await runRange(
    engine.deps,
    rangeInput(container, 'split-name', range, { continuation: first.result.continuation, maxFailures: 0 })
  );
  expect(rest.result.done).toBe(true);
  expect(rest.result.counters).toMatchObject({ migrated: 200, failed: 0 });
  const after = await readAll<Doc>(container);
  expect(after.get('cust-5')!.name).toBe('First5 Last5');
});

test('a feed range that no longer matches one partition key range (a split) is refused with a message saying what to do', async () => {
  const { container } = await setup(customers(3), splitName());
  const half = JSON.stringify({ minInclusive: '', maxExclusive: '7F' });
  const err = await runRange(engine.deps, rangeInput(container, 'split-name', half)).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect((err as ApplicationFailure).type).toBe(ErrorType.FeedRangeSplit);
  expect((err as ApplicationFailure).nonRetryable).toBe(true);
  expect((err as Error).message).toBe(
    `feed range [, 7F) of ${container.id} now covers 0 partition key ranges (the container split?); list the feed ranges again`
  );
  const bad = await runRange(engine.deps, rangeInput(container, 'split-name', 'not json')).catch((e: unknown) => e);
  expect((bad as Error).message).toBe('feed range "not json" is not JSON from listFeedRanges');
  const listed = await createEngineActivities(engine.deps).listFeedRanges({
    database: container.database.id,
    container: container.id,
  });
  expect(listed).toEqual([JSON.stringify({ minInclusive: '', maxExclusive: 'FF' })]);
});

test("a transform whose result is over Azure's 2 MB item limit is a failed document, never sent (the emulator would answer 413); the others migrate", async () => {
  const container = await freshContainer(engine.deps);
  const docs = customerDocs<Doc>(30);
  await seed(container, docs);
  const before = await readAll<Doc>(container);
  engine.use({
    id: 'grow',
    description: 'one document grows past 2 MB',
    container: container.id,
    database: container.database.id,
    fromVersion: 1,
    toVersion: 2,
    up: (doc: Doc) => (doc.id === 'cust-7' ? { ...doc, blob: 'x'.repeat(2.1 * 1024 * 1024) } : { ...doc, grown: true }),
  });
  const { result } = await runRange(
    engine.deps,
    rangeInput(container, 'grow', await wholeRange(container), { maxFailures: 1 })
  );
  expect(result.counters).toMatchObject({ migrated: 29, failed: 1 });
  expect(result.failures).toEqual([
    {
      id: 'cust-7',
      partitionKey: 't0',
      error: expect.stringMatching(/^up\(\) returned \d+ bytes; Cosmos documents are limited to 2 MB$/),
    },
  ]);
  const after = await readAll<Doc>(container);
  expect(after.get('cust-7')).toEqual(before.get('cust-7')); // untouched, _etag included
  for (const doc of docs.filter((d) => d.id !== 'cust-7')) {
    expect(withoutSystem(after.get(doc.id))).toEqual({ ...doc, grown: true, schemaVersion: 2 });
  }
});

test('query pages short and empty with a continuation (as Azure may answer; 40 %, seeded): the scan follows them, every document migrated once', async () => {
  const container = await freshContainer(engine.deps);
  const docs = customerDocs<Doc>(250);
  await seed(container, docs);
  const transforms = new Map<string, number>();
  engine.use({
    id: 'count',
    description: 'counts its applications',
    container: container.id,
    database: container.database.id,
    fromVersion: 1,
    toVersion: 2,
    up(doc: Doc) {
      transforms.set(doc.id, (transforms.get(doc.id) ?? 0) + 1);
      return { ...doc, touched: true };
    },
  });
  const control = engine.stack.cosmos.control;
  control.setFaults([{ kinds: ['query'], shortPageProbability: 0.4 }], 19);
  const before = control.stats().injected.shortPage;
  try {
    const { result } = await runRange(
      engine.deps,
      rangeInput(container, 'count', await wholeRange(container), { batchSize: 30 })
    );
    expect(result.counters).toMatchObject({ migrated: 250, failed: 0 });
  } finally {
    control.setFaults([]);
  }
  expect(control.stats().injected.shortPage - before).toBeGreaterThan(0);
  const after = await readAll<Doc>(container);
  expect([...after.keys()].sort()).toEqual(docs.map((d) => d.id).sort());
  for (const doc of docs) expect(withoutSystem(after.get(doc.id))).toEqual({ ...doc, touched: true, schemaVersion: 2 });
  expect([...transforms.values()]).toEqual(Array(250).fill(1));
});

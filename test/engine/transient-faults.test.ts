/**
 * Transient failures the engine rides out. Single operations of a bulk answered 408, 410, 429, 449 or 503 (the
 * emulator's `bulkOperationFaultProbability` answers them without running them) are sent again, never counted as
 * failed documents, and every document is migrated exactly once; @azure/cosmos's `items.bulk` retries none of them
 * per operation (activities/cosmos/requests.ts cites where). Reads and queries met by 503, 408, 449, timeouts or
 * resets are sent again by the product's client (activities/cosmos/transient-reads.ts).
 */
import { TRANSIENT_BULK_STATUSES } from '../../activities/cosmos/requests';
import { createEngineActivities } from '../../activities/engine';
import {
  freshContainer,
  rangeInput,
  readAll,
  runRange,
  seed,
  startEngineStack,
  type EngineStack,
  countedRange,
} from './support';
import type { MigrationDocument } from '../../common/migration';

type Doc = MigrationDocument & { tenantId: string; touched?: number };

let engine: EngineStack;

beforeAll(async () => {
  engine = await startEngineStack();
}, 120_000);

afterEach(() => {
  engine.stack.cosmos.control.setFaults([]);
});

afterAll(async () => {
  await engine?.close();
});

test('the emulator answers single bulk operations with the injected status, running the others', async () => {
  const container = await freshContainer(engine.deps);
  engine.stack.cosmos.control.setFaults([{ bulkOperationFaultProbability: 1, bulkOperationStatus: 449 }]);
  const all = await container.items.bulk([{ operationType: 'Create', resourceBody: { id: 'a', tenantId: 't' } }]);
  expect(all.map((r) => r.statusCode)).toEqual([449]);
  engine.stack.cosmos.control.setFaults([]);
  expect((await container.item('a', 't').read()).statusCode).toBe(404);
});

// 503 also with pre-images: their bulk round is answered the same way, and a replace waits for its pre-image.
test.each([...TRANSIENT_BULK_STATUSES.map((status) => [status, false] as const), [503, true] as const])(
  '%i on 30%% of bulk operations (pre-images: %s): retried, never a failed document, each document migrated once',
  async (status, preimages) => {
    const { container, range, transforms } = await countedRange(engine, 300);
    if (preimages) {
      await createEngineActivities(engine.deps).ensurePreimagesContainer({
        database: container.database.id,
        container: container.id,
      });
    }
    engine.stack.cosmos.control.setFaults([
      { kinds: ['batch'], bulkOperationFaultProbability: 0.3, bulkOperationStatus: status },
    ]);
    const before = engine.stack.cosmos.control.stats().injected.bulkOperation;
    const { result } = await runRange(engine.deps, rangeInput(container, 'touch', range, { preimages }));
    engine.stack.cosmos.control.setFaults([]);
    expect(engine.stack.cosmos.control.stats().injected.bulkOperation - before).toBeGreaterThan(0);
    expect(result.counters).toMatchObject({ migrated: 300, failed: 0 });
    const after = await readAll<Doc>(container);
    expect(after.size).toBe(300);
    expect([...after.values()].every((d) => d.schemaVersion === 2 && d.touched === 1)).toBe(true);
    expect([...transforms.values()].every((c) => c === 1)).toBe(true);
  }
);

test("the product's client sends reads and queries met by 503, 408, 449, timeouts or resets again; writes it leaves to their caller", async () => {
  const container = await freshContainer(engine.deps);
  await seed(
    container,
    Array.from({ length: 50 }, (_, i) => ({ id: `r${i}`, tenantId: `t${i % 5}` }))
  );
  engine.stack.cosmos.control.setFaults([
    {
      kinds: ['read', 'query'],
      unavailableProbability: 0.2,
      timeoutProbability: 0.05,
      timeoutHangMs: 100, // the connection dropped after 100 ms: a reset
      dropProbability: 0.1,
    },
  ]);
  const before = engine.stack.cosmos.control.stats().injected;
  for (let i = 0; i < 50; i++) {
    expect((await container.item(`r${i}`, `t${i % 5}`).read()).statusCode).toBe(200);
  }
  for (let i = 0; i < 5; i++) {
    const { resources } = await container.items.query('SELECT c.id FROM c', { maxItemCount: 10 }).fetchAll();
    expect(resources).toHaveLength(50);
  }
  const after = engine.stack.cosmos.control.stats().injected;
  expect(after.unavailable - before.unavailable).toBeGreaterThan(0);
  expect(after.drop + after.timeout - before.drop - before.timeout).toBeGreaterThan(0);
  engine.stack.cosmos.control.setFaults([{ kinds: ['write'], unavailableProbability: 1 }]);
  await expect(container.items.create({ id: 'w', tenantId: 't0' })).rejects.toMatchObject({ code: 503 });
});

test('whole bulk requests answered 503, dropped, or applied with the answer lost: sent again, each document migrated once', async () => {
  const { container, range, transforms } = await countedRange(engine, 300);
  // Pages of 4: about 100 bulk requests, so each kind of fault is all but certain to happen (a run without an answer
  // lost after the write had a one-in-five chance with 15 pages of 20), while a page faulted 9 times in a row, which
  // would exhaust MAX_TRANSIENT_BULK_RETRIES, stays at about one in 10 000 runs (23 % of requests faulted).
  engine.stack.cosmos.control.setFaults([
    { kinds: ['batch'], unavailableProbability: 0.1, dropProbability: 0.05, dropResponseProbability: 0.1 },
  ]);
  const before = engine.stack.cosmos.control.stats().injected;
  const { result } = await runRange(engine.deps, rangeInput(container, 'touch', range, { batchSize: 4 }));
  engine.stack.cosmos.control.setFaults([]);
  const after = engine.stack.cosmos.control.stats().injected;
  expect(after.unavailable - before.unavailable).toBeGreaterThan(0);
  expect(after.dropResponse - before.dropResponse).toBeGreaterThan(0);
  expect(result.counters.failed).toBe(0);
  const docs = await readAll<Doc>(container);
  expect(docs.size).toBe(300);
  expect([...docs.values()].every((d) => d.schemaVersion === 2 && d.touched === 1)).toBe(true);
  expect([...transforms.values()].every((c) => c === 1)).toBe(true);
});

test('20 % of bulk answers lost after the write while an application replaces documents (each write ETag-conditioned): no application write lost, each document migrated once', async () => {
  type Visited = Doc & { visits?: number };
  const { container, range, transforms } = await countedRange(engine, 200);
  // The application: reads a document and writes it back with one more visit, conditioned on what it read; a write
  // it saw succeed is one the final document must hold. Single requests are not faulted: only the bulk answers are.
  const committed = new Map<string, number>();
  let stopped = false;
  const application = async (seed: number) => {
    for (let n = seed; !stopped; n += 7) {
      const id = `d${n % 200}`;
      const { resource } = await container.item(id, `t${(n % 200) % 5}`).read<Visited>();
      if (!resource) continue;
      try {
        await container
          .item(id, resource.tenantId)
          .replace(
            { ...resource, visits: (resource.visits ?? 0) + 1 },
            { accessCondition: { type: 'IfMatch', condition: resource._etag } }
          );
        committed.set(id, (committed.get(id) ?? 0) + 1);
      } catch (err) {
        if ((err as { code?: number }).code !== 412) throw err; // the migration wrote it first
      }
    }
  };
  engine.stack.cosmos.control.setFaults([{ kinds: ['batch'], dropResponseProbability: 0.2 }]);
  const before = engine.stack.cosmos.control.stats().injected.dropResponse;
  const writers = [application(0), application(3)];
  // A budget that makes the migration last a few seconds, so the application races it throughout.
  const { result } = await runRange(
    engine.deps,
    rangeInput(container, 'touch', range, { batchSize: 5, ruBudget: 1_000 })
  );
  stopped = true;
  await Promise.all(writers);
  engine.stack.cosmos.control.setFaults([]);
  expect(engine.stack.cosmos.control.stats().injected.dropResponse - before).toBeGreaterThan(3);
  expect(result.counters.failed).toBe(0);
  expect(result.counters.conflicts).toBeGreaterThan(0); // the application did race the migration
  const docs = await readAll<Visited>(container);
  expect(docs.size).toBe(200);
  for (const [id, doc] of docs) {
    expect({ id, schemaVersion: doc.schemaVersion, touched: doc.touched, visits: doc.visits ?? 0 }).toEqual({
      id,
      schemaVersion: 2,
      touched: 1,
      visits: committed.get(id) ?? 0,
    });
  }
  expect([...committed.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(50);
  expect(transforms.size).toBe(200);
});

/**
 * catchUpRange on the local stack: the change feed (latest-version mode, read through @azure/cosmos's own
 * getChangeFeedIterator) followed from the backfill's start, every document still in the old shape migrated through
 * the same engine as migrateRange, the engine's own writes passed over, and the continuation resumed from.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import type { CatchUpInput, CatchUpResult } from '../../common/activities';
import type { MigrationDocument } from '../../common/migration';
import { catchUpRange } from '../../activities/cosmos/migrate-range';
import { countedRange, rangeInput, readAll, runRange, startEngineStack, type EngineStack } from './support';

type Doc = MigrationDocument & { tenantId: string; touched?: number; visits?: number };

let engine: EngineStack;
beforeAll(async () => {
  engine = await startEngineStack();
}, 120_000);
afterAll(async () => {
  await engine?.close();
});

function catchUp(input: CatchUpInput): Promise<CatchUpResult> {
  return new MockActivityEnvironment().run(catchUpRange, engine.deps, input);
}

test('old-shape documents written after the backfill passed them are caught up from the change feed, once; the engine passes over its own writes', async () => {
  const { container, range, transforms } = await countedRange(engine, 120);
  const startTime = new Date(Date.now() - 1000).toISOString();
  const { result: backfill } = await runRange(engine.deps, rangeInput(container, 'touch', range));
  expect(backfill.counters.migrated).toBe(120);
  // The old application, still deployed: new documents in the old shape, and one document written back in it.
  for (let i = 0; i < 5; i++) await container.items.create({ id: `late-${i}`, tenantId: `t${i}` });
  const { resource: d7 } = await container.item('d7', 't2').read<Doc>();
  await container.item('d7', 't2').replace({ id: 'd7', tenantId: 't2', schemaVersion: 1, visits: 1 });
  expect(d7?.schemaVersion).toBe(2);

  const input: CatchUpInput = {
    database: container.database.id,
    container: container.id,
    migration: 'touch',
    feedRange: range,
    startTime,
    batchSize: 50,
    maxFailures: 0,
  };
  const first = await catchUp(input);
  expect(first.done).toBe(true);
  expect(first.oldShapeSeen).toBe(6);
  expect(first.counters).toMatchObject({ migrated: 6, failed: 0 });
  expect(first.lastOldShapeAt).toBeDefined();
  expect(first.secondsBehind).toBe(0);
  expect(first.continuation).toBeDefined();

  const docs = await readAll<Doc>(container);
  expect(docs.size).toBe(125);
  for (const doc of docs.values()) expect({ id: doc.id, v: doc.schemaVersion }).toEqual({ id: doc.id, v: 2 });
  expect(docs.get('d7')).toMatchObject({ visits: 1, touched: 1 });
  // Each late document transformed once; d7 twice in all (by the backfill, and again after the write back).
  expect([...transforms.entries()].filter(([, n]) => n !== 1).map(([id]) => id)).toEqual(['d7']);

  // From its continuation: nothing new in the old shape; its own catch-up writes come back at the new version.
  const again = await catchUp({ ...input, continuation: first.continuation });
  expect(again).toMatchObject({ done: true, oldShapeSeen: 0, counters: { migrated: 0 } });
  await container.items.create({ id: 'later', tenantId: 't0' });
  const third = await catchUp({ ...input, continuation: again.continuation });
  expect(third).toMatchObject({ done: true, oldShapeSeen: 1, counters: { migrated: 1 } });
});

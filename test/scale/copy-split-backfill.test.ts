/**
 * `npm run test:scale -- test/scale/copy-split-backfill.test.ts` (not in `npm test`: about half a minute): the source
 * of a copy splits under its backfill (an ARM throughput raise from 4 to 8 ranges), the application writing; after the
 * cutover the target is exactly up() of the source. The backfill follows the split through the one range loop
 * (workflows/range-loop.ts), which test/workflow/partitions.test.ts proves in the default suite for the in-place
 * migration; a split during the copy's catch-up is test/workflow/copy-limits.test.ts.
 */
import { randomUUID } from 'node:crypto';
import type { Container } from '@azure/cosmos';
import { cutoverSignal } from '../../workflows/messages';
import { Harness, waitForPhase } from '../workflow/harness';
import {
  byId,
  endOf,
  expectedCopy,
  lastWrites,
  repartitionModule as copyModule,
  seedSource as seed,
  sourceApplication as application,
  startCopy as start,
  until,
  type Account,
} from '../workflow/copy-support';

let h: Harness;
beforeAll(async () => {
  h = await Harness.start();
}, 180_000);
afterAll(async () => {
  await h?.close();
});

const repartitionModule = (id: string, database: string, source: string, target: string) =>
  copyModule(id, database, source, target, 'throughput: 1000, throughputAfterCopy: 400');
const seedSource = (n: number, throughput?: number) => seed(h, n, throughput);
const sourceApplication = (source: Container, model: Map<string, Account>) => application(source, model, 20_000);
const startCopy = (taskQueue: string, migration: string, extra: Record<string, unknown> = {}) =>
  start(h, taskQueue, migration, extra);

test('the source splits under the copy (an ARM throughput raise from 4 to 8 ranges while the backfill runs), the application writing: after the cutover the target is exactly up() of the source, the source what the application wrote', async () => {
  const { database, source, docs } = await seedSource(1500, 40_000);
  const target = `${source}-by-tenant`;
  const id = `repartition-${randomUUID().slice(0, 6)}`;
  h.writeMigration(`${id}.js`, repartitionModule(id, database, source, target));
  const sourceC = h.cosmos.database(database).container(source);
  const rangesOf = async () => (await sourceC.readPartitionKeyRanges().fetchAll()).resources.length;
  expect(await rangesOf()).toBe(4);
  const model = new Map(docs.map((d) => [d.id, d]));
  const w = await h.worker();
  const app = sourceApplication(sourceC, model);
  try {
    await w.worker.runUntil(async () => {
      // A budget that keeps the backfill going for seconds, so the split lands while ranges are copied.
      const handle = await startCopy(w.taskQueue, id, { ruBudget: 4000, monitor: { duration: '1s', interval: '1s' } });
      await waitForPhase(handle, 'migrating', 300_000);
      const { resourceGroup, account } = h.stack.settings;
      await h.arm.sqlResources.beginUpdateSqlContainerThroughputAndWait(
        resourceGroup,
        account,
        database,
        source,
        { resource: { throughput: 80_000 } },
        { updateIntervalInMs: 50 }
      );
      await until('the source to split', async () => (await rangesOf()) === 8, 60_000);
      await waitForPhase(handle, 'catching-up', 300_000);
      const opsAtCatchUp = app.ops();
      await until('the application to write while catching up', () => app.ops() >= opsAtCatchUp + 40);
      await app.stop();
      await lastWrites(sourceC, model, 40);
      await handle.signal(cutoverSignal, { by: 'ops' });
      const report = await endOf(handle);
      expect(report.status).toBe('completed');
      expect(report.copy?.verification).toMatchObject({ passed: true, mismatches: [] });
      expect(report.timeline.some((t) => /split/.test(t.note ?? ''))).toBe(true);
    });
  } finally {
    await app.stop();
  }
  const sourceNow = await h.documents(database, source);
  expect(sourceNow).toEqual(byId([...model.values()]));
  expect(await h.documents(database, target)).toEqual(byId(sourceNow.map(expectedCopy)));
}, 900_000);

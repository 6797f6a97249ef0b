/**
 * Copy mode driven by the workflow, on the local stack (the real worker and Temporal dev server, the emulator over
 * HTTPS through @azure/cosmos, the ARM imitation through @azure/arm-cosmosdb): issue 21's "Done when", scaled to
 * COPY_DOCS documents (default 2,000). A container partitioned by /accountNo is copied into a new one partitioned by
 * /tenant (the module derives it) while an application creates, updates and deletes in the source; after the
 * `cutover` signal the target holds exactly up() of the source, the source is exactly what the application wrote;
 * then the application writes to the target, and `rollback` brings those writes back to the source through down().
 * A second case rolls back before the cutover: the target is deleted, the source untouched; a third runs in
 * latest-version mode. The source splitting under the backfill is `npm run test:scale`
 * (test/scale/copy-split-backfill.test.ts); a split during the catch-up is test/workflow/copy-limits.test.ts.
 */
import { randomUUID } from 'node:crypto';
import type { Container } from '@azure/cosmos';
import { migrationRunbook } from '../../workflows';
import { cutoverSignal, rollbackSignal, statusQuery } from '../../workflows/messages';
import { historyToJSON } from '../support/history-json';
import { decodedHistory } from '../support/payloads';
import { Harness, MARKER, saveHistory, temporalCli, waitForPhase } from './harness';
import {
  account,
  byId,
  endOf,
  expectedBack,
  expectedCopy,
  lastWrites,
  reach,
  repartitionModule as copyModule,
  seedSource as seed,
  sourceApplication as application,
  startCopy as start,
  until,
  type Account,
  type Placed,
  containerExists,
} from './copy-support';

const DOCS = Number(process.env.COPY_DOCS ?? 2000);

const repartitionModule = (id: string, database: string, source: string, target: string) =>
  copyModule(id, database, source, target, 'throughput: 1000, throughputAfterCopy: 400');
const seedSource = (n: number, throughput?: number) => seed(h, n, throughput);
const sourceApplication = (source: Container, model: Map<string, Account>) => application(source, model, 10 * DOCS);
const startCopy = (taskQueue: string, migration: string, extra: Record<string, unknown> = {}) =>
  start(h, taskQueue, migration, extra);

let h: Harness;
beforeAll(async () => {
  h = await Harness.start();
}, 180_000);
afterAll(async () => {
  await h?.close();
});

/** The application after the cutover, on the target: creates, updates, moves (delete + create) and deletes. */
function targetApplication(target: Container, model: Map<string, Placed>) {
  let stopped = false;
  let ops = 0;
  let next = 20 * DOCS;
  const loop = (async () => {
    while (!stopped) {
      const keys = [...model.keys()];
      const pick = model.get(keys[(ops * 104729) % keys.length]!)!;
      const kind = ops % 4;
      if (kind === 0) {
        const base = { ...account(next++), schemaVersion: 2 };
        const doc = { ...base, tenant: `tenant-${base.org}` };
        await target.items.create(doc);
        model.set(doc.id, doc);
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

/** The target's dedicated throughput, read through ARM (@azure/arm-cosmosdb) as an operator would. */
async function targetThroughput(database: string, container: string): Promise<number | undefined> {
  const { resourceGroup, account } = h.stack.settings;
  const got = await h.arm.sqlResources.getSqlContainerThroughput(resourceGroup, account, database, container);
  return got.resource?.throughput;
}

test(`${DOCS} accounts by /accountNo copied by the workflow into a container by /tenant while the application writes; after cutover the target is exactly up() of the source and the source is unchanged by the run; a rollback after the application wrote to the target brings those writes back to the source`, async () => {
  const { database, source, docs } = await seedSource(DOCS);
  const target = `${source}-by-tenant`;
  const id = `repartition-${randomUUID().slice(0, 6)}`;
  h.writeMigration(`${id}.js`, repartitionModule(id, database, source, target));
  const sourceC = h.cosmos.database(database).container(source);
  const targetC = h.cosmos.database(database).container(target);
  const model = new Map(docs.map((d) => [d.id, d]));
  const w = await h.worker({ cutover: { command: 'true' }, rollbackCutover: { command: 'true' } });
  const app = sourceApplication(sourceC, model);
  try {
    await w.worker.runUntil(async () => {
      const handle = await startCopy(w.taskQueue, id);
      // The application writes through the backfill and the catch-up.
      const catching = await waitForPhase(handle, 'catching-up', 300_000);
      expect(catching.pendingDecision).toMatchObject({ kind: 'cutover' });
      expect(catching.catchUp).toMatchObject({ cutover: 'signal' });
      expect(catching.plan?.totalDocuments).toBeGreaterThanOrEqual(DOCS);
      // The target was created through ARM with the throughput declared for the copy.
      expect(await targetThroughput(database, target)).toBe(1000);
      const opsAtCatchUp = app.ops();
      await until('the application to write while catching up', () => app.ops() >= opsAtCatchUp + 60);
      await app.stop();
      expect(app.ops()).toBeGreaterThan(100);
      // The application's last writes land right before the signal: only the drain after it can copy them.
      await lastWrites(sourceC, model, 40);
      await handle.signal(cutoverSignal, { by: 'alice' });
      const monitoring = await reach(handle, 'monitoring');
      expect(monitoring.copy?.cutover).toMatchObject({ by: 'alice', hookRan: true });
      expect(monitoring.copy?.verification).toMatchObject({ passed: true, mismatches: [] });
      expect(monitoring.copy?.mode).toBe('all-versions-and-deletes');
      // Lowered at the cutover point, once the copy's own writes were done (target.throughputAfterCopy).
      expect(monitoring.copy?.throughputAfterCopy).toBe(400);
      expect(await targetThroughput(database, target)).toBe(400);

      // The source is exactly what the application wrote: the run never wrote it.
      const sourceNow = await h.documents(database, source);
      expect(sourceNow).toEqual(byId([...model.values()]));
      // The target is exactly up() of the source: every update, none of the deleted, no copy left by a move.
      const copied = await h.documents(database, target);
      expect(copied).toEqual(byId(sourceNow.map(expectedCopy)));
      expect(copied.length).toBeGreaterThan(DOCS * 0.9);
      expect(monitoring.copy?.verification).toMatchObject({
        sourceTotal: sourceNow.length,
        targetTotal: sourceNow.length,
        expectedByVersion: { '2': sourceNow.length },
      });

      // After the cutover the application writes to the target; a rollback drains the reverse sync.
      const targetModel = new Map(copied.map((d) => [d.id, d as Placed]));
      const after = targetApplication(targetC, targetModel);
      await until('the application to write to the target', () => after.ops() >= 80);
      await after.stop();
      await handle.signal(rollbackSignal, { reason: 'back to the source' });
      const report = await endOf(handle);
      expect(report.status).toBe('rolled-back');
      expect(report.rollback).toMatchObject({ mode: 'copy', ok: true });
      expect(report.copy?.cutover?.by).toBe('alice');
      expect(report.timeline.some((t) => /rollbackCutover hook/.test(t.note ?? '') || t.phase === 'rolling-back')).toBe(
        true
      );
      const history = historyToJSON(await handle.fetchHistory());
      expect(decodedHistory(history)).not.toContain(MARKER);
      saveHistory('copy-mode-cutover-rollback.json', history);
      const child = historyToJSON(await h.client.workflow.getHandle(`${handle.workflowId}/rollback-1`).fetchHistory());
      expect(decodedHistory(child)).not.toContain(MARKER);
      saveHistory('copy-mode-rollback-child.json', child);

      const targetNow = await h.documents(database, target);
      expect(targetNow).toEqual(byId([...targetModel.values()]));
      // Every write the application made to the target is in the source again, as down() makes it.
      expect(await h.documents(database, source)).toEqual(byId(targetNow.map(expectedBack)));
      const final = await handle.query(statusQuery);
      expect(final.phase).toBe('rolled-back');
    });
  } finally {
    await app.stop();
  }
}, 900_000);

test('started with `temporal workflow start` like any module, a rollback before the cutover deletes the target (it holds only copies, no consent asked) and leaves the source untouched', async () => {
  const { database, source, docs } = await seedSource(300);
  const target = `${source}-by-tenant`;
  const id = `repartition-${randomUUID().slice(0, 6)}`;
  h.writeMigration(`${id}.js`, repartitionModule(id, database, source, target));
  const before = await h.documents(database, source);
  expect(before).toHaveLength(docs.length);
  const w = await h.worker();
  await w.worker.runUntil(async () => {
    const workflowId = `copy-cli-${randomUUID()}`;
    const input = { migration: id, approval: { required: false }, batchSize: 50 };
    await temporalCli([
      'workflow',
      'start',
      '--type',
      'migrationRunbook',
      '--task-queue',
      w.taskQueue,
      '--workflow-id',
      workflowId,
      '--input',
      JSON.stringify(input),
    ]);
    const handle = h.client.workflow.getHandle<typeof migrationRunbook>(workflowId);
    await waitForPhase(handle, 'catching-up', 300_000);
    // The target exists and holds the copies.
    expect(await h.documents(database, target)).toHaveLength(docs.length);
    await handle.signal(rollbackSignal, { reason: 'changed our mind' });
    const report = await endOf(handle);
    expect(report.status).toBe('rolled-back');
    expect(report.rollback).toMatchObject({ mode: 'copy', ok: true, problems: [] });
    expect(report.copy?.cutover).toBeUndefined();
  });
  expect(await containerExists(h, database, target)).toBe(false);
  expect(await h.documents(database, source)).toEqual(before);
}, 600_000);

test('latest-version mode (the account has periodic backup): the catch-up copies creates and updates, and at the cutover point findDeletedCopies removes the copies of the documents the application deleted: the target is exactly up() of the source', async () => {
  h.stack.arm.control.setBackupPolicy({ type: 'Periodic' });
  try {
    const { database, source, docs } = await seedSource(600);
    const target = `${source}-by-tenant`;
    const id = `repartition-${randomUUID().slice(0, 6)}`;
    h.writeMigration(`${id}.js`, repartitionModule(id, database, source, target));
    const sourceC = h.cosmos.database(database).container(source);
    const model = new Map(docs.map((d) => [d.id, d]));
    const w = await h.worker();
    const app = sourceApplication(sourceC, model);
    try {
      await w.worker.runUntil(async () => {
        const handle = await startCopy(w.taskQueue, id, { monitor: { duration: '1s', interval: '1s' } });
        await waitForPhase(handle, 'catching-up', 300_000);
        const opsAtCatchUp = app.ops();
        await until('the application to write while catching up', () => app.ops() >= opsAtCatchUp + 60);
        await app.stop();
        await handle.signal(cutoverSignal, { by: 'ops' });
        const report = await endOf(handle);
        expect(report.status).toBe('completed');
        expect(report.copy?.mode).toBe('latest-version');
        // The application deleted a fifth of its operations' documents: their copies were found at the cutover point.
        expect(report.copy?.deletedAtCutover).toBeGreaterThan(0);
        expect(report.rollbackPlan).toContain('the change feed carries no deletes');
      });
    } finally {
      await app.stop();
    }
    const sourceNow = await h.documents(database, source);
    expect(sourceNow).toEqual(byId([...model.values()]));
    expect(await h.documents(database, target)).toEqual(byId(sourceNow.map(expectedCopy)));
  } finally {
    h.stack.arm.control.setBackupPolicy({ type: 'Continuous' });
  }
}, 900_000);

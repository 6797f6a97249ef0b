/**
 * Copy mode on the local stack: the limits issue 21 left, closed (the long copy cases are
 * test/workflow/copy-mode.test.ts). Small containers in one file, so the default suite stays fast.
 *
 * - The source splits during the catch-up, the application writing before, during and after the split. The change feed
 *   of a feed range follows the split inside @azure/cosmos 4.9 (client/ChangeFeed/ChangeFeedForEpkRange.js
 *   `shouldRetryOnFailure` → `handleSplitOrMerge`: the children are read from the parent's etag) and the emulator
 *   keeps one log sequence per container, so a parent's etag is valid on its children (local/cosmos/change-feed.ts),
 *   as on Azure; when an activity does fail with FeedRangeSplit, the workflow's children go on from the parent's
 *   continuation (workflows/copy/feed-continuation.ts, test/workflow/copy-phases.test.ts). Either way nothing written
 *   between the parent's last page and the split is missed: after the cutover the target is exactly up() of the source.
 * - A rollback before the cutover, after the application wrote a document into the target: the run asks before it
 *   deletes the target (checkTargetCopies), and approve deletes it.
 * - Latest-version mode, a rollback after the cutover: the application's deletes in the target (not in that feed)
 *   are found by findDeletedSources and deleted from the source; its moves are not collisions.
 */
import { randomUUID } from 'node:crypto';
import type { Container } from '@azure/cosmos';
import { migrationRunbook } from '../../workflows';
import { approveSignal, cutoverSignal, rollbackSignal, statusQuery } from '../../workflows/messages';
import { historyToJSON } from '../support/history-json';
import { decodedHistory } from '../support/payloads';
import { Harness, MARKER, saveHistory, waitForDecision, waitForPhase, type Doc } from './harness';
import {
  account,
  byId,
  expectedCopy,
  repartitionModule,
  sourceApplication as application,
  until,
  type Account,
  containerExists,
} from './copy-support';

let h: Harness;
beforeAll(async () => {
  h = await Harness.start();
}, 180_000);
afterAll(async () => {
  await h?.close();
});

const sourceApplication = (source: Container, model: Map<string, Account>) => application(source, model, 100_000);

test('the source splits during the catch-up (an ARM throughput raise from 1 to 2 ranges), the application writing before, during and after: after the cutover the target is exactly up() of the source, the source what the application wrote', async () => {
  const { database, container: source } = await h.seed([], {
    container: 'accounts',
    partitionKey: '/accountNo',
    throughput: 10_000,
  });
  const sourceC = h.cosmos.database(database).container(source);
  const docs = Array.from({ length: 200 }, (_, i) => account(i));
  for (let i = 0; i < docs.length; i += 50)
    await Promise.all(docs.slice(i, i + 50).map((d) => sourceC.items.create(d)));
  const target = `${source}-by-tenant`;
  const id = `repartition-${randomUUID().slice(0, 6)}`;
  h.writeMigration(`${id}.js`, repartitionModule(id, database, source, target));

  const rangesOf = async () => (await sourceC.readPartitionKeyRanges().fetchAll()).resources.length;
  expect(await rangesOf()).toBe(1);
  const model = new Map(docs.map((d) => [d.id, d]));
  const w = await h.worker();
  const app = sourceApplication(sourceC, model);
  try {
    await w.worker.runUntil(async () => {
      const handle = await h.client.workflow.start(migrationRunbook, {
        taskQueue: w.taskQueue,
        workflowId: `copy-split-${randomUUID()}`,
        args: [
          { migration: id, approval: { required: false }, batchSize: 50, monitor: { duration: '1s', interval: '1s' } },
        ],
      });
      await waitForPhase(handle, 'catching-up', 120_000);
      // A catch-up round has read the feed (caught-up changes counted) before the split.
      await until(
        'a catch-up round with changes',
        async () => ((await handle.query(statusQuery)).catchUp?.caughtUp ?? 0) > 0
      );
      const before = app.ops();
      await until('the application to write after that round', () => app.ops() >= before + 30);
      const { resourceGroup, account: cosmosAccount } = h.stack.settings;
      await h.arm.sqlResources.beginUpdateSqlContainerThroughputAndWait(
        resourceGroup,
        cosmosAccount,
        database,
        source,
        { resource: { throughput: 20_000 } },
        { updateIntervalInMs: 50 }
      );
      await until('the source to split', async () => (await rangesOf()) === 2, 60_000);
      const atSplit = app.ops();
      await until('the application to write after the split', () => app.ops() >= atSplit + 30);
      // Still catching up after the split: the rounds go on over the children.
      expect((await handle.query(statusQuery)).phase).toBe('catching-up');
      await app.stop();
      await handle.signal(cutoverSignal, { by: 'ops' });
      await until('the run to end', async () => {
        const status = await handle.query(statusQuery);
        if (status.phase === 'paused') throw new Error(`the run paused: ${status.lastError ?? ''}`);
        return status.phase === 'completed';
      });
      const report = await handle.result();
      expect(report.copy?.verification).toMatchObject({ passed: true, mismatches: [] });
    });
  } finally {
    await app.stop();
  }
  const sourceNow = await h.documents(database, source);
  expect(sourceNow).toEqual(byId([...model.values()]));
  expect(await h.documents(database, target)).toEqual(byId(sourceNow.map(expectedCopy)));
}, 300_000);

test("a rollback before the cutover, after the application wrote a document into the target: the run asks before deleting the target (its count, the document's id), approve deletes it, the source untouched", async () => {
  const { database, container: source } = await h.seed([], { container: 'accounts', partitionKey: '/accountNo' });
  const sourceC = h.cosmos.database(database).container(source);
  const docs = Array.from({ length: 100 }, (_, i) => account(i));
  await Promise.all(docs.map((d) => sourceC.items.create(d)));
  const before = await h.documents(database, source);
  const target = `${source}-by-tenant`;
  const id = `repartition-${randomUUID().slice(0, 6)}`;
  h.writeMigration(`${id}.js`, repartitionModule(id, database, source, target));
  const w = await h.worker();
  await w.worker.runUntil(async () => {
    const handle = await h.client.workflow.start(migrationRunbook, {
      taskQueue: w.taskQueue,
      workflowId: `copy-rollback-${randomUUID()}`,
      args: [{ migration: id, approval: { required: false, timeout: '5m' }, batchSize: 50 }],
    });
    await waitForPhase(handle, 'catching-up', 120_000);
    const targetC = h.cosmos.database(database).container(target);
    await targetC.items.create({ ...expectedCopy(account(5000)), id: 'written-by-the-app' });
    await handle.signal(rollbackSignal, { reason: 'changed our mind' });
    const asked = await waitForDecision(handle, 'approve-delete-container', 120_000);
    expect(asked.pendingDecision).toMatchObject({ documents: 101, notCopies: 1, ids: ['written-by-the-app'] });
    // Ids and counts only: never a document's content.
    expect(JSON.stringify(asked.pendingDecision)).not.toContain(MARKER);
    expect(await h.documents(database, target)).toHaveLength(101);
    await handle.signal(approveSignal, { by: 'alice' });
    await until('the run to end', async () => (await handle.query(statusQuery)).phase === 'rolled-back');
    const report = await handle.result();
    expect(report.rollback).toMatchObject({ mode: 'copy', ok: true, problems: [] });
    expect(report.rollback?.keptContainer).toBeUndefined();
    // The rollback child's new shape (the check, the gate, the delete), for the replay test; no document content.
    const child = historyToJSON(await h.client.workflow.getHandle(`${handle.workflowId}/rollback-1`).fetchHistory());
    expect(decodedHistory(child)).not.toContain(MARKER);
    saveHistory('copy-rollback-target-gate-child.json', child);
  });
  expect(await containerExists(h, database, target)).toBe(false);
  expect(await h.documents(database, source)).toEqual(before);
}, 300_000);

test("latest-version mode (periodic backup), a rollback after the cutover: the application's creates, updates, moves and deletes in the target all come back to the source (the deletes found by findDeletedSources)", async () => {
  h.stack.arm.control.setBackupPolicy({ type: 'Periodic' });
  try {
    const { database, container: source } = await h.seed([], { container: 'accounts', partitionKey: '/accountNo' });
    const sourceC = h.cosmos.database(database).container(source);
    await Promise.all(Array.from({ length: 120 }, (_, i) => sourceC.items.create(account(i))));
    const target = `${source}-by-tenant`;
    const id = `repartition-${randomUUID().slice(0, 6)}`;
    h.writeMigration(`${id}.js`, repartitionModule(id, database, source, target));
    const w = await h.worker({ cutover: { command: 'true' }, rollbackCutover: { command: 'true' } });
    await w.worker.runUntil(async () => {
      const handle = await h.client.workflow.start(migrationRunbook, {
        taskQueue: w.taskQueue,
        workflowId: `copy-latest-${randomUUID()}`,
        args: [
          { migration: id, approval: { required: false }, batchSize: 50, monitor: { duration: '10m', interval: '1s' } },
        ],
      });
      await waitForPhase(handle, 'catching-up', 120_000);
      await handle.signal(cutoverSignal, { by: 'ops' });
      const monitoring = await waitForPhase(handle, 'monitoring', 120_000);
      expect(monitoring.copy?.mode).toBe('latest-version');
      // The application, pointed at the target: updates, deletes, moves (a delete and a create under another tenant)
      // and creates.
      const targetC = h.cosmos.database(database).container(target);
      const copies = (await h.documents(database, target)) as (Account & { tenant: string })[];
      const at = (i: number) => copies.find((d) => d.id === `acct-${i}`)!;
      for (const i of [1, 2, 3, 4, 5]) await targetC.item(`acct-${i}`, at(i).tenant).replace({ ...at(i), balance: -i });
      for (const i of [10, 11, 12, 13, 14]) await targetC.item(`acct-${i}`, at(i).tenant).delete();
      for (const i of [20, 21, 22]) {
        await targetC.item(`acct-${i}`, at(i).tenant).delete();
        await targetC.items.create({ ...at(i), org: `moved-${i}`, tenant: `tenant-moved-${i}` });
      }
      for (const i of [500, 501, 502]) await targetC.items.create({ ...expectedCopy(account(i)) });
      await handle.signal(rollbackSignal, { reason: 'back to the source' });
      await until('the rollback', async () => {
        const phase = (await handle.query(statusQuery)).phase;
        if (phase === 'rollback-failed' || phase === 'paused') throw new Error(`the run ended ${phase}`);
        return phase === 'rolled-back';
      });
      const report = await handle.result();
      expect(report.rollback).toMatchObject({ mode: 'copy', ok: true, problems: [] });
      const child = historyToJSON(await h.client.workflow.getHandle(`${handle.workflowId}/rollback-1`).fetchHistory());
      expect(decodedHistory(child)).not.toContain(MARKER);
      saveHistory('copy-latest-version-rollback-child.json', child);
    });
    const targetNow = await h.documents(database, target);
    expect(targetNow).toHaveLength(120 - 5 + 3);
    const back = (doc: Doc): Doc => {
      const { tenant: _tenant, ...rest } = doc;
      return { ...rest, schemaVersion: 1 };
    };
    // Every write the application made to the target, deletes included, is in the source as down() makes it.
    expect(await h.documents(database, source)).toEqual(byId(targetNow.map(back)));
  } finally {
    h.stack.arm.control.setBackupPolicy({ type: 'Continuous' });
  }
}, 300_000);

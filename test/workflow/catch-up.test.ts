/**
 * The online lifecycle on the local stack: an old application keeps creating and rewriting documents in the old shape
 * through the backfill and after it, while the run follows the change feed (phase catching-up) until the operator's
 * `cutover`; the feed is then drained to its head, and the run verifies and completes without a rollback: every
 * document, the old writer's included, at the new version, none missing. With `cutover: "auto"` the run goes on by
 * itself once the feed has been quiet.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import type { Container } from '@azure/cosmos';
import { migrationRunbook } from '../../workflows';
import { cutoverSignal, statusQuery } from '../../workflows/messages';
import { historyToJSON } from '../support/history-json';
import { decodedHistory } from '../support/payloads';
import { Harness, MARKER, customers, saveHistory, splitNameModule, waitForPhase, type Doc } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await Harness.start();
}, 180_000);
afterAll(async () => {
  await h?.close();
});

/** The old application: creates old-shape customers, and writes some migrated ones back in the old shape. */
function oldWriter(container: Container) {
  let stop = false;
  const created: string[] = [];
  const done = (async () => {
    for (let i = 0; !stop; i++) {
      const id = `old-${i}`;
      await container.items.create({ id, tenant: `t${i % 3}`, name: `Old${i} Writer${i}` });
      created.push(id);
      await sleep(20);
    }
  })();
  return {
    created,
    async stop() {
      stop = true;
      await done;
    },
  };
}

/** Starts a run of `migration` (batches of 20, no approval, a short monitoring) and waits until it catches up. */
async function startCatchingUp(
  taskQueue: string,
  name: string,
  migration: string,
  options: { cutover?: 'signal'; quietFor?: string }
) {
  const handle = await h.client.workflow.start(migrationRunbook, {
    taskQueue,
    workflowId: `${name}-${randomUUID()}`,
    args: [
      {
        migration,
        approval: { required: false },
        monitor: { duration: '1s', interval: '1s' },
        batchSize: 20,
        ...options,
      },
    ],
  });
  await waitForPhase(handle, 'catching-up', 120_000);
  return handle;
}

test('cutover "signal": old-shape writes during and after the backfill are caught up from the change feed until cutover; the run completes, every document at the new version', async () => {
  const docs = customers(300);
  const { database, container } = await h.seed(docs);
  const id = `split-${randomUUID().slice(0, 6)}`;
  h.writeMigration(`${id}.js`, splitNameModule(id, database));
  const live = h.cosmos.database(database).container(container);
  const w = await h.worker();
  const writer = oldWriter(live);
  try {
    await w.worker.runUntil(async () => {
      const handle = await startCatchingUp(w.taskQueue, 'catch-up', id, { cutover: 'signal' });
      const catching = await handle.query(statusQuery);
      expect(catching.pendingDecision).toMatchObject({ kind: 'cutover' });
      // The old application goes on writing while the run catches up, then its writers are switched off.
      const before = writer.created.length;
      for (let i = 0; i < 100 && writer.created.length < before + 60; i++) await sleep(100);
      const status = await handle.query(statusQuery);
      expect(status.phase).toBe('catching-up');
      expect(status.catchUp).toMatchObject({ cutover: 'signal' });
      await writer.stop();
      await handle.signal(cutoverSignal, { by: 'alice' });
      const report = await handle.result();
      expect(report.status).toBe('completed');
      expect(report.rollback).toBeUndefined();
      expect(report.timeline.some((t) => /cutover by alice/.test(t.note ?? ''))).toBe(true);
      expect(report.timeline.filter((t) => /written in the old shape since the backfill/.test(t.note ?? ''))).toEqual(
        []
      );
      const history = historyToJSON(await handle.fetchHistory());
      expect(decodedHistory(history)).not.toContain(MARKER);
      saveHistory('catch-up-cutover.json', history);
    });
  } finally {
    await writer.stop();
  }
  const after = await h.documents(database, container);
  expect(after).toHaveLength(docs.length + writer.created.length);
  expect(writer.created.length).toBeGreaterThan(60);
  const wrong = after.filter((d: Doc) => d.schemaVersion !== 2 || d.name !== undefined).map((d) => d.id);
  expect(wrong).toEqual([]);
});

test('cutover "auto": the run catches up while the old writer writes, and goes on by itself once no old-shape document has arrived for quietFor', async () => {
  const docs = customers(300);
  const { database, container } = await h.seed(docs);
  const id = `split-${randomUUID().slice(0, 6)}`;
  h.writeMigration(`${id}.js`, splitNameModule(id, database));
  const live = h.cosmos.database(database).container(container);
  const w = await h.worker();
  const writer = oldWriter(live);
  let stoppedAt = 0;
  try {
    await w.worker.runUntil(async () => {
      const handle = await startCatchingUp(w.taskQueue, 'catch-up-auto', id, { quietFor: '3s' });
      await sleep(1_000);
      await writer.stop();
      stoppedAt = Date.now();
      const report = await handle.result();
      expect(report.status).toBe('completed');
      // It stayed until the feed had been quiet for 3 s after the writer's last document, then verified.
      const verifying = report.timeline.find((t) => t.phase === 'verifying');
      expect(Date.parse(verifying!.at)).toBeGreaterThanOrEqual(stoppedAt + 2_500);
      expect(report.timeline.some((t) => /no old-shape document for 3s/.test(t.note ?? ''))).toBe(true);
    });
  } finally {
    await writer.stop();
  }
  const after = await h.documents(database, container);
  expect(after).toHaveLength(docs.length + writer.created.length);
  expect(after.filter((d: Doc) => d.schemaVersion !== 2).map((d) => d.id)).toEqual([]);
});

test('a split while catching up: the feeds go on across it (a parent range continues on its children), every old-shape document caught up', async () => {
  const { resourceGroup, account } = h.stack.settings;
  const poll = { updateIntervalInMs: 50 };
  const docs = customers(200);
  const { database } = await h.seed(docs, { throughput: 20_000 }); // 2 physical partitions
  const live = h.cosmos.database(database).container('customers');
  const id = `split-${randomUUID().slice(0, 6)}`;
  h.writeMigration(`${id}.js`, splitNameModule(id, database));
  const w = await h.worker();
  const writer = oldWriter(live);
  try {
    await w.worker.runUntil(async () => {
      const handle = await startCatchingUp(w.taskQueue, 'catch-up-split', id, { cutover: 'signal' });
      const rangesBefore = (await live.getFeedRanges()).length;
      // 40 000 RU/s: 4 physical partitions, the two the catch-up follows split in two each.
      await h.arm.sqlResources.beginUpdateSqlContainerThroughputAndWait(
        resourceGroup,
        account,
        database,
        'customers',
        { resource: { throughput: 40_000 } },
        poll
      );
      for (let i = 0; i < 100 && (await live.getFeedRanges()).length === rangesBefore; i++) await sleep(100);
      expect((await live.getFeedRanges()).length).toBeGreaterThan(rangesBefore);
      const after = writer.created.length;
      for (let i = 0; i < 100 && writer.created.length < after + 30; i++) await sleep(100);
      await writer.stop();
      await handle.signal(cutoverSignal, { by: 'alice' });
      const report = await handle.result();
      expect(report.status).toBe('completed');
      expect(report.rollback).toBeUndefined();
      // The catch-up itself caught everything: verification found nothing left to catch up.
      expect(report.timeline.filter((t) => /written in the old shape since the backfill/.test(t.note ?? ''))).toEqual(
        []
      );
    });
  } finally {
    await writer.stop();
  }
  const after = await h.documents(database, 'customers');
  expect(after).toHaveLength(docs.length + writer.created.length);
  expect(after.filter((d: Doc) => d.schemaVersion !== 2).map((d) => d.id)).toEqual([]);
});

/**
 * A worker killed mid-migration (SIGKILL, no goodbye): the run's activity times out on its heartbeat, another worker
 * picks the range up from its last heartbeated continuation, and the run completes with every document migrated
 * exactly once. The same mid-rollback: the revert resumes on another worker and every document comes back.
 * The fast version of `npm run chaos -- --only worker-kills` (scripts/chaos/cases/worker-kills.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { migrationRunbook } from '../../workflows';
import { cutoverSignal, rollbackSignal, statusQuery } from '../../workflows/messages';
import { Harness, customers } from './harness';
import { uniqueTaskQueue } from '../support/temporal';
import { killWorkerProcess, startWorkerProcess as startWorker } from '../support/worker-process';

let h: Harness;
let child: ChildProcess | undefined;
beforeAll(async () => {
  h = await Harness.start();
}, 180_000);
afterAll(async () => {
  killWorkerProcess(child);
  await h?.close();
});

const startWorkerProcess = (taskQueue: string, command?: string[]) => startWorker(h, taskQueue, command);

test('SIGTERM shuts the worker down gracefully (exit 0)', async () => {
  // One process (no npx/tsx wrappers in between): the signal reaches the worker as a service manager sends it.
  child = await startWorkerProcess(uniqueTaskQueue('term'), [process.execPath, '--import', 'tsx', 'worker/main.ts']);
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  expect(output).toContain('worker stopped');
}, 120_000);

/** A module (1 → 2) counting its applications in `applied`; with `down`, its reverse. */
function countingModule(id: string, database: string, options: { down: boolean }): string {
  return `module.exports = {
  id: ${JSON.stringify(id)}, description: 'count', database: ${JSON.stringify(database)}, container: 'customers',
  fromVersion: 1, toVersion: 2,
  up(doc) { return { ...doc, applied: (doc.applied ?? 0) + 1, schemaVersion: 2 }; },
  ${options.down ? 'down(doc) { const out = { ...doc }; delete out.applied; delete out.schemaVersion; return out; },' : ''}
};
`;
}

test('a worker killed mid-migration: another worker finishes the run, every document migrated once', async () => {
  const total = 300;
  const docs = customers(total);
  const { database, container } = await h.seed(docs);
  const id = `count-${randomUUID().slice(0, 6)}`;
  h.writeMigration(`${id}.js`, countingModule(id, database, { down: true }));
  const taskQueue = uniqueTaskQueue('kill');
  child = await startWorkerProcess(taskQueue);
  // Slow writes down so the migration is still running when the worker dies.
  h.stack.cosmos.control.setFaults([{ kinds: ['batch', 'write'], latencyMs: 250 }]);

  const handle = await h.client.workflow.start(migrationRunbook, {
    taskQueue,
    workflowId: `kill-${randomUUID()}`,
    args: [
      {
        migration: id,
        approval: { required: false },
        monitor: { duration: '1s', interval: '1s' },
        batchSize: 10,
        concurrency: 1,
        // One long activity: its progress lives only in its heartbeats.
        tuning: { heartbeatTimeout: '3s', maxPagesPerActivity: 1000 },
      },
    ],
  });

  const migratedNow = async () => (await h.documents(database, container)).filter((d) => d.schemaVersion === 2).length;
  const deadline = Date.now() + 60_000;
  let atKill = 0;
  while (Date.now() < deadline) {
    atKill = await migratedNow();
    if (atKill >= 40) break;
    await sleep(200);
  }
  expect(atKill).toBeGreaterThanOrEqual(40);
  process.kill(-child.pid!, 'SIGKILL');
  await new Promise((r) => child!.once('exit', r));
  const afterKill = await migratedNow();
  expect(afterKill).toBeLessThan(total);

  h.stack.cosmos.control.setFaults([]);
  const second = await h.worker({}, taskQueue);
  const report = await second.worker.runUntil(handle.result());
  expect(report.status).toBe('completed');
  const after = await h.documents(database, container);
  expect(after).toHaveLength(total);
  expect(after.every((d) => d.applied === 1 && d.schemaVersion === 2)).toBe(true);

  // The range was retried (attempt 2) after the heartbeat timeout, not started over as a new activity.
  const { events } = await handle.fetchHistory();
  const attempts = (events ?? []).map((e) => e.activityTaskStartedEventAttributes?.attempt).filter((a) => a);
  expect(Math.max(...(attempts as number[]))).toBeGreaterThanOrEqual(2);
}, 240_000);

test('a worker killed mid-rollback: another worker finishes the revert, every document as before the run', async () => {
  const total = 300;
  const docs = customers(total);
  const { database, container } = await h.seed(docs);
  const id = `count-${randomUUID().slice(0, 6)}`;
  // No down(): the rollback is the surgical revert from the pre-images the run keeps.
  h.writeMigration(`${id}.js`, countingModule(id, database, { down: false }));
  const taskQueue = uniqueTaskQueue('kill-rollback');
  child = await startWorkerProcess(taskQueue);
  h.stack.cosmos.control.setFaults([{ kinds: ['batch', 'write'], latencyMs: 150 }]);
  const handle = await h.client.workflow.start(migrationRunbook, {
    taskQueue,
    workflowId: `kill-rollback-${randomUUID()}`,
    args: [
      {
        migration: id,
        approval: { required: false },
        monitor: { duration: '1s', interval: '1s' },
        batchSize: 10,
        concurrency: 1,
        tuning: { heartbeatTimeout: '3s', maxPagesPerActivity: 1000 },
      },
    ],
  });
  const migratedNow = async () => (await h.documents(database, container)).filter((d) => d.schemaVersion === 2).length;
  while ((await migratedNow()) < 100) await sleep(200);
  await handle.signal(rollbackSignal, { reason: 'test: roll back, then lose the worker' });
  // Kill once the revert has put some documents back.
  let peak = 0;
  for (;;) {
    const now = await migratedNow();
    peak = Math.max(peak, now);
    const { phase } = await handle.query(statusQuery);
    if (phase === 'rolling-back' && now < peak - 20) break;
    expect(phase).not.toBe('rolled-back');
    await sleep(100);
  }
  process.kill(-child.pid!, 'SIGKILL');
  await new Promise((r) => child!.once('exit', r));
  expect(await migratedNow()).toBeGreaterThan(0);

  h.stack.cosmos.control.setFaults([]);
  const second = await h.worker({}, taskQueue);
  const report = await second.worker.runUntil(handle.result());
  expect(report.status).toBe('rolled-back');
  expect(report.rollback).toMatchObject({ mode: 'preimages', ok: true });
  expect(await h.documents(database, container)).toEqual(docs);
  // The revert was retried after the heartbeat timeout (attempt 2), in the rollback's child workflow.
  const { events } = await h.client.workflow.getHandle(`${handle.workflowId}/rollback-1`).fetchHistory();
  const attempts = (events ?? []).map((e) => e.activityTaskStartedEventAttributes?.attempt ?? 0);
  expect(Math.max(...attempts)).toBeGreaterThanOrEqual(2);
}, 240_000);

test('a worker killed while catching up: another worker goes on from the feed’s last continuation, no old-shape document missed, none migrated twice', async () => {
  const docs = customers(100);
  const { database, container } = await h.seed(docs);
  const id = `count-${randomUUID().slice(0, 6)}`;
  h.writeMigration(`${id}.js`, countingModule(id, database, { down: true }));
  const taskQueue = uniqueTaskQueue('kill-catch-up');
  child = await startWorkerProcess(taskQueue);
  const handle = await h.client.workflow.start(migrationRunbook, {
    taskQueue,
    workflowId: `kill-catch-up-${randomUUID()}`,
    args: [
      {
        migration: id,
        approval: { required: false },
        monitor: { duration: '1s', interval: '1s' },
        batchSize: 5,
        cutover: 'signal',
        tuning: { heartbeatTimeout: '3s' },
      },
    ],
  });
  for (let i = 0; i < 600; i++) {
    const status = await handle.query(statusQuery).catch(() => undefined);
    if (status?.phase === 'catching-up') break;
    await sleep(100);
  }
  expect((await handle.query(statusQuery)).phase).toBe('catching-up');
  // The old application writes 80 documents in the old shape; the catch-up is slowed so the kill finds it at work.
  h.stack.cosmos.control.setFaults([{ kinds: ['batch'], latencyMs: 250 }]);
  const live = h.cosmos.database(database).container(container);
  const late = Array.from({ length: 80 }, (_, i) => ({
    id: `late-${i}`,
    tenant: `t${i % 3}`,
    name: `Late${i} Old${i}`,
  }));
  for (const doc of late) await live.items.create(doc);
  const caughtUpNow = async () =>
    (await h.documents(database, container)).filter((d) => d.id.startsWith('late-') && d.schemaVersion === 2).length;
  let atKill = 0;
  for (let i = 0; i < 600 && atKill < 10; i++) {
    atKill = await caughtUpNow();
    await sleep(100);
  }
  expect(atKill).toBeGreaterThanOrEqual(10);
  process.kill(-child.pid!, 'SIGKILL');
  await new Promise((r) => child!.once('exit', r));
  expect(await caughtUpNow()).toBeLessThan(late.length);

  h.stack.cosmos.control.setFaults([]);
  const second = await h.worker({}, taskQueue);
  const report = await second.worker.runUntil(async () => {
    await handle.signal(cutoverSignal, { by: 'ops' });
    return handle.result();
  });
  expect(report.status).toBe('completed');
  const after = await h.documents(database, container);
  expect(after).toHaveLength(docs.length + late.length);
  const wrong = after.filter((d) => d.applied !== 1 || d.schemaVersion !== 2).map((d) => d.id);
  expect(wrong).toEqual([]);
  // The catch-up itself caught them all: verification had nothing left to catch up.
  expect(report.timeline.filter((t) => /written in the old shape since the backfill/.test(t.note ?? ''))).toEqual([]);
  // The killed catch-up was retried (attempt 2, from its heartbeated continuation), not started over.
  const { events } = await handle.fetchHistory();
  const scheduled = new Map<string, string>();
  let retriedCatchUp = false;
  for (const e of events ?? []) {
    const type = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (type) scheduled.set(String(e.eventId), type);
    const started = e.activityTaskStartedEventAttributes;
    if (started && (started.attempt ?? 1) >= 2 && scheduled.get(String(started.scheduledEventId)) === 'catchUpRange') {
      retriedCatchUp = true;
    }
  }
  expect(retriedCatchUp).toBe(true);
}, 240_000);

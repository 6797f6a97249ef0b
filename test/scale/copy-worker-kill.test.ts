/**
 * `npm run test:scale -- test/scale/copy-worker-kill.test.ts` (not in `npm test`: about a minute): a worker killed
 * during a copy's backfill and during its catch-up (docs/runbook.md "Copy mode"). The copy's activities resume from
 * their heartbeated page or feed continuation as the in-place ones do, which test/workflow/worker-kill.test.ts proves
 * in the default suite with the same machinery (the one range loop, heartbeats, a 3 s heartbeat timeout).
 */
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { migrationRunbook } from '../../workflows';
import { cutoverSignal, statusQuery } from '../../workflows/messages';
import { Harness } from '../workflow/harness';
import { uniqueTaskQueue } from '../support/temporal';
import { killWorkerProcess, retried, startWorkerProcess as startWorker } from '../support/worker-process';

let h: Harness;
let child: ChildProcess | undefined;
beforeAll(async () => {
  h = await Harness.start();
}, 180_000);
afterAll(async () => {
  killWorkerProcess(child);
  await h?.close();
});

const startWorkerProcess = (taskQueue: string) => startWorker(h, taskQueue);

/** `n` accounts over `keys` account numbers, and a module copying them into a container by /tenant (with down()). */
async function seedCopy(n: number, keys: number) {
  const docs = Array.from({ length: n }, (_, i) => ({
    id: `acct-${i}`,
    accountNo: `A-${i % keys}`,
    org: `o${i % 7}`,
    balance: i,
    schemaVersion: 1,
  }));
  const { database, container } = await h.seed(docs, { container: 'accounts', partitionKey: '/accountNo' });
  const target = 'accounts-by-tenant';
  const id = `copy-${randomUUID().slice(0, 6)}`;
  h.writeMigration(
    `${id}.js`,
    `module.exports = {
  id: ${JSON.stringify(id)}, description: 'by tenant', database: ${JSON.stringify(database)}, container: 'accounts',
  fromVersion: 1, toVersion: 2, target: { container: '${target}', partitionKey: '/tenant' },
  up(doc) { return { ...doc, tenant: 'tenant-' + doc.org }; },
  down(doc) { const back = { ...doc }; delete back.tenant; return back; },
};
`
  );
  return { id, database, container, target };
}

test('a worker killed during a copy’s backfill: another worker goes on from the range’s last page; after the cutover the target is exactly up() of the source, the source untouched', async () => {
  const total = 300;
  const { id, database, container, target } = await seedCopy(total, 40);
  const before = await h.documents(database, container);
  const taskQueue = uniqueTaskQueue('kill-copy');
  child = await startWorkerProcess(taskQueue);
  // Slow the copy's writes so the backfill is still running when the worker dies.
  h.stack.cosmos.control.setFaults([{ kinds: ['batch', 'write'], latencyMs: 250 }]);
  const handle = await h.client.workflow.start(migrationRunbook, {
    taskQueue,
    workflowId: `kill-copy-${randomUUID()}`,
    args: [
      {
        migration: id,
        approval: { required: false },
        monitor: { duration: '1s', interval: '1s' },
        batchSize: 10,
        concurrency: 1,
        tuning: { heartbeatTimeout: '3s' },
      },
    ],
  });
  const copiedNow = async () =>
    (await h.cosmos.database(database).container(target).items.query('SELECT VALUE COUNT(1) FROM c').fetchAll())
      .resources[0] as number;
  let atKill = 0;
  for (let i = 0; i < 600 && atKill < 40; i++) {
    atKill = await copiedNow().catch(() => 0);
    await sleep(100);
  }
  expect(atKill).toBeGreaterThanOrEqual(40);
  process.kill(-child.pid!, 'SIGKILL');
  await new Promise((r) => child!.once('exit', r));
  expect(await copiedNow()).toBeLessThan(total);

  h.stack.cosmos.control.setFaults([]);
  const second = await h.worker({}, taskQueue);
  const report = await second.worker.runUntil(async () => {
    for (let i = 0; i < 1200; i++) {
      const status = await handle.query(statusQuery).catch(() => undefined);
      if (status?.phase === 'catching-up') break;
      await sleep(100);
    }
    await handle.signal(cutoverSignal, { by: 'ops' });
    return handle.result();
  });
  expect(report.status).toBe('completed');
  expect(report.copy?.verification).toMatchObject({ passed: true, sourceTotal: total, targetTotal: total });
  expect(await h.documents(database, container)).toEqual(before);
  expect(await h.documents(database, target)).toEqual(
    before.map((d) => ({ ...d, tenant: `tenant-${String(d.org)}`, schemaVersion: 2 }))
  );
  // The killed backfill was retried (attempt 2, from its heartbeated continuation), not started as a new activity.
  expect(await retried(handle, 'copyRange')).toBe(true);
}, 240_000);

test('a worker killed during a copy’s catch-up: another worker goes on from the feed’s last continuation; after the cutover the target is exactly up() of the source', async () => {
  const { id, database, container, target } = await seedCopy(100, 20);
  const taskQueue = uniqueTaskQueue('kill-copy-sync');
  child = await startWorkerProcess(taskQueue);
  const handle = await h.client.workflow.start(migrationRunbook, {
    taskQueue,
    workflowId: `kill-copy-sync-${randomUUID()}`,
    args: [
      {
        migration: id,
        approval: { required: false },
        monitor: { duration: '1s', interval: '1s' },
        batchSize: 5,
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
  // The application creates 80 accounts in the source; the catch-up is slowed so the kill finds it at work.
  h.stack.cosmos.control.setFaults([{ kinds: ['batch'], latencyMs: 250 }]);
  const live = h.cosmos.database(database).container(container);
  for (let i = 0; i < 80; i++) {
    await live.items.create({
      id: `late-${i}`,
      accountNo: `A-${i % 20}`,
      org: `o${i % 5}`,
      balance: i,
      schemaVersion: 1,
    });
  }
  const copiedNow = async () => (await h.documents(database, target)).filter((d) => d.id.startsWith('late-')).length;
  let atKill = 0;
  for (let i = 0; i < 600 && atKill < 10; i++) {
    atKill = await copiedNow();
    await sleep(100);
  }
  expect(atKill).toBeGreaterThanOrEqual(10);
  process.kill(-child.pid!, 'SIGKILL');
  await new Promise((r) => child!.once('exit', r));
  expect(await copiedNow()).toBeLessThan(80);

  h.stack.cosmos.control.setFaults([]);
  const second = await h.worker({}, taskQueue);
  const report = await second.worker.runUntil(async () => {
    await handle.signal(cutoverSignal, { by: 'ops' });
    return handle.result();
  });
  expect(report.status).toBe('completed');
  const sourceNow = await h.documents(database, container);
  expect(sourceNow).toHaveLength(180);
  expect(await h.documents(database, target)).toEqual(
    sourceNow.map((d) => ({ ...d, tenant: `tenant-${String(d.org)}`, schemaVersion: 2 }))
  );
  // The killed catch-up was retried (attempt 2, from its heartbeated continuation), not started over.
  expect(await retried(handle, 'syncCopyRange')).toBe(true);
}, 240_000);

/**
 * Rollbacks, end to end on the local stack, one per strategy that changes data in place: a failed verification rolls
 * back by point-in-time restore (through the ARM imitation) and the data equals the pre-migration data; a `rollback`
 * signal during monitoring rolls back by `down`, and the data equals the pre-migration data; a rollback whose down()
 * throws on a document waits for the operator (the rollback-failed phase end to end), the document left as the
 * migration made it. (The pre-images revert: surgical.test.ts.) What starts a rollback and what happens when one cannot finish are phase-machine cases, on the
 * fake activities: rollback-decisions.test.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { historyToJSON } from '../support/history-json';
import { migrationRunbook } from '../../workflows';
import { abortSignal, approveSignal, resumeSignal, rollbackSignal } from '../../workflows/messages';
import { Harness, MARKER, customers, saveHistory, splitNameModule, waitForDecision, waitForPhase } from './harness';
import { decodedHistory } from '../support/payloads';

let h: Harness;
beforeAll(async () => {
  h = await Harness.start();
}, 180_000);
afterAll(async () => {
  await h?.close();
});

/** Waits until the run asks for this decision (the rollback child's gates show on the parent's status). */
test('a failed verification rolls back by restore to T0: the data is exactly the pre-migration data', async () => {
  const docs = customers(25);
  const { database, container } = await h.seed(docs);
  const before = await h.documents(database, container);
  const id = `split-${randomUUID().slice(0, 6)}`;
  // No down(): auto rollback is a restore. verify() rejects one document, so verification fails after migrating.
  h.writeMigration(
    `${id}.js`,
    splitNameModule(id, database, { down: false, verify: `if (doc.id === 'c-0007') return 'first name looks wrong';` })
  );
  const log = path.join(h.migrationsDir, `hooks-${id}.log`);
  const w = await h.worker({
    stopApp: { command: `echo stop >> ${log}` },
    startApp: { command: `echo start >> ${log}` },
  });
  await w.worker.runUntil(async () => {
    const handle = await h.client.workflow.start(migrationRunbook, {
      taskQueue: w.taskQueue,
      workflowId: `restore-${randomUUID()}`,
      // No down() and no pre-images: the rollback is an in-place restore.
      args: [
        { migration: id, approval: { required: false }, monitor: { duration: '2s', interval: '1s' }, preimages: false },
      ],
    });
    // The in-place restore asks first, saying how many documents written since T0 it would discard.
    const asked = await waitForDecision(handle, 'approve-restore');
    // And how many deleted since it would bring back (counted from the all-versions-and-deletes feed: none here).
    expect(asked.pendingDecision).toMatchObject({ kind: 'approve-restore', writesSinceT0: 25, deletedSinceT0: 0 });
    expect(asked.pendingDecision && 'reason' in asked.pendingDecision && asked.pendingDecision.reason).toMatch(
      /discarding the 25 document\(s\) written since .*, and bringing back the 0 document\(s\) deleted since/
    );
    // Nothing destructive yet, and the application was not stopped before the consent.
    expect((await h.documents(database, container)).every((d) => d.schemaVersion === 2)).toBe(true);
    expect(fs.existsSync(log)).toBe(false);
    await handle.signal(approveSignal, { by: 'dba' });
    const report = await handle.result();
    expect(report.status).toBe('rolled-back');
    expect(report.counters.migrated).toBe(25);
    expect(report.verification?.ok).toBe(false);
    expect(report.rollback).toMatchObject({
      mode: 'restore',
      ok: true,
      problems: [],
      discardedWrites: 25,
      restoredDeletes: 0,
    });
    expect(report.markdown).toContain('25 document(s) written at or after T0');
    expect(fs.readFileSync(log, 'utf8')).toBe('stop\nstart\n');
    expect(report.reason).toContain('verification failed');
    expect(report.timeline.map((t) => t.phase)).toEqual(
      expect.arrayContaining(['verifying', 'rolling-back', 'rolled-back'])
    );
    expect(await h.documents(database, container)).toEqual(before);

    const history = historyToJSON(await h.client.workflow.getHandle(report.workflowId).fetchHistory());
    expect(decodedHistory(history)).not.toContain(MARKER);
    saveHistory('rollback-restore-proved.json', history);
    const child = historyToJSON(await h.client.workflow.getHandle(`${report.workflowId}/rollback-1`).fetchHistory());
    expect(decodedHistory(child)).not.toContain(MARKER);
    saveHistory('rollback-restore-child.json', child);
    expect(child).toContain('restore');
  });
});

test('the restore consent counts what the application deleted since T0, and the restore brings those documents back', async () => {
  const docs = customers(25);
  const { database, container } = await h.seed(docs);
  const before = await h.documents(database, container);
  const id = `split-del-${randomUUID().slice(0, 6)}`;
  h.writeMigration(
    `${id}.js`,
    splitNameModule(id, database, { down: false, verify: `if (doc.id === 'c-0007') return 'first name looks wrong';` })
  );
  const w = await h.worker({ stopApp: { command: 'true' }, startApp: { command: 'true' } });
  await w.worker.runUntil(async () => {
    const handle = await h.client.workflow.start(migrationRunbook, {
      taskQueue: w.taskQueue,
      workflowId: `restore-del-${randomUUID()}`,
      args: [
        {
          migration: id,
          approval: { required: false },
          monitor: { duration: '2s', interval: '1s' },
          preimages: false,
          // Slow enough that the application's deletes land while the run migrates (after T0).
          ruBudget: 100,
          batchSize: 5,
        },
      ],
    });
    await waitForPhase(handle, 'migrating', 120_000);
    const live = h.cosmos.database(database).container(container);
    await live.item('c-0003', 't0').delete();
    await live.item('c-0011', 't2').delete();
    const asked = await waitForDecision(handle, 'approve-restore', 120_000);
    // 25 documents of T0, 2 deleted since: 23 written since (the migration's), 2 the restore brings back.
    expect(asked.pendingDecision).toMatchObject({ kind: 'approve-restore', writesSinceT0: 23, deletedSinceT0: 2 });
    await handle.signal(approveSignal, { by: 'dba' });
    const report = await handle.result();
    expect(report.status).toBe('rolled-back');
    expect(report.rollback).toMatchObject({ mode: 'restore', ok: true, discardedWrites: 23, restoredDeletes: 2 });
    expect(report.markdown).toContain('2 document(s) deleted since T0 were brought back by the in-place restore');
    // Exactly the data of T0, the two deleted documents included.
    expect(await h.documents(database, container)).toEqual(before);
  });
}, 180_000);

test('a rollback signal during monitoring rolls back by down', async () => {
  const docs = customers(20);
  const { database, container } = await h.seed(docs);
  const before = await h.documents(database, container);
  const id = `split-${randomUUID().slice(0, 6)}`;
  h.writeMigration(`${id}.js`, splitNameModule(id, database));
  const w = await h.worker();
  await w.worker.runUntil(async () => {
    const handle = await h.client.workflow.start(migrationRunbook, {
      taskQueue: w.taskQueue,
      workflowId: `down-${randomUUID()}`,
      args: [{ migration: id, approval: { timeout: '1m' }, monitor: { duration: '1m', interval: '1s' } }],
    });
    await waitForPhase(handle, 'awaiting-approval');
    await handle.signal(approveSignal, { by: 'bob' });
    await waitForPhase(handle, 'monitoring');
    expect((await h.documents(database, container)).every((d) => d.schemaVersion === 2)).toBe(true);
    await handle.signal(rollbackSignal, { reason: 'error rate up' });
    const report = await handle.result();
    expect(report.status).toBe('rolled-back');
    expect(report.rollback).toMatchObject({ mode: 'down', ok: true, reason: 'error rate up' });
    expect(await h.documents(database, container)).toEqual(before);
  });
});

test('a rollback that fails waits for the operator and never reports success', async () => {
  const docs = customers(8);
  const { database, container } = await h.seed(docs);
  const id = `split-${randomUUID().slice(0, 6)}`;
  // down() cannot handle one document: the rollback by down fails on it.
  h.writeMigration(
    `${id}.js`,
    splitNameModule(id, database).replace(
      'down(doc) {',
      `down(doc) {\n    if (doc.id === 'c-0005') throw new Error('cannot rebuild name of c-0005');`
    )
  );
  const w = await h.worker();
  await w.worker.runUntil(async () => {
    const handle = await h.client.workflow.start(migrationRunbook, {
      taskQueue: w.taskQueue,
      workflowId: `rbfail-${randomUUID()}`,
      // No plan sample: the plan's round trip would catch c-0005 and rule down() out before the run.
      args: [
        {
          migration: id,
          approval: { required: false },
          monitor: { duration: '1m', interval: '1s' },
          planSampleSize: 0,
        },
      ],
    });
    await waitForPhase(handle, 'monitoring');
    await handle.signal(rollbackSignal, { reason: 'try it' });
    const failed = await waitForPhase(handle, 'rollback-failed');
    expect(failed.pendingDecision).toMatchObject({ kind: 'operator', signals: ['rollback', 'resume'] });
    expect(failed.lastError).toMatch(
      /^rollback by down failed: .*c-0005: down\(\) threw: cannot rebuild name of c-0005/
    );
    // Retrying fails the same way (a second rollback child), then the operator takes over.
    await handle.signal(rollbackSignal, { reason: 'retry' });
    const second = h.client.workflow.getHandle(`${handle.workflowId}/rollback-2`);
    for (let i = 0; i < 150 && !(await second.describe().catch(() => undefined)); i++) {
      await sleep(200);
    }
    await expect(second.result()).resolves.toMatchObject({ ok: false });
    await waitForPhase(handle, 'rollback-failed');
    await handle.signal(resumeSignal);
    const report = await handle.result();
    expect(report.status).toBe('rollback-failed');
    expect(report.reason).toContain('the operator took over');
    expect(report.rollback?.ok).toBe(false);
    // The document down() could not handle is left as the migration made it, for the operator to see.
    expect((await h.documents(database, container)).find((d) => d.id === 'c-0005')?.schemaVersion).toBe(2);
    await expect(h.client.workflow.getHandle(`${handle.workflowId}/rollback-2`).result()).resolves.toMatchObject({
      ok: false,
    });
  });
});

test('a rollback never deletes a container the migration created while it holds application documents without an approval showing their count: abort keeps it, approve deletes it', async () => {
  for (const answer of ['abort', 'approve'] as const) {
    const database = `created-${randomUUID().slice(0, 6)}`;
    const id = `orders-${randomUUID().slice(0, 6)}`;
    h.writeMigration(
      `${id}.js`,
      `module.exports = { id: ${JSON.stringify(id)}, description: 'a new container', database: ${JSON.stringify(database)},
        container: { name: 'orders', create: { partitionKey: '/tenant' } } };`
    );
    const w = await h.worker();
    await w.worker.runUntil(async () => {
      const handle = await h.client.workflow.start(migrationRunbook, {
        taskQueue: w.taskQueue,
        workflowId: `created-${answer}-${randomUUID()}`,
        args: [{ migration: id, approval: { required: false }, monitor: { duration: '10m', interval: '1s' } }],
      });
      await waitForPhase(handle, 'monitoring', 120_000);
      // The application starts writing into the new container.
      const orders = h.cosmos.database(database).container('orders');
      for (let i = 0; i < 3; i++) await orders.items.create({ id: `o-${i}`, tenant: 't0', note: MARKER });
      await handle.signal(rollbackSignal, { reason: 'back out the release' });
      const asked = await waitForDecision(handle, 'approve-delete-container', 120_000);
      expect(asked.pendingDecision).toMatchObject({ kind: 'approve-delete-container', documents: 3 });
      if (answer === 'abort') await handle.signal(abortSignal, { reason: 'keep the orders' });
      else await handle.signal(approveSignal, { by: 'dba' });
      const report = await handle.result();
      expect(report.status).toBe('rolled-back');
      const left = await h.documents(database, 'orders').catch(() => undefined);
      if (answer === 'abort') {
        expect(report.rollback?.keptContainer).toMatchObject({ documents: 3 });
        expect(report.markdown).toContain('KEPT with its 3 document(s)');
        expect(left?.map((d) => d.id).sort()).toEqual(['o-0', 'o-1', 'o-2']);
      } else {
        expect(report.rollback?.keptContainer).toBeUndefined();
        expect(left ?? []).toEqual([]);
        await expect(orders.read()).rejects.toMatchObject({ code: 404 });
      }
    });
  }
});

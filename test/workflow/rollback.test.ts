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
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '../support/history-json';
import type { RunbookStatus } from '../../common/status';
import { migrationRunbook } from '../../workflows';
import { approveSignal, resumeSignal, rollbackSignal, statusQuery } from '../../workflows/messages';
import { Harness, MARKER, customers, saveHistory, splitNameModule, waitForPhase } from './harness';
import { decodedHistory } from '../support/payloads';

let h: Harness;
beforeAll(async () => {
  h = await Harness.start();
}, 180_000);
afterAll(async () => {
  await h?.close();
});

/** Waits until the run asks for this decision (the rollback child's gates show on the parent's status). */
async function waitForDecision(handle: WorkflowHandle, kind: string, timeoutMs = 60_000): Promise<RunbookStatus> {
  const deadline = Date.now() + timeoutMs;
  let status: RunbookStatus | undefined;
  while (Date.now() < deadline) {
    status = await handle.query(statusQuery).catch(() => undefined);
    if (status?.pendingDecision?.kind === kind) return status;
    if (status && ['rolled-back', 'rollback-failed', 'completed', 'failed'].includes(status.phase)) break;
    await sleep(200);
  }
  throw new Error(`no ${kind} decision asked for (last: ${status?.phase} ${status?.lastError ?? ''})`);
}

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
    expect(asked.pendingDecision).toMatchObject({ kind: 'approve-restore', writesSinceT0: 25 });
    expect(asked.pendingDecision && 'reason' in asked.pendingDecision && asked.pendingDecision.reason).toMatch(
      /discarding the 25 document\(s\) written since/
    );
    // Nothing destructive yet, and the application was not stopped before the consent.
    expect((await h.documents(database, container)).every((d) => d.schemaVersion === 2)).toBe(true);
    expect(fs.existsSync(log)).toBe(false);
    await handle.signal(approveSignal, { by: 'dba' });
    const report = await handle.result();
    expect(report.status).toBe('rolled-back');
    expect(report.counters.migrated).toBe(25);
    expect(report.verification?.ok).toBe(false);
    expect(report.rollback).toMatchObject({ mode: 'restore', ok: true, problems: [], discardedWrites: 25 });
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
    expect(child).toContain('restore');
  });
});

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

/**
 * Every signal means one thing in every phase (docs/runbook.md, "Signals by phase"): a rollback before any write ends
 * the run aborted without stopping the application; a rollback during a dry run is refused; an abort after writes
 * began and a resume of a run that is not paused are refused visibly, in the timeline, and change nothing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { migrationRunbook } from '../../workflows';
import { abortSignal, approveSignal, resumeSignal, rollbackSignal } from '../../workflows/messages';
import { Harness, customers, splitNameModule, waitForPhase } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await Harness.start();
}, 180_000);
afterAll(async () => {
  await h?.close();
});

const fast = { monitor: { duration: '1s', interval: '1s' }, approval: { timeout: '1m' } };

test('a rollback before any write ends the run aborted: nothing written, the application never stopped', async () => {
  const docs = customers(10);
  const { database, container } = await h.seed(docs);
  const id = `split-${randomUUID().slice(0, 6)}`;
  h.writeMigration(`${id}.js`, splitNameModule(id, database));
  const stopped = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'stop-app-')), 'stopped');
  const w = await h.worker({ stopApp: { command: `touch ${stopped}` } });
  await w.worker.runUntil(async () => {
    const handle = await h.client.workflow.start(migrationRunbook, {
      taskQueue: w.taskQueue,
      workflowId: `early-rollback-${randomUUID()}`,
      args: [{ migration: id, ...fast }],
    });
    await waitForPhase(handle, 'awaiting-approval');
    await handle.signal(rollbackSignal, { reason: 'wrong ticket' });
    const report = await handle.result();
    expect(report.status).toBe('aborted');
    expect(report.reason).toContain('wrong ticket');
    expect(report.snapshot).toBeUndefined();
    expect(report.rollback).toBeUndefined();
    expect(fs.existsSync(stopped)).toBe(false);
    expect(await h.documents(database, container)).toEqual(docs);
  });
});

test('a rollback during a dry run is refused: the dry run ends as one, no rollback child runs', async () => {
  const docs = customers(10);
  const { database, container } = await h.seed(docs);
  const id = `split-${randomUUID().slice(0, 6)}`;
  h.writeMigration(`${id}.js`, splitNameModule(id, database));
  const w = await h.worker();
  await w.worker.runUntil(async () => {
    const handle = await h.client.workflow.start(migrationRunbook, {
      taskQueue: w.taskQueue,
      workflowId: `dry-rollback-${randomUUID()}`,
      args: [{ migration: id, ...fast, dryRun: true }],
    });
    await waitForPhase(handle, 'awaiting-approval');
    await handle.signal(rollbackSignal, { reason: 'oops' });
    await handle.signal(approveSignal, { by: 'alice' });
    const report = await handle.result();
    expect(report.status).toBe('dry-run');
    expect(report.rollback).toBeUndefined();
    expect(report.timeline.map((t) => t.note)).toContain('rollback (oops) refused: a dry run writes nothing');
    await expect(h.client.workflow.getHandle(`${handle.workflowId}/rollback-1`).describe()).rejects.toThrow();
    expect(await h.documents(database, container)).toEqual(docs);
  });
});

test('abort after writes began and resume while not paused are refused in the timeline; the run completes', async () => {
  const docs = customers(60);
  const { database, container } = await h.seed(docs);
  const id = `split-${randomUUID().slice(0, 6)}`;
  // Slow enough to be caught migrating: 60 documents, one page of 5 per activity, 30 ms each.
  h.writeMigration(
    `${id}.js`,
    splitNameModule(id, database, { upExtra: 'const t = Date.now(); while (Date.now() - t < 30) {}' })
  );
  const w = await h.worker();
  await w.worker.runUntil(async () => {
    const handle = await h.client.workflow.start(migrationRunbook, {
      taskQueue: w.taskQueue,
      workflowId: `late-abort-${randomUUID()}`,
      args: [
        { migration: id, ...fast, approval: { required: false }, batchSize: 5, tuning: { maxPagesPerActivity: 1 } },
      ],
    });
    await waitForPhase(handle, 'migrating');
    await handle.signal(abortSignal, { reason: 'too late' });
    await handle.signal(resumeSignal);
    const report = await handle.result();
    expect(report.status).toBe('completed');
    const notes = report.timeline.map((t) => t.note ?? '');
    expect(notes).toContainEqual(expect.stringMatching(/^abort \(too late\) refused in phase (migrating|verifying)/));
    expect(notes).toContainEqual(expect.stringMatching(/^resume ignored in phase \w+: the run is not paused$/));
    expect((await h.documents(database, container)).every((d) => d.schemaVersion === 2)).toBe(true);
  });
});

/**
 * Version skew: the module's checksum travels in every activity input that runs its code, and a worker whose copy
 * differs from the one the run loaded and approved refuses to run it (MigrationChanged, non-retryable): the run pauses
 * at once with both checksums, and no document changes.
 */
import { randomUUID } from 'node:crypto';
import { migrationRunbook } from '../../workflows';
import { approveSignal } from '../../workflows/messages';
import { Harness, customers, splitNameModule, waitForPhase } from './harness';
import { recordFigure } from '../support/figures';

let h: Harness;
beforeAll(async () => {
  h = await Harness.start();
}, 180_000);
afterAll(async () => {
  await h?.close();
});

test('a worker whose module differs from the approved one refuses to migrate with it, and nothing is written', async () => {
  const docs = customers(10);
  const { database, container } = await h.seed(docs);
  const id = `split-${randomUUID().slice(0, 6)}`;
  h.writeMigration(`${id}.js`, splitNameModule(id, database));
  const first = await h.worker();
  const handle = await first.worker.runUntil(async () => {
    const started = await h.client.workflow.start(migrationRunbook, {
      taskQueue: first.taskQueue,
      workflowId: `skew-${randomUUID()}`,
      args: [{ migration: id, approval: { timeout: '10m' }, monitor: { duration: '1s', interval: '1s' } }],
    });
    await waitForPhase(started, 'awaiting-approval');
    return started;
  });
  // Another worker on the same task queue, deployed with a different copy of the module.
  h.writeMigration(`${id}.js`, splitNameModule(id, database, { upExtra: 'doc.changedByDeploy = true;' }));
  const second = await h.worker({}, first.taskQueue);
  await second.worker.runUntil(async () => {
    await handle.signal(approveSignal, { by: 'alice' });
    // The run pauses at once with the reason, the lease kept; nothing was written.
    const paused = await waitForPhase(handle, 'paused', 120_000);
    expect(paused.lastError).toMatch(
      new RegExp(
        `migration ${id} \\(checksum [0-9a-f]{12}, ${id}\\.js\\) is not the one the run approved \\(checksum [0-9a-f]{12}\\)`
      )
    );
    expect(paused.pendingDecision).toMatchObject({ kind: 'resume-or-rollback' });
    const after = await h.documents(database, container);
    expect(after).toEqual(docs);
    const changed = after.filter((d, i) => JSON.stringify(d) !== JSON.stringify(docs[i])).length;
    recordFigure('version-skew: a worker with another module version refuses it', 'refused', 'refused', true);
    recordFigure('version-skew: documents changed by that worker', changed, '0', changed === 0);
    await handle.terminate('test over');
  });
});

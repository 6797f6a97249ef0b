/**
 * Live controls (gh-ost style): setBudget, setConcurrency, pause and resume as Temporal Updates on a running migration,
 * validated (a bad one is rejected with a message and changes nothing), answering the new state once it is in force,
 * and taking effect within a page: the ranges in flight restart with the new budget. Nothing is migrated twice, nothing is miscounted.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '../support/history-json';
import { migrationRunbook } from '../../workflows';
import { pauseUpdate, resumeUpdate, setBudgetUpdate, setConcurrencyUpdate } from '../../workflows/messages';
import { Harness, customers, saveHistory, scheduledInputs, waitForPhase } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await Harness.start();
}, 180_000);
afterAll(async () => {
  await h?.close();
});

/** Counts its own applications (a document migrated twice would show 2), slowly enough to be caught migrating. */
function countingModule(id: string, database: string): string {
  return `module.exports = {
  id: ${JSON.stringify(id)}, description: 'count', database: ${JSON.stringify(database)}, container: 'customers',
  fromVersion: 1, toVersion: 2,
  up(doc) { const t = Date.now(); while (Date.now() - t < 30) {} return { ...doc, applied: (doc.applied ?? 0) + 1, schemaVersion: 2 }; },
  down(doc) { const out = { ...doc }; delete out.applied; delete out.schemaVersion; return out; },
};
`;
}

/** The ruBudget input (null: none) of every migrateRange activity scheduled and not yet closed. */
async function openRangeBudgets(handle: WorkflowHandle): Promise<(number | null)[]> {
  const history = await handle.fetchHistory();
  const open = new Map(
    scheduledInputs<{ ruBudget?: number }>(history, 'migrateRange').map((s) => [s.eventId, s.input.ruBudget ?? null])
  );
  for (const e of history.events ?? []) {
    const closed =
      e.activityTaskCompletedEventAttributes ??
      e.activityTaskFailedEventAttributes ??
      e.activityTaskCanceledEventAttributes ??
      e.activityTaskTimedOutEventAttributes;
    if (closed?.scheduledEventId != null) open.delete(String(closed.scheduledEventId));
  }
  return [...open.values()];
}

test('setBudget, setConcurrency, pause and resume change a running migration, validated, within a page', async () => {
  const docs = customers(600);
  const { database, container } = await h.seed(docs);
  const id = `live-${randomUUID().slice(0, 6)}`;
  h.writeMigration(`${id}.js`, countingModule(id, database));
  const w = await h.worker();
  await w.worker.runUntil(async () => {
    const handle = await h.client.workflow.start(migrationRunbook, {
      taskQueue: w.taskQueue,
      workflowId: `live-${randomUUID()}`,
      args: [
        {
          migration: id,
          approval: { required: false },
          monitor: { duration: '1s', interval: '1s' },
          batchSize: 10,
          tuning: { maxPagesPerActivity: 1000 },
        },
      ],
    });
    await waitForPhase(handle, 'migrating');

    const pausing = await handle.executeUpdate(pauseUpdate, { args: [{ reason: 'peak traffic' }] });
    expect(pausing).toMatchObject({ paused: true });
    const paused = await waitForPhase(handle, 'paused');
    expect(paused.lastError).toBe('paused by the operator: peak traffic');
    expect(paused.pendingDecision).toMatchObject({ kind: 'resume-or-rollback' });

    const resumed = await handle.executeUpdate(resumeUpdate);
    expect(resumed).toMatchObject({ paused: false });
    await waitForPhase(handle, 'migrating');
    const budget = await handle.executeUpdate(setBudgetUpdate, { args: [{ ruPerSecond: 5000 }] });
    expect(budget).toMatchObject({ ruBudget: 5000, concurrency: 4, paused: false, phase: 'migrating', inForce: true });
    // In force when answered: no migrateRange started under the old budget (none) is still open.
    expect(await openRangeBudgets(handle)).not.toContain(null);
    const concurrency = await handle.executeUpdate(setConcurrencyUpdate, { args: [{ concurrency: 2 }] });
    expect(concurrency).toMatchObject({ ruBudget: 5000, concurrency: 2, inForce: true });

    // Validated: rejected with a message, nothing changed.
    await expect(handle.executeUpdate(setConcurrencyUpdate, { args: [{ concurrency: 0 }] })).rejects.toThrow(
      WorkflowUpdateFailedError
    );
    const rejected = await handle
      .executeUpdate(setBudgetUpdate, { args: [{ ruPerSecond: -1 }] })
      .catch((e: unknown) => e);
    expect(((rejected as WorkflowUpdateFailedError).cause as Error).message).toBe(
      'setBudget: ruPerSecond must be a positive number of RU/s, or null for no cap'
    );
    const notPaused = await handle.executeUpdate(resumeUpdate).catch((e: unknown) => e);
    expect(((notPaused as WorkflowUpdateFailedError).cause as Error).message).toMatch(/^resume: the run is not paused/);

    const report = await handle.result();
    expect(report.status).toBe('completed');
    // Interrupted twice and paused once: every document counted once, migrated once.
    expect(report.counters.migrated).toBe(600);
    const after = await h.documents(database, container);
    expect(after.map((d) => d.applied)).toEqual(docs.map(() => 1));

    // The ranges restarted with the new budget: migrateRange inputs after the update carry it.
    const budgets = scheduledInputs<{ ruBudget?: number }>(await handle.fetchHistory(), 'migrateRange').map(
      (s) => s.input.ruBudget
    );
    expect(budgets[0]).toBeUndefined();
    expect(budgets.at(-1)).toBe(5000);
    // Updates answered once in force (the controls-answer-in-force patch), for the replay test.
    saveHistory('live-controls.json', historyToJSON(await handle.fetchHistory()));
  });
});

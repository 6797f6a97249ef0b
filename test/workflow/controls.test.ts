/**
 * Live controls (gh-ost style): setBudget, setConcurrency, pause and resume as Temporal Updates on a running migration,
 * validated (a bad one is rejected with a message and changes nothing), answering the new state once it is in force,
 * and taking effect within a page: the ranges in flight restart with the new budget. Nothing is migrated twice, nothing is miscounted.
 * Phase-machine cases: on the fake activities (test/support/fake-activities); the budget's effect on the RU Cosmos
 * charges is test/engine/ru-budget.test.ts.
 */
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '../support/history-json';
import { pauseUpdate, resumeUpdate, setBudgetUpdate, setConcurrencyUpdate } from '../../workflows/messages';
import { FakeRunbook } from '../support/fake-runbook';
import { saveHistory, scheduledInputs, waitForPhase } from './harness';

let f: FakeRunbook;
beforeAll(async () => {
  f = await FakeRunbook.start();
});
afterAll(async () => {
  await f?.close();
});

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
  await f.with({ documents: 600, ranges: 1 }, async (kit) => {
    // Held between pages until every control is in (the run is caught migrating, whatever the machine's load), with
    // a few pages let through before each interrupt: the attempt it cancels has written pages that must be counted.
    kit.ranges.hold();
    const handle = await f.start(kit, {
      approval: { required: false },
      monitor: { duration: '1s', interval: '1s' },
      batchSize: 10,
      tuning: { maxPagesPerActivity: 1000 },
    });
    await waitForPhase(handle, 'migrating');
    kit.ranges.allow(3);
    await kit.ranges.writtenAtLeast(3);

    const pausing = await handle.executeUpdate(pauseUpdate, { args: [{ reason: 'peak traffic' }] });
    expect(pausing).toMatchObject({ paused: true });
    const paused = await waitForPhase(handle, 'paused');
    expect(paused.lastError).toBe('paused by the operator: peak traffic');
    expect(paused.pendingDecision).toMatchObject({ kind: 'resume-or-rollback' });

    const resumed = await handle.executeUpdate(resumeUpdate);
    expect(resumed).toMatchObject({ paused: false });
    await waitForPhase(handle, 'migrating');
    kit.ranges.allow(3);
    await kit.ranges.writtenAtLeast(6);
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

    kit.ranges.release();
    const report = await handle.result();
    expect(report.status).toBe('completed');
    // Interrupted twice and paused once: every document counted once, migrated once.
    expect(report.counters.migrated).toBe(600);
    expect(kit.container.documents.map((d) => d.ups)).toEqual(kit.container.documents.map(() => 1));

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

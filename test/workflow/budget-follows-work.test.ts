/**
 * The RU budget over feed ranges that do not hold the same amount of data (workflows/budget-share.ts), end to end:
 * priority-based execution switched off through ARM, read by preflight, and no range gets more than budget ÷ P.
 * With it on, the part of a range that is done goes to the range still running, which restarts with it: a decision
 * of the migrating loop alone, on the fake activities in range-loop.test.ts.
 */
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { migrationRunbook } from '../../workflows';
import { Harness, customers, scheduledInputs, splitNameModule } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await Harness.start();
}, 180_000);
afterAll(async () => {
  await h?.close();
});

const BUDGET = 2_000;

/** The ruBudget of every migrateRange the run scheduled. */
async function rangeBudgets(handle: WorkflowHandle): Promise<number[]> {
  return scheduledInputs<{ ruBudget: number }>(await handle.fetchHistory(), 'migrateRange').map(
    (s) => s.input.ruBudget
  );
}

/** A run over 2 physical partitions; the tenants hash unevenly, so one range is done before the other. */
async function migrateOverTwoRanges(): Promise<{ budgets: number[]; notes: string[] }> {
  // Most documents in one tenant: whichever partition holds it has the most work.
  const { database, container } = await h.seed(customers(240, (i) => ({ tenant: i % 8 === 0 ? 'small' : 'big' })));
  await h.stack.cosmos.control.setPartitionCount(database, container, 2);
  const id = `share-${randomUUID().slice(0, 6)}`;
  // 20 ms per document: the big range is still migrating when the small one is done.
  h.writeMigration(
    `${id}.js`,
    splitNameModule(id, database, { upExtra: 'const t = Date.now(); while (Date.now() - t < 20) {}' })
  );
  const w = await h.worker();
  return w.worker.runUntil(async () => {
    const handle = await h.client.workflow.start(migrationRunbook, {
      taskQueue: w.taskQueue,
      workflowId: `share-${randomUUID()}`,
      args: [
        {
          migration: id,
          approval: { required: false },
          monitor: { duration: '1s', interval: '1s' },
          batchSize: 10,
          ruBudget: BUDGET,
          // One activity per range for the whole run: a larger part can only come from the restart under test.
          tuning: { maxPagesPerActivity: 1000 },
        },
      ],
    });
    const report = await handle.result();
    expect(report.status).toBe('completed');
    expect(report.counters.migrated).toBe(240);
    return { budgets: await rangeBudgets(handle), notes: report.timeline.map((t) => t.note ?? '') };
  });
}

test('without it, no range gets more than budget ÷ partitions', async () => {
  const { resourceGroup, account } = h.stack.settings;
  await h.arm.databaseAccounts.beginUpdateAndWait(
    resourceGroup,
    account,
    { enablePriorityBasedExecution: false },
    { updateIntervalInMs: 50 }
  );
  try {
    const { budgets, notes } = await migrateOverTwoRanges();
    expect(Math.max(...budgets)).toBe(BUDGET / 2);
    expect(notes.filter((n) => n.startsWith('a feed range is done'))).toEqual([]);
  } finally {
    await h.arm.databaseAccounts.beginUpdateAndWait(
      resourceGroup,
      account,
      { enablePriorityBasedExecution: true },
      { updateIntervalInMs: 50 }
    );
  }
}, 180_000);

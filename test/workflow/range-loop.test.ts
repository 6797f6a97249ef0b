/**
 * The migrating loop (workflows/ranges.ts, workflows/phases/migrate.ts) at its edges, on the fake activities
 * (test/support/fake-activities), where each edge can be scripted to the page: a range that splits mid-scan is replaced
 * by its children; a range that merges is replaced by its union with its neighbour, from its start; a transient
 * failure is retried from the last heartbeated page; a non-retryable one pauses the run until resumed; every RU the
 * container charged is in the report; with priority-based execution the RU budget follows the range still running.
 * Each document is migrated exactly once in every case. The same splits on the emulator, with an application
 * writing: partitions.test.ts; the budget without priority-based execution, read through ARM:
 * budget-follows-work.test.ts.
 */
import { resumeSignal } from '../../workflows/messages';
import { historyToJSON } from '../support/history-json';
import { ErrorType } from '../../common/errors';
import { FakeRunbook } from '../support/fake-runbook';
import type { FakeKit } from '../support/fake-activities';
import { saveHistory, scheduledInputs, waitForPhase } from './harness';

/** Each case has its own worker, task queue and fake activities: they run side by side (jest's test.concurrent). */
const test = it.concurrent;
let f: FakeRunbook;
beforeAll(async () => {
  f = await FakeRunbook.start();
});
afterAll(async () => {
  await f?.close();
});

const fast = {
  approval: { required: false },
  monitor: { duration: '1s', interval: '1s' },
  batchSize: 5,
  tuning: { retryInitialInterval: '100ms' },
};

const migratedOnce = (kit: FakeKit) => kit.container.documents.every((d) => d.version === 2 && d.ups === 1);

test('a range that splits mid-scan is replaced by its children: every document migrated once, counted once', async () => {
  await f.with(
    { documents: 80, ranges: 2, faults: { 0: [{ kind: 'split', afterPages: 3, into: 3 }] } },
    async (kit) => {
      const report = await (await f.start(kit, fast)).result();
      expect(report.status).toBe('completed');
      expect(report.timeline.map((t) => t.note)).toContain('a feed range split into 3: they go on from their start');
      expect(kit.container.feedRanges()).toHaveLength(4);
      // The children were migrated, each from its start.
      const ranges = new Set(kit.calls.of('migrateRange').map((c) => c.feedRange));
      for (const child of kit.container.feedRanges()) expect(ranges).toContain(child);
      expect(report.counters).toMatchObject({ scanned: 80, migrated: 80, failed: 0 });
      expect(migratedOnce(kit)).toBe(true);
    }
  );
});

test('a range that merges is replaced by the merged range (its union with its neighbour), which goes on from its start: every document migrated once', async () => {
  await f.with({ documents: 60, ranges: 3, faults: { 1: [{ kind: 'merge', afterPages: 2 }] } }, async (kit) => {
    const report = await (await f.start(kit, fast)).result();
    expect(report.status).toBe('completed');
    expect(report.timeline.map((t) => t.note)).toContain('feed ranges merged: the merged range goes on from its start');
    expect(kit.container.feedRanges()).toHaveLength(2);
    // The merged range was migrated.
    const ranges = new Set(kit.calls.of('migrateRange').map((c) => c.feedRange));
    for (const range of kit.container.feedRanges()) expect(ranges).toContain(range);
    expect(report.counters).toMatchObject({ migrated: 60, failed: 0 });
    expect(migratedOnce(kit)).toBe(true);
  });
});

test('a transient failure is retried from the last heartbeated page: nothing migrated twice, nothing missed', async () => {
  const script = { documents: 40, ranges: 1, faults: { 0: [{ kind: 'transient' as const, afterPages: 3, times: 2 }] } };
  await f.with(script, async (kit) => {
    const report = await (await f.start(kit, fast)).result();
    expect(report.status).toBe('completed');
    // One activity, three attempts (two failed), one workflow-visible result.
    expect(kit.calls.count('migrateRange')).toBe(3);
    expect(report.counters).toMatchObject({ scanned: 40, migrated: 40, failed: 0 });
    expect(migratedOnce(kit)).toBe(true);
  });
});

test('a non-retryable failure pauses the run; resume goes on from the checkpoint and completes', async () => {
  const fault = {
    kind: 'non-retryable' as const,
    afterPages: 2,
    type: ErrorType.MigrationChanged,
    message: 'module changed',
  };
  await f.with({ documents: 30, ranges: 1, faults: { 0: [fault] } }, async (kit) => {
    const handle = await f.start(kit, { ...fast, tuning: { ...fast.tuning, maxPagesPerActivity: 1 } });
    const paused = await waitForPhase(handle, 'paused');
    expect(paused.lastError).toMatch(/^migrating failed: .*module changed/);
    expect(paused.pendingDecision).toMatchObject({ kind: 'resume-or-rollback' });
    // Two pages checkpointed before the failure: the resumed range starts after them.
    expect(paused.counters.migrated).toBe(10);
    await handle.signal(resumeSignal);
    const report = await handle.result();
    expect(report.status).toBe('completed');
    expect(report.counters).toMatchObject({ scanned: 30, migrated: 30 });
    expect(migratedOnce(kit)).toBe(true);
  });
});

test('every RU the container charged is in the report, across ranges, splits and retries', async () => {
  const faults = { 0: [{ kind: 'split' as const, afterPages: 1 }], 1: [{ kind: 'transient' as const, afterPages: 2 }] };
  await f.with({ documents: 50, ranges: 2, ruPerWrite: 7, faults }, async (kit) => {
    const report = await (await f.start(kit, fast)).result();
    expect(report.status).toBe('completed');
    expect(kit.ru.charged).toBeGreaterThan(50 * 7);
    expect(report.counters.ruConsumed).toBe(kit.ru.charged);
    expect(migratedOnce(kit)).toBe(true);
  });
});

test('with priority-based execution, the range left takes the whole budget: it restarts with it', async () => {
  const BUDGET = 2_000;
  // One range holds most of the data: it is still migrating when the other is done.
  const script = { documentsPerRange: [10, 1000], pageMs: 20, backup: { priorityBasedExecution: true } };
  await f.with(script, async (kit) => {
    const handle = await f.start(kit, {
      ...fast,
      batchSize: 10,
      ruBudget: BUDGET,
      // One activity per range for the whole run: a larger part can only come from the restart under test.
      tuning: { maxPagesPerActivity: 1000 },
    });
    const report = await handle.result();
    expect(report.status).toBe('completed');
    expect(report.counters.migrated).toBe(1010);
    const history = await handle.fetchHistory();
    const budgets = scheduledInputs<{ ruBudget: number }>(history, 'migrateRange').map((s) => s.input.ruBudget);
    expect(budgets.slice(0, 2)).toEqual([BUDGET / 2, BUDGET / 2]);
    expect(budgets).toContain(BUDGET);
    expect(report.timeline.map((t) => t.note)).toContain(
      'a feed range is done: the RU budget goes to the 1 range(s) left'
    );
    expect(migratedOnce(kit)).toBe(true);
    saveHistory('budget-follows-work.json', historyToJSON(history));
  });
});

/**
 * Progress that survives: a run continues as new (many times) while migrating and still migrates every document
 * exactly once, handing its lease to the next run. Phase-machine cases: on the fake activities
 * (test/support/fake-activities). The pause at maxFailures end to end: gates.test.ts; a pause outlasting many runs:
 * long-waits.test.ts.
 */
import { FakeRunbook } from '../support/fake-runbook';

let f: FakeRunbook;
beforeAll(async () => {
  f = await FakeRunbook.start();
});
afterAll(async () => {
  await f?.close();
});

const fast = { approval: { required: false }, monitor: { duration: '1s', interval: '1s' } };

test('a run that continues as new while migrating completes with every document migrated once', async () => {
  await f.with({ documents: 60 }, async (kit) => {
    const handle = await f.start(kit, {
      ...fast,
      batchSize: 5,
      concurrency: 1,
      tuning: { maxPagesPerActivity: 1, continueAsNewAfterActivities: 3 },
    });
    const firstRunId = handle.firstExecutionRunId;
    const report = await handle.result();
    expect(report.status).toBe('completed');
    expect(report.counters.migrated).toBe(60);
    const generations = report.timeline.filter((t) => t.note?.startsWith('continued as new')).length;
    expect(generations).toBeGreaterThanOrEqual(3);
    expect(kit.container.documents.map((d) => d.ups)).toEqual(kit.container.documents.map(() => 1));

    const { events } = await f.client.workflow.getHandle(handle.workflowId, firstRunId).fetchHistory();
    expect(events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes).toBeTruthy();
    // The lease goes on to the next run: releasing it first would let another run take the container meanwhile.
    const activityTypes = (events ?? []).flatMap(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []
    );
    expect(activityTypes).not.toContain('releaseLease');
    const description = await handle.describe();
    expect(description.runId).not.toBe(firstRunId);
  });
});

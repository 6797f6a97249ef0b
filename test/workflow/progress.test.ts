/**
 * Progress that survives: a run pauses when too many documents fail and resumes from its saved continuations; a run
 * continues as new (many times) while migrating and still migrates every document exactly once.
 * Phase-machine cases: on the fake activities (test/support/fake-activities); how migrateRange counts and reports a
 * failed document on Cosmos is test/engine/migrate-range.test.ts.
 */
import { resumeSignal } from '../../workflows/messages';
import { FakeRunbook } from '../support/fake-runbook';
import { waitForPhase } from './harness';

let f: FakeRunbook;
beforeAll(async () => {
  f = await FakeRunbook.start();
});
afterAll(async () => {
  await f?.close();
});

const fast = { approval: { required: false }, monitor: { duration: '1s', interval: '1s' } };

test('too many failed documents pause the run; resume goes on from the saved continuations and completes', async () => {
  await f.with({ documents: 30, failing: ['d-0013'] }, async (kit) => {
    const handle = await f.start(kit, { ...fast, maxFailures: 0, batchSize: 10 });
    const paused = await waitForPhase(handle, 'paused');
    expect(paused.pendingDecision).toMatchObject({ kind: 'resume-or-rollback', signals: ['resume', 'rollback'] });
    expect(paused.counters.failed).toBe(1);
    expect(paused.lastError).toContain('more than maxFailures (0)');
    expect(paused.lastError).toContain('d-0013: up() threw: scripted failure of d-0013');

    await handle.signal(resumeSignal);
    const report = await handle.result();
    expect(report.status).toBe('completed');
    expect(report.counters).toMatchObject({ migrated: 29, failed: 1 });
    expect(report.timeline.map((t) => t.phase)).toEqual(expect.arrayContaining(['paused', 'migrating', 'completed']));
    const { documents } = kit.container;
    expect(documents.filter((d) => d.version === 2 && d.ups === 1)).toHaveLength(29);
    // The document that failed is left exactly as it was.
    expect(documents.find((d) => d.id === 'd-0013')).toMatchObject({ version: 1, ups: 0, downs: 0 });
  });
});

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

/**
 * Progress that survives: a run pauses when too many documents fail and resumes from its saved continuations; a run
 * continues as new (many times) while migrating and still migrates every document exactly once.
 */
import { randomUUID } from 'node:crypto';
import { migrationRunbook } from '../../workflows';
import { resumeSignal } from '../../workflows/messages';
import { Harness, customers, splitNameModule, waitForPhase } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await Harness.start();
}, 180_000);
afterAll(async () => {
  await h?.close();
});

const fast = { approval: { required: false }, monitor: { duration: '1s', interval: '1s' } };

test('too many failed documents pause the run; resume goes on from the saved continuations and completes', async () => {
  const docs = customers(30);
  const { database, container } = await h.seed(docs);
  const id = `split-${randomUUID().slice(0, 6)}`;
  h.writeMigration(
    `${id}.js`,
    splitNameModule(id, database, {
      upExtra: `if (doc.id === 'c-0013') throw new Error('cannot parse name of c-0013');`,
    })
  );
  const w = await h.worker();
  await w.worker.runUntil(async () => {
    const handle = await h.client.workflow.start(migrationRunbook, {
      taskQueue: w.taskQueue,
      workflowId: `pause-${randomUUID()}`,
      args: [{ migration: id, ...fast, maxFailures: 0, batchSize: 10 }],
    });
    const paused = await waitForPhase(handle, 'paused');
    expect(paused.pendingDecision).toMatchObject({ kind: 'resume-or-rollback', signals: ['resume', 'rollback'] });
    expect(paused.counters.failed).toBe(1);
    expect(paused.lastError).toContain('more than maxFailures (0)');
    expect(paused.lastError).toContain('c-0013: up() threw: cannot parse name of c-0013');

    await handle.signal(resumeSignal);
    const report = await handle.result();
    expect(report.status).toBe('completed');
    // The documents are the truth (the counters of a failed migrateRange can miss pages that were in flight).
    expect(report.counters.failed).toBe(1);
    expect(report.timeline.map((t) => t.phase)).toEqual(expect.arrayContaining(['paused', 'migrating', 'completed']));
    const after = await h.documents(database, container);
    expect(after.filter((d) => d.schemaVersion === 2)).toHaveLength(29);
    // The document that failed is left exactly as it was.
    expect(after.find((d) => d.id === 'c-0013')).toEqual(docs.find((d) => d.id === 'c-0013'));
  });
});

test('a run that continues as new while migrating completes with every document migrated once', async () => {
  const docs = customers(60);
  const { database, container } = await h.seed(docs);
  const id = `count-${randomUUID().slice(0, 6)}`;
  // Counts its own applications: a document migrated twice would show 2.
  h.writeMigration(
    `${id}.js`,
    `module.exports = {
  id: ${JSON.stringify(id)}, description: 'count', database: ${JSON.stringify(database)}, container: 'customers',
  fromVersion: 1, toVersion: 2,
  up(doc) { return { ...doc, applied: (doc.applied ?? 0) + 1, schemaVersion: 2 }; },
  down(doc) { const out = { ...doc }; delete out.applied; delete out.schemaVersion; return out; },
};
`
  );
  const w = await h.worker();
  await w.worker.runUntil(async () => {
    const handle = await h.client.workflow.start(migrationRunbook, {
      taskQueue: w.taskQueue,
      workflowId: `can-${randomUUID()}`,
      args: [
        {
          migration: id,
          ...fast,
          batchSize: 5,
          concurrency: 1,
          tuning: { maxPagesPerActivity: 1, continueAsNewAfterActivities: 3 },
        },
      ],
    });
    const firstRunId = handle.firstExecutionRunId;
    const report = await handle.result();
    expect(report.status).toBe('completed');
    expect(report.counters.migrated).toBe(60);
    const generations = report.timeline.filter((t) => t.note?.startsWith('continued as new')).length;
    expect(generations).toBeGreaterThanOrEqual(3);
    const after = await h.documents(database, container);
    expect(after.map((d) => d.applied)).toEqual(docs.map(() => 1));

    const { events } = await h.client.workflow.getHandle(handle.workflowId, firstRunId).fetchHistory();
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

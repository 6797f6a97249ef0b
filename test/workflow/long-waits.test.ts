/**
 * Long waits: a run awaiting approval or paused for days keeps each run's history bounded (it continues as new while
 * it waits, the lease renewed all along) and resumes correctly. Days are simulated by a 1 s lease renewal and a low
 * continue-as-new threshold, not by sleeping.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { RunbookStatus } from '../../common/status';
import { migrationRunbook } from '../../workflows';
import { approveSignal, resumeSignal, statusQuery } from '../../workflows/messages';
import { Harness, customers, splitNameModule, waitForPhase } from './harness';
import { recordFigure } from '../support/figures';

let h: Harness;
beforeAll(async () => {
  h = await Harness.start();
}, 180_000);
afterAll(async () => {
  await h?.close();
});

const LIMIT = 100;
/**
 * What a run may add past LIMIT before it continues as new: the lease renewal in progress (~10 events), the
 * continue-as-new itself, and on a loaded machine workflow tasks that timed out and ran again (chaos saw 134 once with
 * a slack of 30). A history that is not bounded passes LIMIT + SLACK within seconds at one renewal a second.
 */
const SLACK = 60;
const longWait = { leaseRenewSeconds: 1, continueAsNewAfterEvents: LIMIT };

/** The longest history of one run seen while waiting (a figure of `npm run chaos`). */
let longestHistory = 0;

/** Waits until the run has continued as new `generations` times, checking each run's history stays bounded. */
async function waitForGenerations(handle: WorkflowHandle, generations: number): Promise<RunbookStatus> {
  for (let i = 0; i < 600; i++) {
    const status = await handle.query(statusQuery).catch(() => undefined);
    const { historyLength } = await handle.describe();
    longestHistory = Math.max(longestHistory, historyLength);
    expect(historyLength).toBeLessThan(LIMIT + SLACK);
    if (status && status.generation >= generations) return status;
    await sleep(250);
  }
  throw new Error(`the run did not continue as new ${generations} times`);
}

test('awaiting approval for "days": history bounded by continue-as-new, same deadline, then approved and completed', async () => {
  const docs = customers(20);
  const { database, container } = await h.seed(docs);
  const id = `split-${randomUUID().slice(0, 6)}`;
  h.writeMigration(`${id}.js`, splitNameModule(id, database));
  const w = await h.worker();
  await w.worker.runUntil(async () => {
    const handle = await h.client.workflow.start(migrationRunbook, {
      taskQueue: w.taskQueue,
      workflowId: `long-approval-${randomUUID()}`,
      args: [
        {
          migration: id,
          approval: { timeout: '7d' },
          monitor: { duration: '1s', interval: '1s' },
          tuning: longWait,
        },
      ],
    });
    const first = await waitForPhase(handle, 'awaiting-approval');
    const later = await waitForGenerations(handle, 2);
    expect(later.phase).toBe('awaiting-approval');
    expect(later.pendingDecision).toEqual(first.pendingDecision);
    expect(await h.documents(database, container)).toEqual(docs);
    await handle.signal(approveSignal, { by: 'alice' });
    const report = await handle.result();
    expect(report.status).toBe('completed');
    expect(report.approvedBy).toBe('alice');
    expect(report.counters.migrated).toBe(20);
    const continued = report.timeline.filter((t) => t.note?.startsWith('continued as new')).length;
    expect(continued).toBeGreaterThanOrEqual(2);
    expect((await h.documents(database, container)).every((d) => d.schemaVersion === 2)).toBe(true);
    recordFigure('long-waits: awaiting approval, continue-as-new while waiting', continued, '≥ 2', continued >= 2);
    recordFigure(
      'long-waits: awaiting approval, then approved',
      report.status,
      'completed',
      report.status === 'completed'
    );
  });
});

test('paused for "days": history bounded, then resumed from where it stopped', async () => {
  const docs = customers(20);
  const { database, container } = await h.seed(docs);
  const id = `split-${randomUUID().slice(0, 6)}`;
  h.writeMigration(
    `${id}.js`,
    splitNameModule(id, database, { upExtra: `if (doc.id === 'c-0007') throw new Error('bad row');` })
  );
  const w = await h.worker();
  await w.worker.runUntil(async () => {
    const handle = await h.client.workflow.start(migrationRunbook, {
      taskQueue: w.taskQueue,
      workflowId: `long-pause-${randomUUID()}`,
      args: [
        {
          migration: id,
          approval: { required: false },
          monitor: { duration: '1s', interval: '1s' },
          tuning: longWait,
        },
      ],
    });
    const paused = await waitForPhase(handle, 'paused');
    expect(paused.lastError).toContain('c-0007');
    const later = await waitForGenerations(handle, paused.generation + 2);
    expect(later.phase).toBe('paused');
    expect(later.pendingDecision).toMatchObject({ kind: 'resume-or-rollback' });
    await handle.signal(resumeSignal);
    const report = await handle.result();
    expect(report.status).toBe('completed');
    expect(report.counters).toMatchObject({ migrated: 19, failed: 1 });
    const after = await h.documents(database, container);
    expect(after.filter((d) => d.schemaVersion === 2)).toHaveLength(19);
    expect(after.find((d) => d.id === 'c-0007')?.name).toBe('First7 Last7');
    recordFigure('long-waits: paused, then resumed', report.status, 'completed', report.status === 'completed');
  });
});

afterAll(() => {
  recordFigure(
    'long-waits: longest history of one run while waiting (events)',
    longestHistory,
    `< ${LIMIT + SLACK}`,
    longestHistory > 0 && longestHistory < LIMIT + SLACK
  );
});

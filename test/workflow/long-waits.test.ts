/**
 * Long waits: a run awaiting approval or paused for days keeps each run's history bounded (it continues as new while
 * it waits, the lease renewed all along) and resumes correctly. Days are simulated by a 1 s lease renewal and a low
 * continue-as-new threshold, not by sleeping. Phase-machine cases: on the fake activities (test/support/fake-activities).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import type { RunbookStatus } from '../../common/status';
import { approveSignal, cutoverSignal, resumeSignal, statusQuery } from '../../workflows/messages';
import { waitForPhase } from './harness';
import { recordFigure } from '../support/figures';
import { FakeRunbook } from '../support/fake-runbook';

let f: FakeRunbook;
beforeAll(async () => {
  f = await FakeRunbook.start();
});
afterAll(async () => {
  await f?.close();
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
  await f.with({ documents: 20 }, async (kit) => {
    const handle = await f.start(kit, {
      approval: { timeout: '7d' },
      monitor: { duration: '1s', interval: '1s' },
      tuning: longWait,
    });
    const first = await waitForPhase(handle, 'awaiting-approval');
    const later = await waitForGenerations(handle, 2);
    expect(later.phase).toBe('awaiting-approval');
    expect(later.pendingDecision).toEqual(first.pendingDecision);
    expect(kit.calls.count('migrateRange')).toBe(0);
    // The lease was renewed all along, across the runs: still ours.
    expect(kit.records.leases.get('db/customers')?.holder).toBe(handle.workflowId);
    await handle.signal(approveSignal, { by: 'alice' });
    const report = await handle.result();
    expect(report.status).toBe('completed');
    expect(report.approvedBy).toBe('alice');
    expect(report.counters.migrated).toBe(20);
    const continued = report.timeline.filter((t) => t.note?.startsWith('continued as new')).length;
    expect(continued).toBeGreaterThanOrEqual(2);
    expect(kit.container.documents.every((d) => d.version === 2 && d.ups === 1)).toBe(true);
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
  await f.with({ documents: 20, failing: ['d-0007'] }, async (kit) => {
    const handle = await f.start(kit, {
      approval: { required: false },
      monitor: { duration: '1s', interval: '1s' },
      tuning: longWait,
    });
    const paused = await waitForPhase(handle, 'paused');
    expect(paused.lastError).toContain('d-0007');
    const later = await waitForGenerations(handle, paused.generation + 2);
    expect(later.phase).toBe('paused');
    expect(later.pendingDecision).toMatchObject({ kind: 'resume-or-rollback' });
    await handle.signal(resumeSignal);
    const report = await handle.result();
    expect(report.status).toBe('completed');
    expect(report.counters).toMatchObject({ migrated: 19, failed: 1 });
    const { documents } = kit.container;
    expect(documents.filter((d) => d.version === 2 && d.ups === 1)).toHaveLength(19);
    expect(documents.find((d) => d.id === 'd-0007')).toMatchObject({ version: 1, ups: 0 });
    recordFigure('long-waits: paused, then resumed', report.status, 'completed', report.status === 'completed');
  });
});

test('monitoring for "weeks": history bounded by continue-as-new, the same window goes on (not started again), then completed', async () => {
  await f.with({ documents: 10 }, async (kit) => {
    const started = Date.now();
    const handle = await f.start(kit, {
      approval: { required: false },
      // Every interval adds a timer and the health check (and probe) activities: the history fills within seconds.
      monitor: { duration: '8s', interval: '100ms' },
      tuning: longWait,
    });
    await waitForPhase(handle, 'monitoring');
    const later = await waitForGenerations(handle, 2);
    expect(later.phase).toBe('monitoring');
    const report = await handle.result();
    expect(report.status).toBe('completed');
    const monitoringEntered = report.timeline.filter((t) => t.note?.startsWith('health checks every')).length;
    expect(monitoringEntered).toBe(1); // one window, carried across the runs
    // The window ended when it was due, not 8 s after the last continue-as-new.
    expect(Date.now() - started).toBeLessThan(8_000 + 8_000);
    expect(kit.calls.count('migrateRange')).toBeGreaterThan(0);
  });
});

test('catching up for "days" until the cutover: history bounded by continue-as-new, the feeds go on from their continuations, then cutover and completed', async () => {
  await f.with({ documents: 10, ranges: 2 }, async (kit) => {
    const handle = await f.start(kit, {
      approval: { required: false },
      monitor: { duration: '1s', interval: '1s' },
      cutover: 'signal',
      tuning: longWait,
    });
    const catching = await waitForPhase(handle, 'catching-up');
    expect(catching.pendingDecision).toMatchObject({ kind: 'cutover' });
    const later = await waitForGenerations(handle, catching.generation + 2);
    expect(later.phase).toBe('catching-up');
    expect(later.pendingDecision).toMatchObject({ kind: 'cutover' });
    // The old writer's document, written while the run catches up, is caught up by the next round.
    kit.container.documents.push({ ...kit.container.documents[0]!, id: 'late-1', version: 1, ups: 0, downs: 0 });
    await handle.signal(cutoverSignal, { by: 'ops' });
    const report = await handle.result();
    expect(report.status).toBe('completed');
    expect(kit.container.documents.every((d) => d.version === 2)).toBe(true);
    expect(report.timeline.filter((t) => t.note?.startsWith('following the change feed')).length).toBe(1);
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

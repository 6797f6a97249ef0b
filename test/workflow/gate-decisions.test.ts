/**
 * The gates before any write, as the phase machine decides them, on the fake activities
 * (test/support/fake-activities): abort before approval and an approval timeout end the run aborted; bad input fails
 * at once naming the field; a Periodic-backup account is refused when the rollback would need a restore; a closed
 * maintenance window pauses before any write, one in the future is waited for on a durable timer; bad restore-drill
 * input fails at once. The approval gate
 * end to end (the real CLI, Cosmos, the lease): gates.test.ts; the backup policy as ARM reports it:
 * test/engine/rollback-restore.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowFailedError } from '@temporalio/client';
import { restoreDrill } from '../../workflows';
import { ErrorType } from '../../common/errors';
import { abortSignal, resumeSignal } from '../../workflows/messages';
import { FakeRunbook } from '../support/fake-runbook';
import type { FakeKit } from '../support/fake-activities';
import { waitForPhase } from './harness';

/** Each case has its own worker, task queue and fake activities: they run side by side (jest's test.concurrent). */
const test = it.concurrent;
let f: FakeRunbook;
beforeAll(async () => {
  f = await FakeRunbook.start();
});
afterAll(async () => {
  await f?.close();
});

const fast = { monitor: { duration: '1s', interval: '1s' }, approval: { timeout: '1m' } };

/** Nothing was written and no snapshot taken: the run never passed its gates. */
function untouched(kit: FakeKit): void {
  expect(kit.calls.count('takeSnapshot')).toBe(0);
  expect(kit.calls.count('migrateRange')).toBe(0);
  expect(kit.container.documents.every((d) => d.version === 1 && d.ups === 0)).toBe(true);
}

test('abort before approval ends the run aborted and changes nothing', async () => {
  await f.with({ documents: 12 }, async (kit) => {
    const handle = await f.start(kit, fast);
    await waitForPhase(handle, 'awaiting-approval');
    await handle.signal(abortSignal, { reason: 'change freeze' });
    const report = await handle.result();
    expect(report.status).toBe('aborted');
    expect(report.reason).toContain('change freeze');
    expect(report.snapshot).toBeUndefined();
    untouched(kit);
    // The container is free again for the next run.
    expect(kit.records.leases.size).toBe(0);
  });
});

test('an approval that never comes times out: aborted, nothing changed', async () => {
  await f.with({ documents: 5 }, async (kit) => {
    const report = await (await f.start(kit, { ...fast, approval: { timeout: '2s' } })).result();
    expect(report.status).toBe('aborted');
    expect(report.reason).toBe('approval timed out after 2s');
    untouched(kit);
  });
});

test('bad input fails the run at once, naming the field', async () => {
  await f.with({}, async (kit) => {
    const cause = await f.expectFailure(kit, { batchSize: 0, rollback: 'sometimes' });
    expect(cause.type).toBe(ErrorType.InvalidInput);
    expect(cause.message).toContain('batchSize:');
    expect(cause.message).toContain('rollback:');
    expect(kit.calls.all.map((c) => c.name)).toEqual(['resolveRunbookInput']);
  });
});

test('a Periodic-backup account is refused at preflight when the rollback needs a restore', async () => {
  const script = {
    documents: 3,
    migration: { hasDown: false },
    backup: {
      type: 'Periodic' as const,
      meetsMinimum: false,
      reason: 'account fake uses Periodic backup: a point-in-time restore of one container is impossible',
    },
  };
  await f.with(script, async (kit) => {
    // No down() and no pre-images: the only rollback left is a restore, which Periodic backup cannot do.
    const cause = await f.expectFailure(kit, { ...fast, preimages: false });
    expect(cause.type).toBe(ErrorType.PreflightFailed);
    expect(cause.message).toContain('uses Periodic backup');
    untouched(kit);
  });
});

test('a maintenance window that has closed pauses the run before any write; resume goes on anyway', async () => {
  await f.with({ documents: 6 }, async (kit) => {
    const end = new Date(Date.now() - 60_000).toISOString();
    const handle = await f.start(kit, {
      ...fast,
      approval: { required: false },
      maintenanceWindow: { start: new Date(Date.now() - 3_600_000).toISOString(), end },
    });
    const paused = await waitForPhase(handle, 'paused');
    expect(paused.lastError).toBe(
      `the maintenance window closed at ${end}: no new work is started; resume to go on anyway`
    );
    expect(kit.calls.count('migrateRange')).toBe(0);
    await handle.signal(resumeSignal);
    const report = await handle.result();
    expect(report.status).toBe('completed');
    expect(kit.container.documents.every((d) => d.version === 2 && d.ups === 1)).toBe(true);
  });
});

test('a maintenance window in the future: the run sleeps durably until it opens, then migrates', async () => {
  await f.with({ documents: 4 }, async (kit) => {
    const start = new Date(Date.now() + 6_000).toISOString();
    const handle = await f.start(kit, {
      ...fast,
      approval: { required: false },
      maintenanceWindow: { start, end: new Date(Date.now() + 3_600_000).toISOString() },
    });
    let details = '';
    for (let i = 0; i < 50 && !details.includes('maintenance window'); i++) {
      await sleep(100);
      const metadata = await handle
        .query<{ currentDetails?: string }>('__temporal_workflow_metadata')
        .catch(() => ({ currentDetails: '' }));
      details = metadata.currentDetails ?? '';
    }
    expect(details).toContain(`**Waiting for:** the maintenance window to open at ${start}`);
    expect(kit.calls.count('migrateRange')).toBe(0);
    const report = await handle.result();
    expect(report.status).toBe('completed');
    expect(Date.parse(report.snapshot!.t0)).toBeGreaterThanOrEqual(Date.parse(start) - 1000);
  });
});

test('bad drill input fails at once, naming the field', async () => {
  await f.with({}, async (kit) => {
    const cases: [unknown, RegExp][] = [
      [{}, /input: name a migration, or both database and container/],
      [{ database: 'd', container: 'c', account: 'prod-account' }, /account: must contain "drill"/],
      [{ database: 'd', container: 'c', sampleSize: 0 }, /sampleSize:/],
      [{ database: 'd', container: 'c', at: 'yesterday' }, /at: must be an ISO date-time/],
      [{ database: 'd', container: 'c', extra: 1 }, /Unrecognized key/],
    ];
    for (const [input, message] of cases) {
      const failed = await f.client.workflow
        .execute(restoreDrill, { taskQueue: kit.taskQueue, workflowId: `drill-${randomUUID()}`, args: [input] })
        .catch((e: unknown) => e);
      const cause = (failed as WorkflowFailedError).cause as Error & { type?: string };
      expect(cause.type).toBe(ErrorType.InvalidInput);
      expect(cause.message).toMatch(message);
    }
    expect(kit.calls.all.filter((c) => c.name !== 'resolveRunbookInput')).toEqual([]);
  });
});

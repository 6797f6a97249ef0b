/**
 * The revert from pre-images ends only when the documents counted at the new version are those it named: a pass over
 * the ranges that did not see some (a replica lagging behind the application's writes, Session consistency) is
 * followed by another, and when passes never see them the run waits for the operator and says how many no pass saw.
 * Phase-machine cases on the fake activities (test/support/fake-activities, `lagging`); the same on the stack
 * with a lagging emulator is test/workflow/surgical.test.ts under LOCAL_COSMOS_SESSION_LAG_MS=500.
 */
import { approveSignal, rollbackSignal, statusQuery } from '../../workflows/messages';
import { MAX_REVERT_PASSES } from '../../workflows/rollback/preimages';
import type { RollbackResult } from '../../workflows/rollback/runbook';
import { FakeRunbook } from '../support/fake-runbook';
import { waitForDecision, waitForPhase } from './harness';

const test = it.concurrent;
let f: FakeRunbook;
beforeAll(async () => {
  f = await FakeRunbook.start();
});
afterAll(async () => {
  await f?.close();
});

const input = {
  approval: { required: false, timeout: '10m' },
  monitor: { duration: '10m', interval: '1s' },
  preimages: true,
  rollback: 'preimages',
};

type Kit = { container: { documents: { id: string; version: unknown; ups: number; downs: number }[] } };
const atVersion = (kit: Kit, version: number) =>
  kit.container.documents
    .filter((d) => d.version === version)
    .map((d) => d.id)
    .sort();

test('documents the first pass did not see are taken back by a second pass: rolled back, nothing left at the new version, no gate', async () => {
  await f.with({ documents: 10, ranges: 2, lagging: { ids: ['d-0001', 'd-0006'] } }, async (kit) => {
    const handle = await f.start(kit, input);
    await waitForPhase(handle, 'monitoring');
    await handle.signal(rollbackSignal, { reason: 'the release is bad' });
    // A run that opens a gate instead waits there for approve (the old behaviour): said with the decision it waits for.
    const end = await waitForPhase(handle, ['rolled-back', 'rollback-failed'], 30_000).catch(async () => {
      const status = await handle.query(statusQuery);
      throw new Error(`no end: ${status.phase} ${JSON.stringify(status.pendingDecision ?? null)}`);
    });
    expect(end.phase).toBe('rolled-back');
    const report = await handle.result();
    expect(report.rollback).toMatchObject({
      mode: 'preimages',
      ok: true,
      revert: { reverted: 10, down: 0, conflicts: 0 },
      conflicts: [],
    });
    expect(atVersion(kit, 2)).toEqual([]);
    expect(kit.container.documents.every((d) => d.version === 1 && d.ups === 1 && d.downs === 1)).toBe(true);
    // Two passes over both ranges, each concluded by a settled count on the new version.
    expect(kit.calls.count('revertFromPreimages')).toBe(4);
    expect(kit.calls.of('countVersions')).toEqual([
      expect.objectContaining({ settled: true, settledOn: '2' }),
      expect.objectContaining({ settled: true, settledOn: '2' }),
    ]);
    const child = (await f.client.workflow.getHandle(`${handle.workflowId}/rollback-1`).result()) as RollbackResult;
    expect(child.steps).toContain(
      `2 document(s) at version 2 that the revert did not see (written within a replica's lag, or while it ran): revert again (pass 2 of at most ${MAX_REVERT_PASSES})`
    );
  });
});

test('documents no pass sees: after the last pass the run waits for the operator, who is told how many were not named; approve accepts them', async () => {
  await f.with({ documents: 10, ranges: 2, lagging: { ids: ['d-0001', 'd-0006'], scans: Infinity } }, async (kit) => {
    const handle = await f.start(kit, input);
    await waitForPhase(handle, 'monitoring');
    await handle.signal(rollbackSignal, { reason: 'the release is bad' });
    const waiting = await waitForDecision(handle, 'accept-conflicts', 30_000);
    expect(waiting.phase).toBe('rolling-back');
    expect(waiting.pendingDecision).toEqual({
      kind: 'accept-conflicts',
      signals: ['approve', 'abort'],
      left: 2,
      unnamed: 2,
      conflicts: [],
      reason:
        `2 document(s) of db/customers are still at version 2, 2 of them not named: ${MAX_REVERT_PASSES} passes of ` +
        'the revert did not see them (the application keeps writing at the new version, or a replica lags; rollback ' +
        'again to take them back); approve accepts them as the application wrote them',
    });
    expect(kit.calls.count('revertFromPreimages')).toBe(2 * MAX_REVERT_PASSES);
    expect(kit.calls.count('countVersions')).toBe(MAX_REVERT_PASSES);
    await handle.signal(approveSignal, { by: 'alice' });
    const report = await handle.result();
    expect(report.status).toBe('rolled-back');
    expect(report.rollback).toMatchObject({ ok: true, conflictsAcceptedBy: 'alice', revert: { reverted: 8 } });
    expect(atVersion(kit, 2)).toEqual(['d-0001', 'd-0006']);
  });
});

const down = { ...input, preimages: false, rollback: 'down' };

test('a rollback by down() concludes on a settled count: documents its pass and its verification did not see get a second pass', async () => {
  await f.with({ documents: 10, ranges: 2, lagging: { ids: ['d-0001', 'd-0006'], scans: 2 } }, async (kit) => {
    const handle = await f.start(kit, down);
    await waitForPhase(handle, 'monitoring');
    await handle.signal(rollbackSignal, { reason: 'the release is bad' });
    const report = await handle.result();
    expect(report.status).toBe('rolled-back');
    expect(report.rollback).toMatchObject({ mode: 'down', ok: true, problems: [] });
    expect(atVersion(kit, 2)).toEqual([]);
    expect(kit.container.documents.every((d) => d.version === 1 && d.ups === 1 && d.downs === 1)).toBe(true);
    expect(kit.calls.of('migrateRange').filter((c) => c.direction === 'down')).toHaveLength(4);
    expect(kit.calls.count('verifyMigration')).toBe(3); // the run's own, then one per pass
    expect(kit.calls.of('countVersions')).toEqual([
      expect.objectContaining({ settled: true, settledOn: '2' }),
      expect.objectContaining({ settled: true, settledOn: '2' }),
    ]);
  });
});

test('a rollback by down() whose passes never see some documents fails and says how many, never rolled-back', async () => {
  await f.with({ documents: 10, ranges: 2, lagging: { ids: ['d-0001'], scans: Infinity } }, async (kit) => {
    const handle = await f.start(kit, down);
    await waitForPhase(handle, 'monitoring');
    await handle.signal(rollbackSignal, { reason: 'the release is bad' });
    const failed = await waitForPhase(handle, 'rollback-failed', 30_000);
    expect(failed.lastError).toBe(
      'rollback by down failed: 1 document(s) of db/customers at version 2 were not seen by 3 passes of down() and ' +
        'its verification (written since, or a replica lags); rollback again to take them back'
    );
    expect(atVersion(kit, 2)).toEqual(['d-0001']);
    expect(kit.calls.count('countVersions')).toBe(3);
  });
});

/**
 * What starts a rollback and which one: phase-machine cases on the fake activities (test/support/fake-activities).
 * Health checks failing in a row roll back (a blip does not), and so do slow probe intervals; a rollback signal while
 * migrating interrupts the ranges in flight; a down() the plan cannot prove is not chosen; a restore
 * that requires approval waits for it on the run. The rollbacks on Cosmos and ARM themselves (the data exactly as
 * before, and a rollback that fails) are test/workflow/rollback.test.ts.
 */
import { historyToJSON } from '../support/history-json';
import { approveSignal, resumeSignal, rollbackSignal } from '../../workflows/messages';
import { FakeRunbook } from '../support/fake-runbook';
import { saveHistory, waitForDecision, waitForPhase } from './harness';

/** Each case has its own worker, task queue and fake activities: they run side by side (jest's test.concurrent). */
const test = it.concurrent;
let f: FakeRunbook;
beforeAll(async () => {
  f = await FakeRunbook.start();
});
afterAll(async () => {
  await f?.close();
});

const back = (kit: { container: { documents: { version: unknown; ups: number; downs: number }[] } }) =>
  kit.container.documents.every((d) => d.version === 1 && d.ups === d.downs);

test('a health check failing 3 times in a row rolls back, stopping and restarting the application through the hooks', async () => {
  const script = { documents: 10, hooks: { stopApp: true, startApp: true }, health: ['5xx rate 12%'] as string[] };
  await f.with(script, async (kit) => {
    const handle = await f.start(kit, { approval: { required: false }, monitor: { duration: '30s', interval: '1s' } });
    const report = await handle.result();
    expect(report.status).toBe('rolled-back');
    expect(report.reason).toBe('health check failed (3 checks in a row): scripted (5xx rate 12%)');
    const notes = report.timeline.map((t) => t.note ?? '');
    // The first two failures are noted and waited out; the third rolls back.
    expect(notes.filter((n) => /^health check failed \(\d of 3 in a row\)/.test(n))).toHaveLength(2);
    expect(report.rollback).toMatchObject({ mode: 'down', ok: true });
    expect(kit.records.ran).toEqual(['stop-app', 'start-app']);
    expect(kit.calls.count('healthCheck')).toBe(3);
    expect(back(kit)).toBe(true);
  });
});

test('one failed health check is a blip: the run completes (failuresBeforeRollback: 2 needs two in a row)', async () => {
  await f.with({ documents: 6, health: ['blip', true] }, async (kit) => {
    const handle = await f.start(kit, {
      approval: { required: false },
      monitor: { duration: '4s', interval: '1s', failuresBeforeRollback: 2 },
    });
    const report = await handle.result();
    expect(report.status).toBe('completed');
    expect(report.timeline.map((t) => t.note)).toContain('health check failed (1 of 2 in a row): scripted (blip)');
    expect(kit.container.documents.every((d) => d.version === 2 && d.ups === 1 && d.downs === 0)).toBe(true);
  });
});

test('no hooks: probe intervals slower than the baseline roll back after three in a row, a blip does not', async () => {
  const input = (duration: string) => ({ approval: { required: false }, monitor: { duration, interval: '1s' } });
  await f.with({ documents: 10, probes: ['fast', 'slow', 'fast'] }, async (kit) => {
    const completed = await (await f.start(kit, input('5s'))).result();
    expect(completed.status).toBe('completed');
    const bad = completed.monitoring?.filter((p) => p.bad) ?? [];
    expect(bad).toHaveLength(1);
    expect(bad[0]!.reason).toMatch(/^point reads took 400 ms on average, baseline 5 ms/);
  });
  await f.with({ documents: 10, probes: ['slow'] }, async (kit) => {
    const report = await (await f.start(kit, input('60s'))).result();
    expect(report.status).toBe('rolled-back');
    expect(report.reason).toMatch(/^health check failed \(3 checks in a row\): probe \(point reads took 400 ms/);
    expect(report.monitoring?.filter((p) => p.bad)).toHaveLength(3);
    expect(kit.container.documents.every((d) => d.version === 1 && d.ups === d.downs)).toBe(true);
  });
});

test('a rollback signal while migrating interrupts the ranges in flight, and down restores the documents', async () => {
  await f.with({ documents: 200, ranges: 1 }, async (kit) => {
    kit.ranges.hold();
    const handle = await f.start(kit, {
      batchSize: 5,
      concurrency: 1,
      approval: { required: false },
      monitor: { duration: '1m', interval: '1s' },
      // One activity would take every page: without the interrupt, all 200 documents are migrated before the rollback.
      tuning: { maxPagesPerActivity: 1000 },
    });
    await waitForPhase(handle, 'migrating');
    kit.ranges.allow(2);
    await kit.ranges.writtenAtLeast(2);
    await handle.signal(rollbackSignal, { reason: 'stop now' });
    // The rollback's own ranges (down) must not wait for the gate.
    await waitForPhase(handle, 'rolling-back');
    kit.ranges.release();
    const report = await handle.result();
    expect(report.status).toBe('rolled-back');
    expect(report.rollback).toMatchObject({ mode: 'down', ok: true });
    const touched = kit.container.documents.filter((d) => d.ups > 0);
    expect(touched.length).toBeGreaterThanOrEqual(10);
    expect(touched.length).toBeLessThan(200);
    expect(back(kit)).toBe(true);
    const history = historyToJSON(await handle.fetchHistory());
    expect(history).toContain('EVENT_TYPE_MARKER_RECORDED'); // the patch that lets a rollback interrupt ranges
    saveHistory('rollback-interrupt-phases.json', history);
  });
});

test('a down() the plan cannot prove (down(up(doc)) differs) is not chosen: auto falls back, the plan names the documents', async () => {
  await f.with({ documents: 8, roundTripMismatches: ['d-0005'] }, async (kit) => {
    const handle = await f.start(kit, { approval: { timeout: '1m' }, monitor: { duration: '1s', interval: '1s' } });
    const waiting = await waitForPhase(handle, 'awaiting-approval');
    const notes = waiting.timeline.map((t) => t.note ?? '');
    expect(notes).toContainEqual(expect.stringMatching(/^plan: down\(up\(doc\)\) does not give back 1 of 8 .*d-0005/));
    expect(waiting.pendingDecision).toMatchObject({
      kind: 'approve',
      rollback: expect.stringMatching(/^rollback by an in-place/),
    });
    await handle.terminate('test over');
  });
});

test('a restore that requires approval waits for approve on the run, then restores', async () => {
  const script = { documents: 12, migration: { hasDown: false }, hooks: { stopApp: true, startApp: true } };
  await f.with(script, async (kit) => {
    const handle = await f.start(kit, {
      monitor: { duration: '1m', interval: '1s' },
      approval: { required: false, requiredForRestore: true, timeout: '1m' },
      preimages: false,
    });
    await waitForPhase(handle, 'monitoring');
    await handle.signal(rollbackSignal, { reason: 'wrong data in reports' });
    const status = await waitForDecision(handle, 'approve-restore');
    expect(status.pendingDecision).toMatchObject({ kind: 'approve-restore', signals: ['approve', 'abort'] });
    // Nothing destructive has happened yet: the migrated data is still there, the application still runs.
    expect(kit.calls.count('deleteContainer')).toBe(0);
    expect(kit.records.ran).toEqual([]);
    expect(kit.container.documents.every((d) => d.version === 2)).toBe(true);
    await handle.signal(approveSignal, { by: 'dba-on-call' });
    const report = await handle.result();
    expect(report.status).toBe('rolled-back');
    expect(report.rollback).toMatchObject({ mode: 'restore', ok: true });
    expect(kit.records.ran).toEqual(['stop-app', 'start-app']);
    expect(kit.calls.count('deleteContainer')).toBe(1);
    expect(back(kit)).toBe(true);
  });
});

test('after the first write a step that fails for good pauses the run, the lease kept; resume runs the phase again and the run completes', async () => {
  await f.with({ documents: 30, failVerifications: 1 }, async (kit) => {
    const handle = await f.start(kit, { approval: { required: false }, monitor: { duration: '1s', interval: '1s' } });
    const paused = await waitForPhase(handle, 'paused');
    expect(paused.lastError).toMatch(/^verifying failed: scripted: the verification query failed/);
    expect(paused.pendingDecision).toMatchObject({ kind: 'resume-or-rollback' });
    expect(kit.records.leases.get('db/customers')?.holder).toBe(handle.workflowId);
    await handle.signal(resumeSignal);
    const report = await handle.result();
    expect(report.status).toBe('completed');
    expect(report.counters.migrated).toBe(30);
    expect(kit.calls.count('verifyMigration')).toBe(2);
  });
});

test('an approve is bound to the gate open when it arrives: a double submit at the approval gate is refused, never kept for the restore gate that comes later', async () => {
  const script = { documents: 12, migration: { hasDown: false }, hooks: { stopApp: true, startApp: true } };
  await f.with(script, async (kit) => {
    const handle = await f.start(kit, {
      monitor: { duration: '1m', interval: '1s' },
      approval: { required: true, requiredForRestore: true, timeout: '1m' },
      preimages: false,
    });
    await waitForDecision(handle, 'approve');
    // A double submit: two approves for one gate.
    await handle.signal(approveSignal, { by: 'alice' });
    await handle.signal(approveSignal, { by: 'alice' });
    await waitForPhase(handle, 'monitoring');
    await handle.signal(rollbackSignal, { reason: 'wrong data in reports' });
    // The second approve did not pass the restore's own gate: it waits, and nothing destructive happened.
    const status = await waitForDecision(handle, 'approve-restore');
    expect(status.timeline.some((t) => /approve ignored/.test(t.note ?? ''))).toBe(true);
    expect(kit.calls.count('deleteContainer')).toBe(0);
    await handle.signal(approveSignal, { by: 'dba-on-call' });
    const report = await handle.result();
    expect(report.status).toBe('rolled-back');
    expect(report.approvedBy).toBe('alice');
    expect(report.rollback).toMatchObject({ mode: 'restore', ok: true });
  });
});

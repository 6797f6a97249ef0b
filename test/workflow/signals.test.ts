/**
 * Every signal means one thing in every phase (docs/runbook.md, "Signals by phase"): a rollback before any write ends
 * the run aborted without stopping the application; a rollback during a dry run is refused; an abort after writes
 * began and a resume of a run that is not paused are refused visibly, in the timeline, and change nothing.
 * Phase-machine cases: on the fake activities (test/support/fake-activities), no Cosmos.
 */
import { abortSignal, approveSignal, resumeSignal, rollbackSignal } from '../../workflows/messages';
import { FakeRunbook } from '../support/fake-runbook';
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

test('a rollback before any write ends the run aborted: nothing written, the application never stopped', async () => {
  await f.with({ hooks: { stopApp: true, startApp: true } }, async (kit) => {
    const handle = await f.start(kit, fast);
    await waitForPhase(handle, 'awaiting-approval');
    await handle.signal(rollbackSignal, { reason: 'wrong ticket' });
    const report = await handle.result();
    expect(report.status).toBe('aborted');
    expect(report.reason).toContain('wrong ticket');
    expect(report.snapshot).toBeUndefined();
    expect(report.rollback).toBeUndefined();
    expect(kit.records.ran).toEqual([]);
    expect(kit.calls.count('migrateRange')).toBe(0);
    expect(kit.container.documents.every((d) => d.version === 1 && d.ups === 0)).toBe(true);
  });
});

test('a rollback during a dry run is refused: the dry run ends as one, no rollback child runs', async () => {
  await f.with({}, async (kit) => {
    const handle = await f.start(kit, { ...fast, dryRun: true });
    await waitForPhase(handle, 'awaiting-approval');
    await handle.signal(rollbackSignal, { reason: 'oops' });
    await handle.signal(approveSignal, { by: 'alice' });
    const report = await handle.result();
    expect(report.status).toBe('dry-run');
    expect(report.rollback).toBeUndefined();
    expect(report.timeline.map((t) => t.note)).toContain('rollback (oops) refused: a dry run writes nothing');
    await expect(f.client.workflow.getHandle(`${handle.workflowId}/rollback-1`).describe()).rejects.toThrow();
    // The dry run read every range, and wrote nothing.
    expect(kit.calls.of('migrateRange').every((input) => input.dryRun)).toBe(true);
    expect(kit.calls.count('migrateRange')).toBeGreaterThan(0);
    expect(kit.container.documents.every((d) => d.version === 1 && d.ups === 0)).toBe(true);
  });
});

test('abort after writes began and resume while not paused are refused in the timeline; the run completes', async () => {
  await f.with({ documents: 60 }, async (kit) => {
    // Held between pages: the run is caught migrating, whatever the machine's load.
    kit.ranges.hold();
    const handle = await f.start(kit, {
      ...fast,
      approval: { required: false },
      batchSize: 5,
      tuning: { maxPagesPerActivity: 1 },
    });
    await waitForPhase(handle, 'migrating');
    await handle.signal(abortSignal, { reason: 'too late' });
    await handle.signal(resumeSignal);
    kit.ranges.release();
    const report = await handle.result();
    expect(report.status).toBe('completed');
    const notes = report.timeline.map((t) => t.note ?? '');
    expect(notes).toContainEqual(expect.stringMatching(/^abort \(too late\) refused in phase (migrating|verifying)/));
    expect(notes).toContainEqual(expect.stringMatching(/^resume ignored in phase \w+: the run is not paused$/));
    expect(kit.container.documents.every((d) => d.version === 2 && d.ups === 1)).toBe(true);
  });
});

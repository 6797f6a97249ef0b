/**
 * Copy mode's phase machine (workflows/copy/, workflows/rollback/copy.ts) on the fake activities
 * (test/support/fake-activities/copy.ts): the order of the copy's calls, signals in odd phases, named problems and a
 * failed verification pausing for the operator, and the rollbacks before and after the cutover. The data itself is
 * proved on the local stack (test/workflow/copy-mode.test.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CopyStartInput } from '../../common/copy';
import type { ActivityName } from '../support/fake-activities/calls';
import {
  abortSignal,
  approveSignal,
  cutoverSignal,
  resumeSignal,
  rollbackSignal,
  statusQuery,
} from '../../workflows/messages';
import { FakeRunbook } from '../support/fake-runbook';
import type { FakeScript } from '../support/fake-activities';
import { waitForDecision, waitForPhase } from './harness';

const test = it.concurrent;
let f: FakeRunbook;
beforeAll(async () => {
  f = await FakeRunbook.start();
});
afterAll(async () => {
  await f?.close();
});

const TARGET = 'customers-by-tenant';
const copyScript = (extra: FakeScript = {}): FakeScript => ({
  ...extra,
  migration: { target: { container: TARGET, partitionKey: '/tenant' }, ...extra.migration },
});
const input = (monitor = '2s') => ({
  approval: { required: false, timeout: '1m' },
  monitor: { duration: monitor, interval: '1s' },
});

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

test('the copy in order: target created and every source range marked before any copyRange; catch-up rounds until the cutover signal, one more after it; verifyCopy, the target marked, then the cutover hook; the reverse sync in monitoring; the source never written', async () => {
  await f.with(copyScript({ hooks: { cutover: true } }), async (kit) => {
    const handle = await f.start(kit, input());
    const catching = await waitForDecision(handle, 'cutover');
    expect(catching.phase).toBe('catching-up');
    await until('two catch-up rounds', () => kit.calls.count('syncCopyRange') >= 4);
    const syncsBefore = kit.calls.count('syncCopyRange');
    await handle.signal(cutoverSignal, { by: 'ops' });
    const report = await handle.result();
    expect(report.status).toBe('completed');
    const names = kit.calls.all.map((c) => c.name);
    const at = (name: ActivityName, from = 0) => names.indexOf(name, from);
    const marks = kit.calls.all.flatMap((c, i) =>
      c.name === 'markCopyStart' ? [{ i, of: (c.input as CopyStartInput).of }] : []
    );
    const sourceMarks = marks.filter((m) => m.of === undefined).map((m) => m.i);
    const targetMarks = marks.filter((m) => m.of === 'target').map((m) => m.i);
    expect(sourceMarks).toHaveLength(2);
    expect(at('prepareCopyTarget')).toBeLessThan(Math.min(...sourceMarks));
    expect(Math.max(...sourceMarks)).toBeLessThan(at('copyRange'));
    // A drain after the signal: more catch-up rounds, all before the verification.
    expect(kit.calls.count('syncCopyRange')).toBeGreaterThan(syncsBefore);
    expect(names.lastIndexOf('syncCopyRange')).toBeLessThan(at('verifyCopy'));
    const cutoverHook = kit.calls.all.findIndex(
      (c) => c.name === 'runHook' && (c.input as { hook: string }).hook === 'cutover'
    );
    expect(targetMarks).toHaveLength(2);
    expect(at('verifyCopy')).toBeLessThan(Math.min(...targetMarks));
    expect(Math.max(...targetMarks)).toBeLessThan(cutoverHook);
    expect(at('reverseSyncRange')).toBeGreaterThan(cutoverHook);
    // The reverse sync reads the target's feed from the cutover point.
    expect(kit.calls.of('reverseSyncRange')[0]!.continuation).toMatch(/^target:/);
    for (const writer of ['migrateRange', 'catchUpRange', 'takeSnapshot', 'revertFromPreimages'] as const) {
      expect(kit.calls.count(writer)).toBe(0);
    }
    expect(kit.records.ran).toEqual(['cutover']);
    expect(report.copy).toMatchObject({
      target: { database: 'db', container: TARGET },
      targetCreated: true,
      mode: 'all-versions-and-deletes',
      cutover: { by: 'ops', hookRan: true },
      verification: { passed: true },
      reverseSync: { enabled: true },
    });
    expect(report.copy?.copied.written).toBe(40);
    expect(report.counters.migrated).toBe(40);
    expect([...kit.copyTarget.copies]).toHaveLength(40);
    expect(report.rollbackPlan).toContain('rollback after the cutover: after the cutover');
    expect(report.markdown).toContain(
      `## Copy\n\nTarget \`db/${TARGET}\` (created by the run); change feed in all-versions-and-deletes mode.\n` +
        '- 40 read, 40 copies written, 0 deleted, 0 named problem(s), 0 RU\n' +
        '- verified at the cutover point: passed (source 40, target 40, 20 sampled, 0 mismatch(es))\n'
    );
    expect(report.markdown).toMatch(/- cutover point \S+, by ops; cutover hook ran\n- reverse sync: 0 written back/);
  });
});

test('signals in odd phases: cutover before the approval is ignored, cutover during the backfill is kept and the run cuts over after catching up without another', async () => {
  await f.with(copyScript({ copy: { pageMs: 300 } }), async (kit) => {
    const handle = await f.start(kit, { ...input(), approval: { required: true, timeout: '1m' } });
    await waitForPhase(handle, 'awaiting-approval');
    await handle.signal(cutoverSignal, { by: 'too-early' });
    await handle.signal(approveSignal, { by: 'alice' });
    await waitForPhase(handle, 'migrating');
    await handle.signal(cutoverSignal, { by: 'early' });
    const report = await handle.result();
    expect(report.status).toBe('completed');
    expect(report.copy?.cutover?.by).toBe('early');
    expect(report.timeline.map((t) => t.note)).toContain(
      'cutover ignored in phase awaiting-approval: nothing is catching up'
    );
  });
});

test('named problems over maxFailures pause the copy for the operator (ids only); rollback then deletes the target, no consent asked, and the source is never written', async () => {
  await f.with(copyScript({ copy: { problems: ['d-0003'] } }), async (kit) => {
    const handle = await f.start(kit, input());
    const paused = await waitForPhase(handle, 'paused');
    expect(paused.lastError).toContain('d-0003');
    expect(paused.pendingDecision).toMatchObject({ kind: 'resume-or-rollback' });
    await handle.signal(rollbackSignal, { reason: 'fix the module' });
    const report = await handle.result();
    expect(report.status).toBe('rolled-back');
    expect(report.rollback).toMatchObject({ mode: 'copy', ok: true, problems: [] });
    expect(kit.calls.of('deleteContainer')).toEqual([
      // Checked first: its 39 documents are all the run's copies (d-0003 was a named problem), so none asked.
      { database: 'db', container: TARGET, documentsApproved: 39 },
    ]);
    expect(kit.calls.count('checkTargetCopies')).toBe(1);
    expect(kit.calls.count('syncCopyRange')).toBe(0);
    expect(kit.calls.count('reverseSyncRange')).toBe(0);
    expect(kit.records.ran).toEqual([]);
  });
});

test('a verification that fails at the cutover point pauses before the cutover hook; resume accepts it and the run goes on', async () => {
  await f.with(copyScript({ hooks: { cutover: true }, copy: { failVerifications: 1 } }), async (kit) => {
    const handle = await f.start(kit, input());
    await waitForDecision(handle, 'cutover');
    await handle.signal(cutoverSignal, { by: 'ops' });
    const paused = await waitForPhase(handle, 'paused');
    expect(paused.lastError).toContain('source 40, target 39 document(s); d-0000: its copy is missing');
    expect(kit.records.ran).toEqual([]);
    await handle.signal(resumeSignal);
    const report = await handle.result();
    expect(report.status).toBe('completed');
    expect(kit.records.ran).toEqual(['cutover']);
    // Accepted once: verified once, the phase entered again (not left "paused" while the cutover goes on).
    expect(kit.calls.count('verifyCopy')).toBe(1);
    expect(report.timeline).toContainEqual(
      expect.objectContaining({ phase: 'verifying', note: 'resumed: the copy accepted as it is' })
    );
  });
});

test('a rollback after the cutover stops the application, drains the reverse sync, runs rollbackCutover, starts the application; the target is kept', async () => {
  const hooks = { stopApp: true, startApp: true, cutover: true, rollbackCutover: true };
  await f.with(copyScript({ hooks, copy: { reverseWrites: 7 } }), async (kit) => {
    const handle = await f.start(kit, input('1m'));
    await waitForDecision(handle, 'cutover');
    await handle.signal(cutoverSignal, { by: 'ops' });
    await waitForPhase(handle, 'monitoring');
    const status = await handle.query(statusQuery);
    expect(status.copy?.cutover).toMatchObject({ by: 'ops', hookRan: true });
    await handle.signal(rollbackSignal, { reason: 'back' });
    const report = await handle.result();
    expect(report.status).toBe('rolled-back');
    expect(report.rollback).toMatchObject({ mode: 'copy', ok: true });
    expect(kit.records.ran).toEqual(['cutover', 'stop-app', 'rollback-cutover', 'start-app']);
    expect(kit.calls.count('deleteContainer')).toBe(0);
    expect(kit.copyTarget.exists()).toBe(true);
  });
});

test('without a proved down() the plan and the approval request say a rollback after the cutover is not possible; such a rollback fails and says so', async () => {
  await f.with(copyScript({ roundTripMismatches: ['d-0001'], hooks: { stopApp: true } }), async (kit) => {
    const handle = await f.start(kit, { ...input('1m'), approval: { required: true, timeout: '1m' } });
    const asked = await waitForDecision(handle, 'approve');
    expect(asked.pendingDecision).toMatchObject({
      rollback: expect.stringContaining('a rollback after the cutover is not possible'),
    });
    await handle.signal(approveSignal, { by: 'alice' });
    await waitForDecision(handle, 'cutover');
    await handle.signal(cutoverSignal, { by: 'ops' });
    await waitForPhase(handle, 'monitoring');
    await handle.signal(rollbackSignal, { reason: 'back' });
    const failed = await waitForPhase(handle, 'rollback-failed');
    expect(failed.lastError).toContain('a rollback after the cutover');
    expect(failed.lastError).toContain('is not possible');
    await handle.signal(resumeSignal);
    const report = await handle.result();
    expect(report.status).toBe('rollback-failed');
    expect(kit.calls.count('reverseSyncRange')).toBe(0);
    expect(kit.records.ran).toEqual([]);
  });
});

test('preflight refuses a rollback that cannot undo a copy: "preimages" (it acts on the source) and "down" without a proved down(); nothing is created', async () => {
  await f.with(copyScript({ roundTripMismatches: ['d-0001'] }), async (kit) => {
    const preimages = await f.expectFailure(kit, { ...input(), rollback: 'preimages' });
    expect(preimages.message).toContain('rollback "preimages" does not apply to a copy');
    const down = await f.expectFailure(kit, { ...input(), rollback: 'down' });
    expect(down.message).toContain(
      'rollback "down" was asked for, but a rollback after the cutover is not possible: down(up(doc)) differs from the document on the sample'
    );
    expect(kit.calls.count('prepareCopyTarget')).toBe(0);
    expect(kit.calls.count('copyRange')).toBe(0);
  });
});

test('the declared queries are measured on the source in preflight and on the target at the cutover point: one that loses its index pauses before the cutover hook, and a rollback then deletes the target', async () => {
  const query = {
    name: 'by-tenant',
    query: 'SELECT * FROM c WHERE c.tenant = @t',
    parameters: [{ name: '@t', value: 'x' }],
    maxRuGrowth: 2,
  };
  const script = copyScript({
    migration: { target: { container: TARGET, partitionKey: '/tenant' }, queries: [query] },
    declaredQueries: ['by-tenant'],
    hooks: { cutover: true },
    copy: { targetLosesIndex: true },
  });
  await f.with(script, async (kit) => {
    const handle = await f.start(kit, input());
    await waitForDecision(handle, 'cutover');
    await handle.signal(cutoverSignal, { by: 'ops' });
    const paused = await waitForPhase(handle, 'paused');
    expect(paused.lastError).toBe(
      'query by-tenant on the target: by-tenant: index /tenant was used, now only a potential index (a scan); RU 4 → 40; ' +
        'query by-tenant on the target: by-tenant: RU 4 → 40 (10×, limit 2×)'
    );
    expect(kit.calls.of('runDeclaredQueries').map((q) => q.container)).toEqual(['customers', TARGET]);
    expect(kit.records.ran).toEqual([]);
    await handle.signal(rollbackSignal, { reason: 'index missing on the target' });
    const report = await handle.result();
    expect(report.status).toBe('rolled-back');
    expect(report.queries?.after?.[0]?.indexes.utilizedSingle).toEqual([]);
    expect(kit.calls.of('deleteContainer').map((d) => d.container)).toEqual([TARGET]);
  });
});

test('a target that exists with documents is refused before any write (ContainerExists): the run pauses, and a rollback deletes nothing', async () => {
  await f.with(copyScript({ copy: { targetTaken: true } }), async (kit) => {
    const handle = await f.start(kit, input());
    const paused = await waitForPhase(handle, 'paused');
    expect(paused.lastError).toContain(`the copy's target db/${TARGET} exists already (12 document(s)`);
    await handle.signal(rollbackSignal, { reason: 'pick another name' });
    const report = await handle.result();
    expect(report.status).toBe('rolled-back');
    expect(report.rollback).toMatchObject({ mode: 'copy', ok: true });
    expect(kit.calls.count('deleteContainer')).toBe(0);
    expect(kit.calls.count('markCopyStart')).toBe(0);
    expect(kit.calls.count('copyRange')).toBe(0);
  });
});

test('the operator’s gates hold for a copy: requireStagingRun without a completed staging run refuses it in preflight, before anything is created', async () => {
  await f.with(copyScript(), async (kit) => {
    const failure = await f.expectFailure(kit, { ...input(), requireStagingRun: { database: 'staging' } });
    expect(failure.message).toContain('requireStagingRun: migration fake-migration');
    expect(failure.message).toContain('has not completed up in database staging');
    expect(kit.calls.count('prepareCopyTarget')).toBe(0);
  });
});

test('latest-version mode (an account without continuous backup): the plan says deletes are found at the cutover point, and findDeletedCopies runs over every target range after the drain, before verifyCopy', async () => {
  await f.with(copyScript({ backup: { type: 'Periodic', meetsMinimum: false } }), async (kit) => {
    const handle = await f.start(kit, input());
    await waitForDecision(handle, 'cutover');
    await handle.signal(cutoverSignal, { by: 'ops' });
    const report = await handle.result();
    expect(report.status).toBe('completed');
    expect(report.copy).toMatchObject({ mode: 'latest-version', deletedAtCutover: 0 });
    expect(report.rollbackPlan).toContain('the change feed carries no deletes');
    expect(kit.calls.of('syncCopyRange').every((s) => s.mode === 'latest-version')).toBe(true);
    const names = kit.calls.all.map((c) => c.name);
    expect(kit.calls.count('findDeletedCopies')).toBe(2);
    expect(names.lastIndexOf('syncCopyRange')).toBeLessThan(names.indexOf('findDeletedCopies'));
    expect(names.lastIndexOf('findDeletedCopies')).toBeLessThan(names.indexOf('verifyCopy'));
  });
});

test("a source range that splits during the catch-up: its children go on from the parent's point in the change feed (the split activity's continuation), never marked from now", async () => {
  await f.with(copyScript({ copy: { splitSync: 3 } }), async (kit) => {
    const handle = await f.start(kit, input());
    await waitForDecision(handle, 'cutover');
    await until('the split and a round over the children', () => kit.calls.count('syncCopyRange') >= 7);
    await handle.signal(cutoverSignal, { by: 'ops' });
    const report = await handle.result();
    expect(report.status).toBe('completed');
    const syncs = kit.calls.of('syncCopyRange');
    const split = syncs[2]!;
    const before = new Set(syncs.slice(0, 2).map((s) => s.feedRange));
    expect(before.has(split.feedRange)).toBe(true);
    const children = syncs.slice(3).filter((s) => !before.has(s.feedRange));
    // Two children, each started once from where the parent's feed had got to when it split.
    const firsts = new Map<string, string | undefined>();
    for (const c of children) if (!firsts.has(c.feedRange)) firsts.set(c.feedRange, c.continuation);
    expect([...firsts.values()]).toEqual([`${split.continuation}!`, `${split.continuation}!`]);
    expect(kit.calls.of('markCopyStart').filter((m) => m.of === undefined)).toHaveLength(2);
    expect(report.timeline.map((t) => t.note)).toContain(
      "a feed range split into 2: each goes on from the parent's point in the change feed"
    );
  });
});

test("a rollback before the cutover finds a document in the target that is not up() of a source document (the application's?): it asks with the count and the id, and approve deletes the target", async () => {
  await f.with(copyScript({ copy: { targetWrites: ['app-0001'] } }), async (kit) => {
    const handle = await f.start(kit, input());
    await waitForDecision(handle, 'cutover');
    await handle.signal(rollbackSignal, { reason: 'changed our mind' });
    const asked = await waitForDecision(handle, 'approve-delete-container');
    expect(asked.pendingDecision).toMatchObject({
      kind: 'approve-delete-container',
      documents: 41,
      notCopies: 1,
      ids: ['app-0001'],
    });
    expect(kit.calls.count('deleteContainer')).toBe(0);
    await handle.signal(approveSignal, { by: 'alice' });
    const report = await handle.result();
    expect(report.status).toBe('rolled-back');
    expect(report.rollback).toMatchObject({ mode: 'copy', ok: true, problems: [] });
    expect(report.rollback?.keptContainer).toBeUndefined();
    expect(kit.calls.of('deleteContainer')).toEqual([{ database: 'db', container: TARGET, documentsApproved: 41 }]);
  });
});

test('a rollback before the cutover with a document in the target that is not a copy: abort keeps the target, and the report says so', async () => {
  await f.with(copyScript({ copy: { targetWrites: ['app-0001', 'app-0002'] } }), async (kit) => {
    const handle = await f.start(kit, input());
    await waitForDecision(handle, 'cutover');
    await handle.signal(rollbackSignal, { reason: 'changed our mind' });
    await waitForDecision(handle, 'approve-delete-container');
    await handle.signal(abortSignal, { reason: 'the application wrote there' });
    const report = await handle.result();
    expect(report.status).toBe('rolled-back');
    expect(kit.calls.count('deleteContainer')).toBe(0);
    expect(kit.copyTarget.exists()).toBe(true);
    expect(report.rollback?.keptContainer).toEqual({
      documents: 42,
      reason: `delete db/${TARGET} with its 42 document(s): refused (the application wrote there)`,
    });
    expect(report.markdown).toContain('was KEPT with its 42 document(s)');
  });
});

test('latest-version mode, a rollback after the cutover: once the reverse sync is drained, findDeletedSources runs over every source range (the target feed has no deletes), before the rollbackCutover hook', async () => {
  const hooks = { stopApp: true, startApp: true, cutover: true, rollbackCutover: true };
  const script = copyScript({
    hooks,
    backup: { type: 'Periodic', meetsMinimum: false },
    copy: { reverseWrites: 3, targetDeletes: 2 },
  });
  await f.with(script, async (kit) => {
    const handle = await f.start(kit, input('1m'));
    await waitForDecision(handle, 'cutover');
    await handle.signal(cutoverSignal, { by: 'ops' });
    await waitForPhase(handle, 'monitoring');
    await handle.signal(rollbackSignal, { reason: 'back' });
    const report = await handle.result();
    expect(report.status).toBe('rolled-back');
    expect(report.rollback).toMatchObject({ mode: 'copy', ok: true, problems: [] });
    expect(kit.records.ran).toEqual(['cutover', 'stop-app', 'rollback-cutover', 'start-app']);
    const sources = kit.calls.of('findDeletedSources');
    expect(sources.map((s) => s.feedRange).sort()).toEqual([...kit.container.feedRanges()].sort());
    expect(sources.every((s) => s.container === 'customers' && s.target.container === TARGET)).toBe(true);
    const names = kit.calls.all.map((c) => c.name);
    const rollbackCutover = kit.calls.all.findIndex(
      (c) => c.name === 'runHook' && (c.input as { hook: string }).hook === 'rollback-cutover'
    );
    expect(names.lastIndexOf('reverseSyncRange')).toBeLessThan(names.indexOf('findDeletedSources'));
    expect(names.lastIndexOf('findDeletedSources')).toBeLessThan(rollbackCutover);
  });
});

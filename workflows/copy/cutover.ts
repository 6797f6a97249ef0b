/**
 * The copy's cutover point (phase verifying), once the source's feed was drained to its head after the `cutover`
 * signal: in latest-version mode the copies of deleted source documents found and deleted (findDeletedCopies, every
 * target range: that feed has no deletes), the target's index transformation complete, the copy verified
 * (verifyCopy: counts by version as up() moves them, totals, a sample of every source range compared whole), then
 * the target's change feed marked (the reverse sync's start: the application's writes to the target count from
 * here), the point recorded, and the `cutover` hook run (it points the application at the target). A verification
 * that fails pauses for the operator: `resume` accepts it, `rollback` deletes the target.
 */
import { failureMessage } from '../../common/failure-message';
import { compareQueryBaselines } from '../../common/query-baselines';
import { zeroCopyCounters, type CopyRangeResult } from '../../common/copy';
import type { Run } from '../run/run';
import type { Transition } from '../run/transition';
import { rollingBack } from '../phases/migrate';
import { copyRef, copyRound, failuresLeft, listRangesOf } from './ranges';

export async function copyCutover(run: Run): Promise<Transition> {
  const { state } = run;
  const copy = state.copy!;
  const { outcome } = copy;
  const ref = copyRef(run);
  const targetWhere = `${ref.database}/${ref.target.container}`;
  if (state.phase === 'paused' && state.migrating.pausedIn === 'verifying') {
    // Continued as new while paused here: the same decision is waited for, not asked again.
    const because = state.migrating.pausedBecause;
    const decision = await run.pause(state.lastError ?? 'paused', 'verifying', because);
    if (decision === 'rollback') return rollingBack(run, 'rollback requested');
    if (decision === 'continue-as-new') return { to: 'continue-as-new' };
    if (because === 'verification') copy.verificationAcceptedBy = 'resume';
  }
  await run.enterPhase('verifying', `the copy at the cutover point, in ${targetWhere}`);
  if (outcome.mode === 'latest-version' && outcome.deletedAtCutover === undefined) {
    const deleted = await findDeletedCopies(run);
    if (deleted === 'rollback') return rollingBack(run, 'rollback requested');
    outcome.deletedAtCutover = deleted;
    run.note(`${deleted} cop(ies) of documents deleted from the source found and deleted in the target`);
  }
  if (!outcome.cutover) {
    await run.acts.arm.waitForIndexTransformation.executeWithOptions(
      { summary: `wait for the index transformation of ${targetWhere}` },
      [ref.target]
    );
    const verified = await run.acts.scan.verifyCopy.executeWithOptions(
      { summary: `verify the copy in ${targetWhere}` },
      [{ ...ref }]
    );
    const { ruConsumed: _ru, ...kept } = verified;
    outcome.verification = kept;
    const queryProblems = await declaredQueriesOnTarget(run);
    if ((!verified.passed || queryProblems.length) && copy.verificationAcceptedBy === undefined) {
      const named = verified.mismatches.slice(0, 5).map((m) => `${m.id}: ${m.error}`);
      const problems = [
        ...(verified.passed
          ? []
          : [
              `the copy differs from the source at the cutover point: source ${verified.sourceTotal}, target ${verified.targetTotal} document(s)` +
                (named.length ? `; ${named.join('; ')}` : ''),
            ]),
        ...queryProblems,
      ];
      const reason = problems.join('; ');
      const decision = await run.pause(reason, 'verifying', 'verification');
      if (decision === 'rollback') return rollingBack(run, reason);
      if (decision === 'continue-as-new') return { to: 'continue-as-new' };
      copy.verificationAcceptedBy = 'resume';
      run.note(`the operator accepted the copy as it is (resume): ${reason}`);
      await run.enterPhase('verifying', 'resumed: the copy accepted as it is');
    }
    const lowered = state.migration.target!.throughputAfterCopy;
    if (lowered !== undefined && outcome.throughputAfterCopy === undefined) {
      await run.acts.arm.setCopyTargetThroughput.executeWithOptions(
        { summary: `lower the throughput of ${targetWhere} to ${lowered} RU/s` },
        [{ ...ref, throughput: lowered }]
      );
      outcome.throughputAfterCopy = lowered;
      run.note(`throughput of ${targetWhere} lowered to ${lowered} RU/s: the copy's own writes are done`);
    }
    // The target's feed marked before the application is pointed at it: the reverse sync misses none of its writes.
    const ranges = await listRangesOf(run, 'target');
    const points = await Promise.all(
      ranges.map((feedRange, i) =>
        run.acts.quick.markCopyStart.executeWithOptions(
          { summary: `mark the change feed of target range ${i + 1}/${ranges.length}` },
          [{ ...ref, feedRange, mode: outcome.mode, of: 'target' }]
        )
      )
    );
    copy.reverseRanges = ranges.map((feedRange, i) => ({
      feedRange,
      continuation: points[i]!.continuation,
      done: false,
    }));
    outcome.cutover = { at: run.now(), by: state.catchUp?.cutoverBy ?? 'unknown', hookRan: false };
    outcome.reverseSync = { enabled: copy.plan.reverseSync, counters: zeroCopyCounters(), secondsBehind: 0 };
    run.note(`cutover point recorded at ${outcome.cutover.at}: the target's change feed is marked`);
  }
  if (!outcome.cutover.hookRan) {
    const hook = await run.acts.long.runHook.executeWithOptions({ summary: 'cutover hook' }, [
      { hook: 'cutover', migrationId: state.migration.id, workflowId: run.workflowId },
    ]);
    outcome.cutover.hookRan = true;
    run.note(
      hook.ran
        ? 'cutover hook ran: the application is pointed at the target'
        : 'no cutover hook configured: point the application at the target yourself'
    );
  }
  return { to: 'monitoring' };
}

/**
 * The module's declared queries on the target, against their baseline on the source (preflight): an index the source
 * used and the target does not, or RU grown past the query's maxRuGrowth, is a problem (common/query-baselines.ts).
 */
async function declaredQueriesOnTarget(run: Run): Promise<string[]> {
  const { state } = run;
  if (!state.knowing.queriesBefore?.length) return [];
  const ref = copyRef(run);
  const measured = await run.acts.quick.runDeclaredQueries.executeWithOptions(
    { summary: `declared queries on ${ref.database}/${ref.target.container}` },
    [{ database: ref.database, container: ref.target.container, migration: ref.migration, checksum: ref.checksum }]
  );
  state.knowing.queriesAfter = measured.queries;
  return compareQueryBaselines(state.knowing.queriesBefore, measured.queries).map(
    (p) => `query ${p.name} on the target: ${p.message}`
  );
}

/** Latest-version mode: every target range compared with the source once; returns the copies deleted. */
async function findDeletedCopies(run: Run): Promise<number | 'rollback'> {
  const { options } = run;
  const ref = copyRef(run);
  const listed = await listRangesOf(run, 'target');
  const ranges = listed.map((feedRange) => ({ feedRange, done: false }));
  let deleted = 0;
  const outcome = await copyRound<CopyRangeResult>(
    run,
    {
      ranges,
      stopsFor: 'rollback',
      listRanges: () => listRangesOf(run, 'target'),
      newRange: (feedRange) => ({ feedRange, done: false }),
      // On `long` (heartbeat timeout of the run's tuning): it heartbeats once per page, and a page under a small
      // budget share may take longer than the range activities' 5 s (activities/copy/reconcile.ts).
      start: (range, index, part) =>
        run.acts.long.findDeletedCopies.executeWithOptions(
          { summary: `find copies of deleted documents in target range ${index + 1}/${ranges.length}` },
          [
            {
              ...ref,
              feedRange: range.feedRange,
              continuation: range.continuation,
              batchSize: options.batchSize,
              maxFailures: failuresLeft(run),
              ...part,
            },
          ]
        ),
      onResult: (result) => {
        deleted += result.counters.deleted;
      },
    },
    { n: 0 }
  );
  if (outcome.error) throw outcome.error instanceof Error ? outcome.error : new Error(failureMessage(outcome.error));
  if (!outcome.finished) return 'rollback';
  return deleted;
}

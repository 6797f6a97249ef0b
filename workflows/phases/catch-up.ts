/**
 * Catching up (the online lifecycle, docs/runbook.md "Online migrations"): after the backfill, the old application may
 * still be writing documents in the old shape. Every feed range's change feed is followed from T0 (catchUpRange, through
 * the one range loop, the live budget and concurrency) in rounds, each reading every range to its head and migrating
 * what it brings in the old shape, until the cutover:
 * - `cutover: "auto"` (default): once no old-shape document has arrived for `quietFor` (at once when none came at all);
 * - `cutover: "signal"`: on the operator's `cutover` signal (the old writers are gone); the `cutover` hook of
 *   HOOKS_CONFIG runs (e.g. to flip a feature flag), then the feed is drained to its head once more.
 * Then the run verifies. A rollback, a pause or a live control works as in migrating; a long catch-up continues as new
 * with the continuations in the run's state.
 */
import type { Duration } from '@temporalio/common';
import type { CatchUpResult } from '../../common/activities';
import { addCounters } from '../../common/counters';
import { durationMs } from '../../common/duration';
import { failureMessage } from '../../common/failure-message';
import { runRanges, type LoopRange } from '../range-loop';
import type { Run } from '../run/run';
import type { Transition } from '../run/transition';
import { budgetOf, concurrencyOf, MAX_FAILURES_KEPT } from '../state';
import { isThresholdExceeded } from '../ranges';
import { pauseReason, pauseThenResume, rollingBack, stopReason } from './migrate';

/** The wait between two rounds of the catch-up when the last one found the feeds at their heads. */
export const CATCH_UP_ROUND_MS = 2_000;

export async function catchUp(run: Run): Promise<Transition> {
  const { state, options, inbox } = run;
  const { migration } = state;
  // A down run takes documents back to fromVersion: there is no new shape for old writers to miss.
  if (!migration.migratesDocuments || options.direction !== 'up') return { to: 'verifying' };
  if (!state.catchUp) {
    const listed = await listFeedRanges(run);
    state.catchUp = {
      ranges: listed.map((feedRange) => ({ feedRange, done: false })),
      // T0; a run that created its container has none: its start, before anything was written.
      startTime: state.snapshot?.t0 ?? state.startedAt,
      caughtUp: 0,
      oldShapeSeen: 0,
      secondsBehind: 0,
    };
  }
  if (options.cutover === 'signal' && state.catchUp.cutoverBy === undefined) {
    // (Re)opened each time the phase starts: the inbox is new in a run continued as new.
    // What the run waits for, from the start of the phase (and again in a run continued as new).
    inbox.ask({
      kind: 'cutover',
      signals: ['cutover', 'rollback'],
      reason: 'send cutover once the old writers are gone; the feed is then drained to its head and verified',
    });
  }
  // Continued as new while catching up: the same catch-up goes on. Back from a later pass (verification's catch-up of
  // leftovers, a resume): the feeds go on from their continuations.
  if (state.phase !== 'catching-up') {
    await run.enterPhase(
      'catching-up',
      options.cutover === 'signal'
        ? 'following the change feed until the cutover signal'
        : `following the change feed until no old-shape document arrives for ${String(options.quietFor)}`
    );
  }
  const cu = state.catchUp;
  const ref = { database: migration.database, container: migration.container };
  const quietForMs = durationMs((options.quietFor ?? '1m') as Duration);
  /** The cutover the operator asked for: in this run's inbox, or carried across continue-as-new. */
  const cutoverAsked = () => inbox.cutoverBy ?? state.gates.cutoverRequestedBy;
  let completionsThisRun = 0;
  for (;;) {
    for (const range of cu.ranges) range.done = false;
    const seen = inbox.controlsVersion;
    // The same reasons to stop as migrating: rollback, pause, live controls, the lease lost, the window closed, and
    // continue-as-new (a round that never reaches the head, the old writers outpacing the budget, still checkpoints).
    const stop = () => stopReason(run, completionsThisRun, seen);
    inbox.rangesStarted(seen);
    let behind = 0;
    let thresholdExceeded = false;
    const count = (result: CatchUpResult) => {
      state.migrating.counters = addCounters(state.migrating.counters, result.counters);
      const room = MAX_FAILURES_KEPT - state.migrating.failures.length;
      if (room > 0) state.migrating.failures.push(...result.failures.slice(0, room));
      cu.caughtUp += result.counters.migrated;
      cu.oldShapeSeen += result.oldShapeSeen;
      if (result.lastOldShapeAt && (!cu.lastOldShapeAt || result.lastOldShapeAt > cu.lastOldShapeAt)) {
        cu.lastOldShapeAt = result.lastOldShapeAt;
      }
      behind = Math.max(behind, result.secondsBehind);
      run.refreshDetails();
    };
    const outcome = await runRanges<CatchUpResult, LoopRange>({
      ranges: cu.ranges,
      newRange: (feedRange) => ({ feedRange, done: false }),
      priorityBased: state.backup?.priorityBasedExecution === true,
      ruBudget: () => budgetOf(state),
      concurrency: () => concurrencyOf(state),
      start: (range, index, part) =>
        run.acts.range.catchUpRange.executeWithOptions(
          { summary: `catch up range ${index + 1}/${cu.ranges.length} from the change feed` },
          [
            {
              ...ref,
              migration: migration.id,
              checksum: migration.checksum,
              feedRange: range.feedRange,
              continuation: range.continuation,
              startTime: cu.startTime,
              batchSize: options.batchSize,
              maxFailures: Math.max(state.migrating.failureAllowance - state.migrating.counters.failed, 0),
              ...(state.rollback.preimages ? { preimages: true } : {}),
              ...part,
            },
          ]
        ),
      onResult: (_range, result) => {
        completionsThisRun += 1;
        count(result);
      },
      onSplitPartial: (_range, failure) => {
        const [partial] = (failure.details ?? []) as [CatchUpResult?];
        if (partial) count(partial);
      },
      // Over maxFailures: what the attempt did counts and the range goes on after the pages it committed, so a resume
      // (which tolerates maxFailures more) does not meet the same documents again.
      onFailure: (range, err) => {
        if (!isThresholdExceeded(err)) return;
        thresholdExceeded = true;
        const [partial] = (err.cause.details ?? []) as [CatchUpResult?];
        if (!partial) return;
        count(partial);
        range.continuation = partial.continuation ?? range.continuation;
      },
      shouldStop: stop,
      interruptWhen: () => {
        const why = stop();
        return why !== undefined && why !== 'continue-as-new';
      },
      listRanges: () => listFeedRanges(run),
      onSplit: (_parent, children) => run.note(`a feed range split into ${children.length} while catching up`),
    });
    inbox.rangesStopped();
    cu.secondsBehind = behind;
    const leaving = (t: Transition): Transition => {
      inbox.stopAsking('cutover');
      return t;
    };
    if (outcome.error && !thresholdExceeded) {
      throw outcome.error instanceof Error ? outcome.error : new Error(failureMessage(outcome.error));
    }
    if (!outcome.error && outcome.stoppedBecause === 'rollback') return leaving(rollingBack(run, 'rollback requested'));
    if (!outcome.error && outcome.stoppedBecause === 'controls') continue; // the ranges go on with it at once
    if (!outcome.error && outcome.stoppedBecause === 'continue-as-new') return { to: 'continue-as-new' };
    if (outcome.error || (outcome.stoppedBecause !== undefined && !outcome.finished)) {
      // Over maxFailures, a pause, the lease lost, the window closed: the operator decides, as while migrating.
      const next = await pauseThenResume(
        run,
        pauseReason(run, { ...outcome, thresholdExceeded }),
        outcome.error ? 'error' : outcome.stoppedBecause,
        'catching-up'
      );
      if (next) return leaving(next);
      continue;
    }
    if (cu.cutoverBy !== undefined) {
      // Drained to the head after the cutover: nothing the old writers wrote is left behind.
      run.note(`caught up to the head after the cutover: ${cu.caughtUp} document(s) caught up in all`);
      return leaving({ to: 'verifying' });
    }
    if (options.cutover === 'signal') {
      const by = cutoverAsked();
      if (by !== undefined) {
        run.note(`cutover by ${by}: running the cutover hook, then draining the change feed to its head`);
        const hook = await run.acts.long.runHook.executeWithOptions({ summary: 'cutover hook' }, [
          { hook: 'cutover', migrationId: migration.id, workflowId: run.workflowId },
        ]);
        if (hook.ran) run.note('cutover hook ran');
        // Taken only once the hook has run: a hook that failed (the run paused) runs again on resume.
        cu.cutoverBy = by;
        continue;
      }
    } else if (!cu.lastOldShapeAt || Date.now() - Date.parse(cu.lastOldShapeAt) >= quietForMs) {
      run.note(
        cu.lastOldShapeAt
          ? `no old-shape document for ${String(options.quietFor)}: ${cu.caughtUp} document(s) caught up`
          : 'no old-shape document arrived after the backfill'
      );
      return leaving({ to: 'verifying' });
    }
    const waited = await run.waitFor(
      () =>
        inbox.rollbackRequested ||
        inbox.pauseRequested !== undefined ||
        (options.cutover === 'signal' && cutoverAsked() !== undefined),
      CATCH_UP_ROUND_MS,
      'next catch-up round'
    );
    if (waited === 'continue-as-new') return { to: 'continue-as-new' };
  }
}

function listFeedRanges(run: Run): Promise<string[]> {
  const { database, container } = run.state.migration;
  return run.acts.quick.listFeedRanges.executeWithOptions({ summary: `list feed ranges of ${run.where}` }, [
    { database, container },
  ]);
}

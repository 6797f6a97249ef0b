/**
 * The copy's ranges through the one range loop (workflows/range-loop.ts): the live budget and concurrency, the same
 * reasons to stop as migrating (rollback, pause, live controls, the lease, the window, continue-as-new), and each
 * result counted in the run's state (the backfill's and the catch-up's into `migrating.counters`, so the status shows
 * progress as for a migration in place, and into the copy's own counters for the report).
 */
import { addCopyCounters, type CopyCounters, type CopyRangeResult, type CopyRef } from '../../common/copy';
import type { MigrationCounters } from '../../common/activities';
import { addCounters } from '../../common/counters';
import { failureMessage } from '../../common/failure-message';
import { runRanges, type LoopOutcome, type LoopRange, type RangePart } from '../range-loop';
import { isThresholdExceeded } from '../ranges';
import type { Run } from '../run/run';
import type { Transition } from '../run/transition';
import { budgetOf, concurrencyOf, MAX_FAILURES_KEPT } from '../state';
import { pauseReason, pauseThenResume, rollingBack, stopReason } from '../phases/migrate';

/** The source, the module and the target, as every copy activity names them. */
export function copyRef(run: Run): CopyRef {
  const { migration } = run.state;
  return {
    database: migration.database,
    container: migration.container,
    migration: migration.id,
    checksum: migration.checksum,
    target: { database: migration.database, container: migration.target!.container },
  };
}

/** A copy's counters as the run's migration counters: documents read are scanned, copies written are migrated. */
function asMigrationCounters(c: CopyCounters): MigrationCounters {
  return { scanned: c.read, migrated: c.written, skipped: 0, failed: c.failed, conflicts: 0, ruConsumed: c.ruConsumed };
}

/** Counts one result of a copy activity: the run's counters, the copy's, the first named problems. */
export function countCopy(run: Run, result: Pick<CopyRangeResult, 'counters' | 'failures'>): void {
  const { state } = run;
  state.migrating.counters = addCounters(state.migrating.counters, asMigrationCounters(result.counters));
  state.copy!.outcome.copied = addCopyCounters(state.copy!.outcome.copied, result.counters);
  const room = MAX_FAILURES_KEPT - state.migrating.failures.length;
  if (room > 0) state.migrating.failures.push(...result.failures.slice(0, room));
  run.refreshDetails();
}

/** Problems still tolerated before a range stops for the operator (a resume tolerates maxFailures more). */
export function failuresLeft(run: Run): number {
  const { migrating } = run.state;
  return Math.max(migrating.failureAllowance - migrating.counters.failed, 0);
}

export interface CopyRound<R extends CopyRangeResult> {
  ranges: LoopRange[];
  /** The ranges of the container read now (a split or a merge replaces a range). */
  listRanges: () => Promise<string[]>;
  /** A split's child or a merge's union, given the ranges it replaces (range-loop.ts). */
  newRange: (feedRange: string, replaced: LoopRange[]) => LoopRange;
  start: (range: LoopRange, index: number, part: RangePart) => Promise<R>;
  /** Each result (already counted by countCopy): e.g. the lag. */
  onResult?: (result: R) => void;
  /** Stop only for a rollback (verifying, monitoring), or for every reason migrating stops. */
  stopsFor: 'rollback' | 'all';
  /** Count results in the run's and the copy's counters (countCopy); false: onResult counts them (the reverse sync). */
  countInRun?: boolean;
  /** What the timeline says a split's children and a merge's union do (default: they go on from their start). */
  afterSplit?: string;
  afterMerge?: string;
}

export interface CopyRoundOutcome extends LoopOutcome {
  thresholdExceeded: boolean;
}

/** One pass of every range through its copy activity; `completions` counts activities (for continue-as-new). */
export async function copyRound<R extends CopyRangeResult>(
  run: Run,
  round: CopyRound<R>,
  completions: { n: number }
): Promise<CopyRoundOutcome> {
  const { state, inbox } = run;
  const seen = inbox.controlsVersion;
  const stop = () =>
    round.stopsFor === 'all' ? stopReason(run, completions.n, seen) : inbox.rollbackRequested ? 'rollback' : undefined;
  let thresholdExceeded = false;
  inbox.rangesStarted(seen);
  const outcome = await runRanges<R, LoopRange>({
    ranges: round.ranges,
    newRange: round.newRange,
    priorityBased: state.backup?.priorityBasedExecution === true,
    ruBudget: () => budgetOf(state),
    concurrency: () => concurrencyOf(state),
    start: round.start,
    onResult: (_range, result) => {
      completions.n += 1;
      if (round.countInRun !== false) countCopy(run, result);
      round.onResult?.(result);
    },
    onSplitPartial: (range, failure) => {
      const [partial] = (failure.details ?? []) as [R?];
      if (!partial) return;
      if (round.countInRun !== false) countCopy(run, partial);
      // Where the split range's feed had got to: its children go on from there (catch-up.ts).
      range.continuation = partial.continuation ?? range.continuation;
    },
    // Over maxFailures: what the attempt did counts and the range goes on after the pages it committed.
    onFailure: (range, err) => {
      if (!isThresholdExceeded(err)) return;
      thresholdExceeded = true;
      const [partial] = (err.cause.details ?? []) as [R?];
      if (!partial) return;
      if (round.countInRun !== false) countCopy(run, partial);
      range.continuation = partial.continuation ?? range.continuation;
    },
    shouldStop: stop,
    interruptWhen: () => {
      const why = stop();
      return why !== undefined && why !== 'continue-as-new';
    },
    listRanges: round.listRanges,
    onSplit: (_parent, children) =>
      run.note(`a feed range split into ${children.length}: ${round.afterSplit ?? 'they go on from their start'}`),
    onMerge: () => run.note(`feed ranges merged: ${round.afterMerge ?? 'the merged range goes on from its start'}`),
  });
  inbox.rangesStopped();
  return { ...outcome, thresholdExceeded };
}

/**
 * What a round's outcome means for a phase that writes (migrating, catching-up): `done` (every range done), `again`
 * (the ranges go on: new controls, or the operator resumed), or the transition out (rollback, continue-as-new). A
 * failure that is not the named problems' threshold is thrown: the runbook pauses on it (run/failures.ts).
 */
export async function afterRound(
  run: Run,
  outcome: CopyRoundOutcome,
  phase: 'migrating' | 'catching-up'
): Promise<'done' | 'again' | Transition> {
  if (outcome.error && !outcome.thresholdExceeded) {
    throw outcome.error instanceof Error ? outcome.error : new Error(failureMessage(outcome.error));
  }
  if (!outcome.error) {
    if (outcome.stoppedBecause === 'rollback') return rollingBack(run, 'rollback requested');
    if (outcome.stoppedBecause === 'controls') return 'again';
    if (outcome.stoppedBecause === 'continue-as-new') {
      if (run.inbox.rollbackRequested) return rollingBack(run, 'rollback requested');
      if (run.inbox.pauseRequested === undefined) return { to: 'continue-as-new' };
      outcome.stoppedBecause = 'pause';
    }
    if (outcome.finished) return 'done';
  }
  const next = await pauseThenResume(
    run,
    pauseReason(run, outcome),
    outcome.error ? 'error' : outcome.stoppedBecause,
    phase
  );
  return next ?? 'again';
}

/** Lists the feed ranges of the source (`of: "source"`) or of the target. */
export function listRangesOf(run: Run, of: 'source' | 'target'): Promise<string[]> {
  const ref = copyRef(run);
  const container = of === 'source' ? ref.container : ref.target.container;
  return run.acts.quick.listFeedRanges.executeWithOptions(
    { summary: `list feed ranges of ${ref.database}/${container}` },
    [{ database: ref.database, container }]
  );
}

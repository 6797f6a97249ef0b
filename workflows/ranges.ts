/**
 * The migrating loop: the one range loop (range-loop.ts) driving `migrateRange` over every unfinished feed range. Used
 * by the runbook and by a rollback by `down`. What is particular to a migration lives here: the failed-documents
 * allowance and the threshold, and the counters a range keeps.
 */
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type { DocumentFailure, MigrateRangeInput, MigrateRangeResult, MigrationCounters } from '../common/activities';
import { FAILURE_THRESHOLD_EXCEEDED } from '../common/activities';
import type { runbookActivities } from './activities';
import { addCounters, zeroCounters } from '../common/counters';
import type { RangeState } from './state';
import { runRanges, type LoopOutcome, type RangeLoop } from './range-loop';

export { childRanges, isFeedRangeSplit } from './range-loop';

export interface MigrateLoop extends Pick<
  RangeLoop<MigrateRangeResult, RangeState>,
  | 'ranges'
  | 'priorityBased'
  | 'ruBudget'
  | 'concurrency'
  | 'shouldStop'
  | 'interruptWhen'
  | 'listRanges'
  | 'onSplit'
  | 'onMerge'
> {
  /** The range activities' stubs (a short heartbeat timeout: workflows/activities.ts). */
  range: ReturnType<typeof runbookActivities>['range'];
  base: Omit<MigrateRangeInput, 'feedRange' | 'continuation' | 'ruBudget' | 'ruDebt' | 'maxFailures'>;
  /** Failed documents still tolerated in total. */
  failureAllowance: () => number;
  /** Counters newly counted (not yet in any total) and the failures seen. */
  onResult: (counters: MigrationCounters, failures: DocumentFailure[], result?: MigrateRangeResult) => void;
}

export interface MigrateOutcome extends LoopOutcome {
  thresholdExceeded?: boolean;
}

export function isThresholdExceeded(err: unknown): err is ActivityFailure & { cause: ApplicationFailure } {
  return (
    err instanceof ActivityFailure &&
    err.cause instanceof ApplicationFailure &&
    err.cause.type === FAILURE_THRESHOLD_EXCEEDED
  );
}

export async function migrateAllRanges(loop: MigrateLoop): Promise<MigrateOutcome> {
  let thresholdExceeded = false;
  /** Counts what an activity did; documents that failed before, at the threshold, were counted then. */
  const count = (
    range: RangeState,
    partial: MigrationCounters,
    failures: DocumentFailure[],
    result?: MigrateRangeResult
  ) => {
    const known = range.refail ?? 0;
    const counters = { ...partial, failed: Math.max(partial.failed - known, 0) };
    range.counters = addCounters(range.counters, counters);
    loop.onResult(counters, failures, result);
  };
  const outcome = await runRanges<MigrateRangeResult, RangeState>({
    ...loop,
    newRange: (feedRange) => ({ feedRange, done: false, counters: zeroCounters() }),
    start: (range, index, part) =>
      loop.range.migrateRange.executeWithOptions(
        { summary: `migrate range ${index + 1}/${loop.ranges.length} (${loop.base.direction})` },
        [
          {
            ...loop.base,
            feedRange: range.feedRange,
            continuation: range.continuation,
            ...part,
            maxFailures: Math.max(loop.failureAllowance(), 0) + (range.refail ?? 0),
          },
        ]
      ),
    onResult: (range, result) => {
      count(range, result.counters, result.failures, result);
      range.refail = undefined;
    },
    // What the attempt did before the split (its pages in flight committed) counts, as a result would.
    onSplitPartial: (range, failure) => {
      const [partial, failures] = (failure.details ?? []) as [MigrationCounters?, DocumentFailure[]?];
      if (partial) count(range, partial, failures ?? []);
    },
    onFailure: (range, err) => {
      if (!isThresholdExceeded(err)) return;
      thresholdExceeded = true;
      const [partial, failures] = (err.cause.details ?? []) as [MigrationCounters?, DocumentFailure[]?];
      if (!partial) return;
      // The range re-runs from its last checkpoint: the failed documents are scanned (and fail) again then, the
      // migrated ones are no longer candidates.
      const known = range.refail ?? 0;
      const counted = {
        ...partial,
        scanned: partial.scanned - partial.failed,
        failed: Math.max(partial.failed - known, 0),
      };
      range.refail = partial.failed;
      range.counters = addCounters(range.counters, counted);
      loop.onResult(counted, failures ?? []);
    },
  });
  return thresholdExceeded ? { ...outcome, thresholdExceeded } : outcome;
}

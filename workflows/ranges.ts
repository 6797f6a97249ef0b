/**
 * The migrating loop: every unfinished feed range through `migrateRange`, up to `concurrency` at once, each call
 * returning after `maxPages` pages so the workflow checkpoints the range's continuation and counters in its state
 * (what continue-as-new carries, and what a resume starts from). Used by the runbook and by a rollback by `down`.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  condition,
  isCancellation,
  patched,
} from '@temporalio/workflow';
import type { DocumentFailure, MigrateRangeInput, MigrateRangeResult, MigrationCounters } from '../common/activities';
import { FAILURE_THRESHOLD_EXCEEDED, FEED_RANGE_SPLIT } from '../common/activities';
import type { runbookActivities } from './activities';
import { addCounters, zeroCounters } from '../common/counters';
import type { RangeState } from './state';
import { rangeShare } from './budget-share';

export interface MigrateLoop {
  /** The range activities' stubs (a short heartbeat timeout: workflows/activities.ts). */
  range: ReturnType<typeof runbookActivities>['range'];
  /** Updated in place: continuation, done, counters. */
  ranges: RangeState[];
  base: Omit<MigrateRangeInput, 'feedRange' | 'continuation' | 'ruBudget' | 'maxFailures'>;
  /**
   * The account has priority-based execution (preflight read it): the budget follows the work (budget-share.ts).
   * Runs recorded before preflight read it have no such field, and keep the partition-share rule.
   */
  priorityBased?: boolean;
  /** Total RU/s (read at each activity start: a live control may change it), shared by the ranges in flight. */
  ruBudget: () => number | undefined;
  /** Ranges in flight at most (read as the loop goes: a live control may change it). */
  concurrency: () => number;
  /** Failed documents still tolerated in total. */
  failureAllowance: () => number;
  /** Counters newly counted (not yet in any total) and the failures seen. */
  onResult: (counters: MigrationCounters, failures: DocumentFailure[], result?: MigrateRangeResult) => void;
  /** A reason to stop starting new activities (those in flight finish), or undefined to go on. */
  shouldStop?: () => string | undefined;
  /**
   * True when the activities in flight should not even finish their run of pages (a rollback was asked for): they
   * are cancelled, stop after the page they are writing, and their ranges stay at the last checkpoint.
   */
  interruptWhen?: () => boolean;
  /** The container's feed ranges now (an activity): a range that split is replaced by those inside it. */
  listRanges?: () => Promise<string[]>;
  /** A range split into these (for the timeline). */
  onSplit?: (parent: RangeState, children: string[]) => void;
}

/** What a cancelled migrateRange did, from its failure's details (absent from activities that predate it). */
function cancelledResult(err: unknown): MigrateRangeResult | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (!(cause instanceof CancelledFailure)) return undefined;
  const [partial] = cause.details as [MigrateRangeResult?];
  return partial && typeof partial === 'object' && 'counters' in partial ? partial : undefined;
}

/** Runs recorded before a split range was replaced by its children paused at the split. */
export const SPLIT_RANGES_PATCH = 'split-ranges';

export function isFeedRangeSplit(err: unknown): boolean {
  return (
    err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === FEED_RANGE_SPLIT
  );
}

interface EpkRange {
  minInclusive: string;
  maxExclusive: string;
}

/** The ranges of `current` inside `parent` (effective partition key bounds; "FF" is the end of the hash space). */
export function childRanges(parent: string, current: string[]): string[] {
  const p = JSON.parse(parent) as EpkRange;
  const end = (r: EpkRange) => (r.maxExclusive.toUpperCase() === 'FF' ? '\uffff' : r.maxExclusive);
  return current.filter((serialized) => {
    const r = JSON.parse(serialized) as EpkRange;
    return r.minInclusive >= p.minInclusive && end(r) <= end(p);
  });
}

/** Runs recorded before in-flight ranges could be interrupted replay without it. */
export const INTERRUPT_RANGES_PATCH = 'interrupt-ranges-on-rollback';

export interface MigrateOutcome {
  /** Every range is done. */
  finished: boolean;
  stoppedBecause?: string;
  /** The first activity failure (the loop stops at it), FailureThresholdExceeded included. */
  error?: unknown;
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
  const inFlight = new Set<RangeState>();
  const outcome: MigrateOutcome = { finished: false };
  /** Each range's part of the budget (budget-share.ts). */
  const share = () =>
    rangeShare(loop.ruBudget(), {
      ranges: loop.ranges.length,
      unfinished: loop.ranges.filter((r) => !r.done).length,
      inFlight: inFlight.size,
      concurrency: loop.concurrency(),
      priorityBased: loop.priorityBased === true,
    });
  const scope = new CancellationScope();
  /** undefined until an interrupt is asked for; then whether this run may interrupt (the patch). */
  let interrupting: boolean | undefined;
  const interruptAsked = () => interrupting === undefined && loop.interruptWhen?.() === true;
  function interruptIfAsked(): void {
    if (!interruptAsked()) return;
    interrupting = patched(INTERRUPT_RANGES_PATCH);
    if (interrupting) scope.cancel();
  }

  function settle(range: RangeState, result: MigrateRangeResult, known: number): void {
    range.continuation = result.continuation;
    range.done = result.done;
    range.refail = undefined;
    // Documents that failed before, at the threshold, were counted then.
    const counters = { ...result.counters, failed: Math.max(result.counters.failed - known, 0) };
    range.counters = addCounters(range.counters, counters);
    loop.onResult(counters, result.failures, result);
  }

  async function runRange(range: RangeState, index: number): Promise<void> {
    const known = range.refail ?? 0;
    try {
      const result = await scope.run(() =>
        loop.range.migrateRange.executeWithOptions(
          { summary: `migrate range ${index + 1}/${loop.ranges.length} (${loop.base.direction})` },
          [
            {
              ...loop.base,
              feedRange: range.feedRange,
              continuation: range.continuation,
              ruBudget: share(),
              maxFailures: Math.max(loop.failureAllowance(), 0) + known,
            },
          ]
        )
      );
      settle(range, result, known);
    } catch (err) {
      // Interrupted on purpose: the cancelled activity says what it did (its pages in flight committed), and the
      // range resumes from there; from an activity that says nothing, the range stays at its last checkpoint (what it
      // wrote since is migrated, and no longer a candidate). The caller goes on with the reason it stopped for.
      if (interrupting && isCancellation(err)) {
        const partial = cancelledResult(err);
        if (partial) settle(range, partial, known);
        return;
      }
      // Runs recorded before splits were followed paused here.
      if (isFeedRangeSplit(err) && loop.listRanges && patched(SPLIT_RANGES_PATCH)) {
        // What the attempt did before the split (its pages in flight committed) counts, as a result would.
        const [partial, failures] = ((err as ActivityFailure & { cause: ApplicationFailure }).cause.details ?? []) as [
          MigrationCounters?,
          DocumentFailure[]?,
        ];
        if (partial) {
          const counted = { ...partial, failed: Math.max(partial.failed - known, 0) };
          range.counters = addCounters(range.counters, counted);
          loop.onResult(counted, failures ?? []);
        }
        if (replaceSplitRange(range, await loop.listRanges())) return;
      }
      if (isThresholdExceeded(err)) {
        const [partial, failures] = (err.cause.details ?? []) as [MigrationCounters?, DocumentFailure[]?];
        if (partial) {
          // The range re-runs from its last checkpoint: the failed documents are scanned (and fail) again then,
          // the migrated ones are no longer candidates.
          const newFailed = Math.max(partial.failed - known, 0);
          const counted = { ...partial, scanned: partial.scanned - partial.failed, failed: newFailed };
          range.refail = partial.failed;
          range.counters = addCounters(range.counters, counted);
          loop.onResult(counted, failures ?? []);
        }
        outcome.thresholdExceeded = true;
      }
      outcome.error ??= err;
    } finally {
      inFlight.delete(range);
    }
  }

  /**
   * A range that split is replaced by its children, each scanned from its start: what the parent migrated is no
   * longer a candidate (it is at the new version), so nothing is migrated twice and nothing is missed.
   */
  function replaceSplitRange(parent: RangeState, current: string[]): boolean {
    const children = childRanges(parent.feedRange, current);
    // None inside (the ranges merged instead): the split error stands, and the run pauses with it.
    if (children.length === 0) return false;
    const at = loop.ranges.indexOf(parent);
    loop.ranges.splice(at, 1, ...children.map((feedRange) => ({ feedRange, done: false, counters: zeroCounters() })));
    loop.onSplit?.(parent, children);
    return true;
  }

  for (;;) {
    if (!outcome.error && !outcome.stoppedBecause) outcome.stoppedBecause = loop.shouldStop?.();
    const next = loop.ranges.findIndex((r) => !r.done && !inFlight.has(r));
    if (outcome.error || outcome.stoppedBecause || next < 0) {
      interruptIfAsked();
      if (inFlight.size === 0) break;
      await condition(() => inFlight.size === 0 || interruptAsked());
      continue;
    }
    if (inFlight.size >= loop.concurrency()) {
      const before = inFlight.size;
      await condition(() => inFlight.size < before || loop.shouldStop?.() !== undefined);
      continue;
    }
    const range = loop.ranges[next]!;
    inFlight.add(range);
    void runRange(range, next);
  }
  outcome.finished = loop.ranges.every((r) => r.done);
  if (outcome.finished) outcome.stoppedBecause = undefined;
  return outcome;
}

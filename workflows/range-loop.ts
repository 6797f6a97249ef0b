/**
 * The one range loop: every unfinished feed range through its activity (a migration's `migrateRange`, a rollback's
 * `revertFromPreimages`, and every later range writer), up to `concurrency` at once in a sliding window, each call
 * returning after `maxPages` pages so the workflow checkpoints the range's continuation and RU debt (what
 * continue-as-new carries, and what a resume starts from). It follows splits (a range replaced by its children),
 * interrupts the ranges in flight when asked (a rollback, a pause, a live control), and gives each activity its part
 * of the RU budget from the one module that computes it (budget-share.ts).
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  condition,
  isCancellation,
} from '@temporalio/workflow';
import { FEED_RANGE_SPLIT, type RuDebt } from '../common/activities';
import { rangeShare } from './budget-share';

/** Where a range's scan stands. */
export interface LoopRange {
  feedRange: string;
  continuation?: string;
  done: boolean;
  /** RU its last activity still owed (ru-budget.ts): the next one starts owing it. */
  ruDebt?: RuDebt;
}

/** What every range activity returns (and a cancelled one carries in its failure's details). */
export interface RangeActivityResult {
  done: boolean;
  continuation?: string;
  ruDebt?: RuDebt;
}

/** What the loop gives a range's next activity besides the range itself. */
export interface RangePart {
  /** RU/s for this activity (budget-share.ts). */
  ruBudget?: number;
  ruDebt?: RuDebt;
}

export interface RangeLoop<R extends RangeActivityResult, S extends LoopRange> {
  /** Updated in place: continuation, done, RU debt; split ranges replaced by their children. */
  ranges: S[];
  /**
   * A new range for a split's child or a merge's union (a scan takes it from its start), given the ranges it replaces
   * (their continuations as checkpointed: a change feed goes on from there, workflows/copy/feed-continuation.ts).
   */
  newRange: (feedRange: string, replaced: S[]) => S;
  /** Runs the range's next activity. */
  start: (range: S, index: number, part: RangePart) => Promise<R>;
  /** An activity's result, or what a cancelled or split activity had done: count it (the loop moves the range). */
  onResult: (range: S, result: R) => void;
  /** What a split activity had done, from its failure's details (counted like a result). */
  onSplitPartial?: (range: S, failure: ApplicationFailure) => void;
  /** An activity failure the loop does not handle (it stops at the first one): the caller may count its details. */
  onFailure?: (range: S, err: unknown) => void;
  /** The account has priority-based execution: the budget follows the work (budget-share.ts). */
  priorityBased?: boolean;
  /** Total RU/s (read at each activity start: a live control may change it), shared by the ranges. */
  ruBudget: () => number | undefined;
  /** Ranges in flight at most (read as the loop goes: a live control may change it). */
  concurrency: () => number;
  /** A reason to stop starting new activities (those in flight finish), or undefined to go on. */
  shouldStop?: () => string | undefined;
  /**
   * True when the activities in flight should not even finish their run of pages: they are cancelled, stop after the
   * page they are writing, and their ranges stay at the last checkpoint they report.
   */
  interruptWhen?: () => boolean;
  /** The container's feed ranges now (an activity): a range that split is replaced by those inside it. */
  listRanges?: () => Promise<string[]>;
  /** A range split into these (for the timeline). */
  onSplit?: (parent: S, children: string[]) => void;
  /** A range merged with its neighbours into `union` (for the timeline). */
  onMerge?: (range: S, union: string) => void;
}

export interface LoopOutcome {
  /** Every range is done. */
  finished: boolean;
  stoppedBecause?: string;
  /** The first activity failure (the loop stops at it). */
  error?: unknown;
}

export function isFeedRangeSplit(err: unknown): err is ActivityFailure & { cause: ApplicationFailure } {
  return (
    err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === FEED_RANGE_SPLIT
  );
}

/** What a cancelled range activity did, from its failure's details (absent from activities that say nothing). */
function cancelledResult<R extends RangeActivityResult>(err: unknown): R | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (!(cause instanceof CancelledFailure)) return undefined;
  const [partial] = cause.details as [R?];
  return partial && typeof partial === 'object' && 'done' in partial ? partial : undefined;
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

export async function runRanges<R extends RangeActivityResult, S extends LoopRange>(
  loop: RangeLoop<R, S>
): Promise<LoopOutcome> {
  const inFlight = new Set<S>();
  const outcome: LoopOutcome = { finished: false };
  const share = () =>
    rangeShare(loop.ruBudget(), {
      ranges: loop.ranges.length,
      unfinished: loop.ranges.filter((r) => !r.done).length,
      inFlight: inFlight.size,
      concurrency: loop.concurrency(),
      priorityBased: loop.priorityBased === true,
    });
  const scope = new CancellationScope();
  /** Set once an interrupt was asked for and the ranges in flight were cancelled. */
  let interrupting = false;
  const interruptAsked = () => !interrupting && loop.interruptWhen?.() === true;
  function interruptIfAsked(): void {
    if (!interruptAsked()) return;
    interrupting = true;
    scope.cancel();
  }

  function settle(range: S, result: R): void {
    range.continuation = result.continuation;
    range.done = result.done;
    range.ruDebt = result.ruDebt;
    loop.onResult(range, result);
  }

  async function runRange(range: S, index: number): Promise<void> {
    try {
      const part = share();
      const result = await scope.run(() =>
        loop.start(range, index, {
          ...(part !== undefined ? { ruBudget: part } : {}),
          ...(range.ruDebt ? { ruDebt: range.ruDebt } : {}),
        })
      );
      settle(range, result);
    } catch (err) {
      // Interrupted on purpose: the cancelled activity says what it did (its pages in flight committed), and the
      // range resumes from there; from an activity that says nothing, the range stays at its last checkpoint.
      if (interrupting && isCancellation(err)) {
        const partial = cancelledResult<R>(err);
        if (partial) settle(range, partial);
        return;
      }
      if (isFeedRangeSplit(err) && loop.listRanges) {
        loop.onSplitPartial?.(range, err.cause);
        const current = await loop.listRanges();
        if (replaceSplitRange(range, current) || replaceMergedRange(range, current)) return;
      }
      loop.onFailure?.(range, err);
      outcome.error ??= err;
    } finally {
      inFlight.delete(range);
    }
  }

  /**
   * A range that split is replaced by its children, each scanned from its start: what the parent did is no longer
   * work (migrated documents are at the new version, reverted ones back at the old), so nothing is done twice or
   * missed.
   */
  function replaceSplitRange(parent: S, current: string[]): boolean {
    const children = childRanges(parent.feedRange, current);
    // None inside: the ranges merged instead (replaceMergedRange).
    if (children.length === 0) return false;
    const at = loop.ranges.indexOf(parent);
    loop.ranges.splice(at, 1, ...children.map((feedRange) => loop.newRange(feedRange, [parent])));
    loop.onSplit?.(parent, children);
    return true;
  }

  /**
   * A range that merged lies inside one current range, its union with its neighbours
   * (https://learn.microsoft.com/azure/cosmos-db/merge): the union replaces it, scanned from its start, and so does
   * every other range of the loop inside the union that is not in flight (one in flight is dropped when its activity
   * fails on the merge the same way). As after a split, what was done inside is no longer work (migrated documents
   * are at the new version, reverted ones back at the old), so nothing is done twice or missed. No union found: the
   * error stands and the run pauses with it.
   */
  function replaceMergedRange(range: S, current: string[]): boolean {
    const union = current.find((candidate) => childRanges(candidate, [range.feedRange]).length === 1);
    if (union === undefined) return false;
    const inside = (r: S) => childRanges(union, [r.feedRange]).length === 1;
    const known = loop.ranges.some((r) => r.feedRange === union);
    const replaced = loop.ranges.filter((r) => r.feedRange !== union && inside(r));
    const at = loop.ranges.indexOf(range);
    loop.ranges.splice(at, 1, ...(known ? [] : [loop.newRange(union, replaced)]));
    for (let i = loop.ranges.length - 1; i >= 0; i--) {
      const other = loop.ranges[i]!;
      if (other.feedRange !== union && !inFlight.has(other) && inside(other)) loop.ranges.splice(i, 1);
    }
    if (!known) loop.onMerge?.(range, union);
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

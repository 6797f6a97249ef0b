/**
 * The copy's part of the run's state (workflows/state.ts `copy`), carried across continue-as-new. The backfill's
 * ranges are the run's `migrating.ranges` and the source's change feed is its `catchUp` (so the status shows progress
 * and lag as for a migration in place); this holds what only a copy has.
 */
import type { CopyOutcome } from '../../common/copy';
import type { CopyPlan } from '../../common/copy-plan';
import type { LoopRange } from '../range-loop';
import type { CopyRollbackInput } from '../rollback/copy';

export interface CopyState {
  /** What the plan and the approval request said (common/copy-plan.ts). */
  plan: CopyPlan;
  /** What the report and the status show. */
  outcome: CopyOutcome;
  /** The target's feed ranges and their continuations from the cutover point: the reverse sync's. */
  reverseRanges?: LoopRange[];
  /** The operator resumed after the verification at the cutover point failed: the copy is accepted as it is. */
  verificationAcceptedBy?: 'resume';
}

/** What the rollback child needs of the copy (workflows/rollback/copy.ts). */
export function copyRollbackInput(copy: CopyState): CopyRollbackInput {
  return {
    target: copy.outcome.target,
    mode: copy.outcome.mode,
    targetPrepared: copy.outcome.targetCreated !== undefined,
    ...(copy.outcome.cutover ? { cutoverAt: copy.outcome.cutover.at } : {}),
    reverseSync: copy.plan.reverseSync,
    reverseRanges: copy.reverseRanges ?? [],
    copyComplete:
      copy.outcome.copied.failed === 0 &&
      copy.verificationAcceptedBy === undefined &&
      copy.outcome.verification?.passed === true,
  };
}

/** What the rollback child tells its parent run, so the parent's `status` query and UI can say it. */
import { defineSignal } from '@temporalio/workflow';
import type { RevertConflict } from '../../common/activities';

export interface RollbackProgress {
  step: string;
  /** Waiting for approve/abort before the destructive step of an in-place restore. */
  awaitingRestoreApproval?: boolean;
  /** Documents written at or after T0 that the in-place restore would discard (the migration's own included). */
  writesSinceT0?: number;
  /** Documents that existed at T0 and are deleted now: the in-place restore brings them back (absent: not known). */
  deletedSinceT0?: number;
  /** The restored container differs from the state at T0: waiting for approve (accept it) or abort. */
  awaitingRestoreAcceptance?: boolean;
  /**
   * A container the migration created holds documents: waiting for approve (delete it with them) or abort (keep it).
   * For a copy's target: `notCopies` of them are not up() of a source document (possibly the application's), and the
   * first 100 of those by id.
   */
  awaitingContainerDelete?: { documents: number; notCopies?: number; ids?: string[] };
  /** Documents left at the new version after a revert: waiting for approve (accept them) or abort. */
  /** `unnamed`: how many of them no pass of the revert saw (workflows/rollback/preimages.ts). */
  awaitingConflictAcceptance?: { left: number; conflicts: RevertConflict[]; unnamed?: number };
  /** The reason shown with the decision asked for. */
  detail?: string;
}

export const rollbackProgressSignal = defineSignal<[RollbackProgress]>('rollbackProgress');

/**
 * The live controls, forwarded by the parent to its rollback child when the operator changes them while it rolls back
 * (setBudget, setConcurrency): the revert's ranges restart with them after the page they are writing.
 */
export interface RollbackControls {
  /** RU/s for the whole rollback; null: no cap. */
  ruBudget?: number | null;
  concurrency?: number;
  /** The parent's count of forwarded changes: the child answers it with rollbackControlsApplied once in force. */
  seq?: number;
}

export const rollbackControlsSignal = defineSignal<[RollbackControls]>('rollbackControls');

/**
 * The child to its parent: the forwarded change `seq` (and every one before) is in force, i.e. no range started under
 * the old controls is still writing; the parent's setBudget/setConcurrency answer waits for it (run/controls.ts).
 */
export const rollbackControlsAppliedSignal = defineSignal<[{ seq: number }]>('rollbackControlsApplied');

/**
 * rollbackRunbook: the manual runbook's "Rollback procedures" as a child workflow of the runbook (its own history, its own
 * entry in the UI): undo by `down` (stop the application → reverse transform → verify → start it) or by an in-place
 * point-in-time restore (workflows/rollback/restore.ts: proved, consented, verified against T0). It never throws for a
 * failed step: it returns what went wrong, and the parent decides (phase `rollback-failed`, operator decision).
 */
import type { Duration } from '@temporalio/common';
import { ActivityFailure, ApplicationFailure, CancellationScope } from '@temporalio/workflow';
import type {
  ContainerExport,
  ContainerStepsResult,
  Direction,
  MigrationCounters,
  MigrationInfo,
  RevertConflict,
  RevertCounters,
  Snapshot,
} from '../../common/activities';
import type { RunbookTuning } from '../../common/tuning';
import { failureMessage } from '../../common/failure-message';
import { recordRollbackFinished, recordRollbackStarted } from '../metrics';
import { RollbackRun } from './context';
import { rollbackCopy, type CopyRollbackInput } from './copy';
import { rollbackByDown } from './down';
import { rollbackByPreimages } from './preimages';
import { rollbackByRestore } from './restore';
import type { RollbackMode } from '../state';

export { rollbackProgressSignal, type RollbackProgress } from './messages';

export interface RollbackInput {
  parentWorkflowId: string;
  migration: MigrationInfo;
  /** The direction of the run being rolled back (the rollback runs the other one). */
  direction: Direction;
  mode: RollbackMode;
  reason: string;
  snapshot?: Snapshot;
  /** The container before the run (null: the run created it). */
  exported?: ContainerExport | null;
  /** Container steps the run applied, if any. */
  steps?: ContainerStepsResult;
  batchSize: number;
  /** RU/s for the whole rollback when it starts (the parent's live budget); later changes come as rollbackControls. */
  ruBudget?: number;
  concurrency: number;
  /** The account has priority-based execution: the budget follows the work (budget-share.ts). */
  priorityBased?: boolean;
  /** The plan proved the module's down() (`down(up(doc))` = doc on its sample): the revert may use it. */
  downProved?: boolean;
  maxFailures: number;
  verifySampleSize: number;
  requireRestoreApproval: boolean;
  approvalTimeout: Duration;
  /** An in-place restore may delete the container although no stop-app hook is configured. */
  allowRestoreWithoutAppStop?: boolean;
  /** The container the migration kept pre-images in (rollback by pre-images). */
  preimagesContainer?: string;
  /** Documents the run migrated (for the restore's consent: they count among the writes since T0). */
  migratedDocuments?: number;
  /** Copy mode (mode "copy"): the target, the cutover point and the reverse sync (workflows/rollback/copy.ts). */
  copy?: CopyRollbackInput;
  tuning: RunbookTuning;
}

export interface RollbackResult {
  mode: RollbackMode;
  ok: boolean;
  problems: string[];
  /** What was done, in order. */
  steps: string[];
  counters: MigrationCounters;
  approvedBy?: string;
  /** An in-place restore: documents written at or after T0 it discarded (the migration's own included). */
  discardedWrites?: number;
  /** An in-place restore: documents deleted since T0 that it brought back (absent: not known). */
  restoredDeletes?: number;
  /** The type of the failure that stopped the rollback (an ErrorType), when it failed with one. */
  errorType?: string;
  /** A revert from pre-images: what it did, and the first documents it left as the application wrote them. */
  revert?: RevertCounters;
  conflicts?: RevertConflict[];
  /** Who accepted the documents left at the new version (the conflicts gate). */
  conflictsAcceptedBy?: string;
  /** A container the migration created was kept: it held documents and deleting them was not approved. */
  keptContainer?: { documents: number; reason: string };
}

export async function rollbackRunbook(input: RollbackInput): Promise<RollbackResult> {
  const r = new RollbackRun(input);
  const { result } = r;
  recordRollbackStarted(input.migration.id, input.mode);
  // Whatever happens to the parent (cancel, terminate of the caller's scope), a started rollback runs to its end.
  await CancellationScope.nonCancellable(async () => {
    try {
      if (input.mode === 'preimages') {
        // Surgical: the application keeps running; its writes since are kept.
        await rollbackByPreimages(r);
      } else if (input.mode === 'copy') {
        // The source was never written: the target goes, or the reverse sync is drained (it stops and starts the
        // application itself, around the rollbackCutover hook).
        await rollbackCopy(r);
      } else if (input.mode === 'restore') {
        // The restore stops the application itself, once it has proof and consent.
        await rollbackByRestore(r);
      } else {
        await r.step('stop the application');
        await r.runHook('stop-app');
        await rollbackByDown(r);
      }
      if (result.problems.length) return; // leave the application stopped: the data is not verified
      if (input.mode !== 'preimages' && input.mode !== 'copy') {
        await r.step('start the application');
        await r.runHook('start-app');
      }
      result.ok = true;
    } catch (err) {
      result.problems.push(failureMessage(err));
      // The failure's name (ErrorType), so the report tells "try again later" (AccountOperationInProgress) apart. An
      // activity's ApplicationFailure arrives as the cause of an ActivityFailure (@temporalio/common failure.ts).
      const named = err instanceof ActivityFailure ? err.cause : err;
      if (named instanceof ApplicationFailure && named.type) result.errorType = named.type;
    }
  });
  recordRollbackFinished(input.migration.id, input.mode, result.ok);
  await r.step(result.ok ? 'rollback verified' : 'rollback failed');
  return result;
}

/**
 * Rollback by restore as runs recorded before PROVE_BEFORE_DELETE_PATCH did it: stop-app first (by the caller), then
 * delete and restore with no proof that Azure can restore, properties re-applied before verification. Kept only so
 * those runs replay; new runs use ./restore.ts.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { RollbackRun } from './context';
import { undoContainerSteps } from './down';
import { ErrorType } from '../../common/errors';

export async function legacyRollbackByRestore(r: RollbackRun): Promise<void> {
  const { input, ref, where, result } = r;
  const { quick, long, arm } = r.acts;
  if (input.exported === null || input.steps?.previous === null) {
    await undoContainerSteps(r);
    return;
  }
  const { snapshot, exported } = input;
  if (!snapshot || !exported) {
    throw ApplicationFailure.nonRetryable(
      `no snapshot of ${where} was taken: a restore has no T0`,
      ErrorType.RestoreImpossible
    );
  }
  await r.step(`wait until ${where} is restorable at T0 ${snapshot.t0}`);
  await long.waitForRestorableTimestamp.executeWithOptions({ summary: `wait for a restorable ${snapshot.t0}` }, [
    { ...ref, timestamp: snapshot.t0 },
  ]);
  if (input.requireRestoreApproval) {
    await r.step('wait for approval to delete and restore the container', { awaitingRestoreApproval: true });
    result.approvedBy = await r.decide(`the restore of ${where}`, ErrorType.RestoreNotApproved);
  }
  await r.step(`delete ${where}`);
  await arm.deleteContainer.executeWithOptions({ summary: `delete ${where} before the restore` }, [ref]);
  await r.step(`restore ${where} to ${snapshot.t0}`);
  await long.restoreContainer.executeWithOptions({ summary: `restore ${where} to ${snapshot.t0}` }, [
    { ...ref, timestamp: snapshot.t0 },
  ]);
  await r.step('re-apply the exported container properties');
  await arm.reapplyContainerProperties.executeWithOptions({ summary: `re-apply properties of ${where}` }, [
    { exported },
  ]);
  await r.step('verify the restored container against the snapshot');
  const verification = await quick.verifyRestore.executeWithOptions({ summary: `verify the restore of ${where}` }, [
    { snapshot, exported },
  ]);
  result.problems.push(...verification.problems);
}

/**
 * Rollback by an in-place point-in-time restore (docs/runbook.md, "Rollback"), the most destructive strategy, so:
 *
 * 1. prove first: Azure can restore this container at T0 now (continuous backup, T0 in the window, dedicated
 *    throughput, the concurrent-restore limit, the restore permission); otherwise nothing is deleted;
 * 2. consent: a stop-app hook (or `allowRestoreWithoutAppStop`), and an approval by default that shows how many
 *    documents written since T0 the restore will discard;
 * 3. stop the application, delete (proved again at that moment), restore at T0 with TTL disabled;
 * 4. re-apply the exported throughput (autoscale as autoscale), definition and scripts (Azure restores no stored
 *    procedure, trigger or UDF), TTL still off;
 * 5. verify against the state at T0, by version and in all, once the index is rebuilt; a difference waits for the
 *    operator (approve accepts the restored data and restarts the application, abort leaves it stopped);
 * 6. TTL back on, start the application.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { RollbackRun } from './context';
import { undoContainerSteps } from './down';
import { ErrorType } from '../../common/errors';

const impossible = (message: string) => ApplicationFailure.nonRetryable(message, ErrorType.RestoreImpossible);

export async function rollbackByRestore(r: RollbackRun): Promise<void> {
  const { input, ref, where, result } = r;
  const { quick, long, arm, restore } = r.acts;
  // A container the run created did not exist at T0: nothing to restore, undoing the steps deletes it.
  if (input.exported === null || input.steps?.previous === null) {
    await r.step('stop the application');
    await r.runHook('stop-app');
    await undoContainerSteps(r);
    return;
  }
  const { snapshot, exported } = input;
  if (!snapshot || !exported) throw impossible(`no snapshot of ${where} was taken: a restore has no T0`);
  const t0 = snapshot.t0;

  await r.step(`wait until ${where} is restorable at T0 ${t0}`);
  await long.waitForRestorableTimestamp.executeWithOptions({ summary: `wait for a restorable ${t0}` }, [
    { ...ref, timestamp: t0 },
  ]);
  await r.step(`prove Azure can restore ${where} to ${t0}`);
  const proof = await quick.proveRestorable.executeWithOptions({ summary: `prove ${where} is restorable at T0` }, [
    { ...ref, t0, exported },
  ]);
  if (!proof.ok) {
    const message = `Azure cannot restore ${where} to ${t0} now, so nothing was deleted: ${proof.problems.join('; ')}`;
    // An operation on the account (a failover, a region change) ends by itself: named apart, so "roll back again later".
    if (proof.checks.some((c) => c.name === 'account-state' && !c.ok)) {
      throw ApplicationFailure.nonRetryable(message, ErrorType.AccountOperationInProgress);
    }
    throw impossible(message);
  }
  const hooks = await quick.describeHooks.executeWithOptions({ summary: 'which hooks are configured' }, []);
  // Resolved once: the stop-app and start-app hooks run are the ones this decision was made on, whichever worker runs them.
  if (hooks.fingerprints) r.recordedHooks = hooks.fingerprints;
  if (!hooks.stopApp && !input.allowRestoreWithoutAppStop) {
    throw ApplicationFailure.nonRetryable(
      `an in-place restore deletes ${where}: it needs a stop-app hook (stopApp in HOOKS_CONFIG) so the application ` +
        'does not write meanwhile, or allowRestoreWithoutAppStop: true in the run input; nothing was deleted',
      ErrorType.RestoreNotAllowed
    );
  }
  await r.step(`count the documents written since T0 ${t0}`);
  const writes = await long.countWritesSince.executeWithOptions(
    { summary: `count writes to and deletes from ${where} since T0` },
    [{ ...ref, since: t0, ...(snapshot.deletesFeed !== undefined ? { deletesFeed: snapshot.deletesFeed } : {}) }]
  );
  result.discardedWrites = writes.documents;
  if (writes.deleted !== undefined) result.restoredDeletes = writes.deleted;
  if (input.requireRestoreApproval) {
    const deleted =
      writes.deleted !== undefined
        ? `, and bringing back the ${writes.deleted} document(s) deleted since`
        : ' (documents deleted since, which it brings back, could not be counted: no all-versions-and-deletes change feed)';
    const detail =
      `the rollback will delete ${where} and restore it to ${t0}, discarding the ${writes.documents} document(s) ` +
      `written since (the migration's own ${input.migratedDocuments ?? 0} included, and more while the application runs)` +
      deleted;
    await r.step('wait for approval to delete and restore the container', {
      awaitingRestoreApproval: true,
      writesSinceT0: writes.documents,
      ...(writes.deleted !== undefined ? { deletedSinceT0: writes.deleted } : {}),
      detail,
    });
    result.approvedBy = await r.decide(`the in-place restore of ${where}`, ErrorType.RestoreNotApproved);
  }
  await r.step('stop the application');
  await r.runHook('stop-app');
  await r.step(`delete ${where} (proved restorable again first)`);
  await arm.deleteContainer.executeWithOptions({ summary: `delete ${where} before the restore` }, [
    { ...ref, restorableAt: t0, exported },
  ]);
  await r.step(`restore ${where} to ${t0}`);
  await restore.restoreContainer.executeWithOptions({ summary: `restore ${where} to ${t0}` }, [
    { ...ref, timestamp: t0, exported },
  ]);
  // Throughput (in its mode), definition and scripts first, TTL still off: verification then compares what the
  // application will find, and no document of T0 expires before it is counted.
  await r.step('re-apply the exported throughput, definition and scripts (TTL still off)');
  await arm.reapplyContainerProperties.executeWithOptions({ summary: `re-apply properties of ${where}` }, [
    { exported, keepTtlOff: true },
  ]);
  await r.step('verify the restored container against the state at T0, by version, once its index is rebuilt');
  const verification = await r.acts.scan.verifyRestore.executeWithOptions(
    { summary: `verify the restore of ${where}` },
    [{ snapshot, exported, versionField: input.migration.versionField }]
  );
  if (!verification.ok) {
    const detail = `the restored ${where} differs from the state at T0: ${verification.problems.join('; ')}`;
    await r.step('wait for the operator to accept the restored data', { awaitingRestoreAcceptance: true, detail });
    await r.decide(detail, ErrorType.RestoreNotAccepted);
    await r.step(`accepted by the operator: ${verification.problems.join('; ')}`);
  }
  await r.step('re-apply TTL');
  await arm.reapplyContainerProperties.executeWithOptions({ summary: `re-apply TTL of ${where}` }, [{ exported }]);
}

/**
 * `restoreDrill`: the manual runbook's "test the restore procedure" as a workflow. The target container is restored at
 * a recent time into a new account, side by side with the live one (Azure restores a live container only that way),
 * its count and a sample are checked against what the live container says about that time, the account is deleted
 * whatever happened, and the drill is recorded (duration, documents per second) in the migrations history, where a
 * production run's `requireRestoreDrill` looks for it. A drill whose copy does not match fails, after recording it.
 */
import { ApplicationFailure, CancellationScope, isCancellation, setHandler, workflowInfo } from '@temporalio/workflow';
import type { DrillComparison, DrillRecord } from '../common/activities';
import { defaultDrillAccount, parseRestoreDrillInput, type RestoreDrillOptions } from '../common/drill-input';
import { ErrorType } from '../common/errors';
import { tuningSchema } from '../common/tuning';
import { runbookActivities } from './activities';
import { drillStatusQuery, type DrillStatus } from './messages';
import { failureMessage } from '../common/failure-message';

export type { RestoreDrillInput } from '../common/drill-input';

/** How many mismatches the failure message names (all of them are in the record). */
const NAMED_MISMATCHES = 5;

export async function restoreDrill(raw: unknown): Promise<DrillRecord> {
  let input: RestoreDrillOptions;
  try {
    input = parseRestoreDrillInput(raw);
  } catch (err) {
    throw ApplicationFailure.nonRetryable((err as Error).message, ErrorType.InvalidInput);
  }
  const status: DrillStatus = { phase: 'preparing' };
  setHandler(drillStatusQuery, () => status);
  const { quick, long, restore, scan, arm } = runbookActivities(tuningSchema.parse({}));

  const target = input.migration
    ? await quick.loadMigration({
        migration: input.migration,
        direction: 'up',
        ...(input.database ? { database: input.database } : {}),
        ...(input.container ? { container: input.container } : {}),
      })
    : { database: input.database!, container: input.container! };
  const { database, container } = target;
  const at = input.at ?? new Date(Date.now()).toISOString();
  const account = input.account ?? defaultDrillAccount(container, Date.now());
  Object.assign(status, { database, container, account, at });

  await long.waitForRestorableTimestamp.executeWithOptions({ summary: `wait for a restorable ${at}` }, [
    { database, container, timestamp: at },
  ]);
  status.phase = 'restoring';
  const startedAt = new Date(Date.now()).toISOString();
  let finishedAt = startedAt;
  let comparison: DrillComparison | undefined;
  let failure: string | undefined;
  let notDeleted: string | undefined;
  try {
    const ready = await restore.restoreDrillAccount.executeWithOptions(
      { summary: `restore ${database}/${container} at ${at} into account ${account}` },
      [{ database, container, account, at }]
    );
    finishedAt = ready.readyAt;
    status.phase = 'comparing';
    comparison = await scan.compareDrill.executeWithOptions(
      { summary: `compare the copy in ${account} with ${database}/${container}` },
      [{ database, container, copyAccount: account, at, sampleSize: input.sampleSize }]
    );
  } catch (err) {
    if (isCancellation(err)) throw err;
    failure = failureMessage(err);
  } finally {
    // The copy costs money and holds data: it goes whatever happened, also when the drill is cancelled. The activity
    // deletes only the copy this drill asked for; an account of that name that is something else is left alone.
    status.phase = 'cleaning-up';
    await CancellationScope.nonCancellable(() =>
      arm.deleteDrillAccount.executeWithOptions({ summary: `delete the drill account ${account}` }, [{ account, at }])
    ).catch((err: unknown) => {
      if (isCancellation(err)) throw err;
      notDeleted = failureMessage(err);
    });
  }
  const mismatches = [
    ...(failure ? [`the drill did not complete: ${failure}`] : (comparison?.mismatches ?? [])),
    ...(notDeleted ? [`the drill account was not deleted: ${notDeleted}`] : []),
  ];
  const record = await quick.recordDrill({
    database,
    container,
    at,
    copyAccount: account,
    startedAt,
    finishedAt,
    documents: comparison?.count.copy ?? 0,
    ok: mismatches.length === 0,
    mismatches,
    workflowId: workflowInfo().workflowId,
  });
  status.phase = 'recorded';
  status.record = record;
  if (!record.ok) {
    const named = mismatches.slice(0, NAMED_MISMATCHES).join('; ');
    const more = mismatches.length > NAMED_MISMATCHES ? ` (and ${mismatches.length - NAMED_MISMATCHES} more)` : '';
    throw ApplicationFailure.nonRetryable(
      `restore drill of ${database}/${container} at ${at} failed: ${named}${more}`,
      ErrorType.DrillFailed,
      record
    );
  }
  return record;
}

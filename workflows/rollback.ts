/**
 * rollbackRunbook: the seed's "Rollback procedures" as a child workflow of the runbook (its own history, its own
 * entry in the UI): stop the application → undo (a `down` migration, or a point-in-time restore to T0) → verify the
 * rollback → restart the application. It never throws for a failed step: it returns what went wrong, and the parent
 * decides (phase `rollback-failed`, operator decision).
 */
import type { Duration } from '@temporalio/common';
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  defineSignal,
  getExternalWorkflowHandle,
  setHandler,
} from '@temporalio/workflow';
import type {
  ContainerExport,
  ContainerStepsResult,
  Direction,
  MigrationCounters,
  MigrationInfo,
  Snapshot,
} from '../common/activities';
import { abortSignal, approveSignal, type ApproveArgs } from './messages';
import { runbookActivities } from './activities';
import { addCounters, zeroCounters } from '../common/counters';
import { migrateAllRanges } from './ranges';
import type { RollbackMode } from './state';
import type { RunbookTuning } from '../common/tuning';

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
  ruBudget?: number;
  concurrency: number;
  maxFailures: number;
  verifySampleSize: number;
  requireRestoreApproval: boolean;
  approvalTimeout: Duration;
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
}

/** What the rollback is doing now, sent to the parent so its `status` query can say it. */
export interface RollbackProgress {
  step: string;
  awaitingRestoreApproval?: boolean;
}
export const rollbackProgressSignal = defineSignal<[RollbackProgress]>('rollbackProgress');

export async function rollbackRunbook(input: RollbackInput): Promise<RollbackResult> {
  const { migration } = input;
  const ref = { database: migration.database, container: migration.container };
  const where = `${ref.database}/${ref.container}`;
  const reverse: Direction = input.direction === 'up' ? 'down' : 'up';
  const { quick, long, arm } = runbookActivities(input.tuning);
  const hookArgs = { migrationId: migration.id, workflowId: input.parentWorkflowId };
  const result: RollbackResult = { mode: input.mode, ok: false, problems: [], steps: [], counters: zeroCounters() };

  let decision: { approved: ApproveArgs } | { aborted: string } | undefined;
  setHandler(approveSignal, (args) => void (decision ??= { approved: args ?? {} }));
  setHandler(abortSignal, (args) => void (decision ??= { aborted: args?.reason ?? 'aborted' }));

  const parent = getExternalWorkflowHandle(input.parentWorkflowId);
  async function step(name: string, extra: Partial<RollbackProgress> = {}): Promise<void> {
    result.steps.push(name);
    // Best effort: the parent's status is a convenience, the child's own history is the record.
    await parent.signal(rollbackProgressSignal, { step: name, ...extra }).catch(() => undefined);
  }

  async function undoContainerSteps(): Promise<void> {
    const steps = input.steps;
    if (!steps?.applied.length) return;
    if (steps.previous === null) {
      await step(`delete container ${where} (created by the migration)`);
      await arm.deleteContainer.executeWithOptions({ summary: `delete ${where} (created by the migration)` }, [ref]);
    } else {
      await step('put back the container properties the migration changed');
      await arm.reapplyContainerProperties.executeWithOptions({ summary: `restore properties of ${where}` }, [
        { exported: steps.previous },
      ]);
    }
  }

  async function rollbackByDown(): Promise<void> {
    const createdByRun = input.steps?.previous === null;
    if (migration.migratesDocuments && !createdByRun) {
      const hasReverse = reverse === 'down' ? migration.hasDown : migration.hasUp;
      if (!hasReverse)
        throw ApplicationFailure.nonRetryable(`migration ${migration.id} has no ${reverse}()`, 'RollbackImpossible');
      await step(`migrate documents ${reverse}`);
      const ranges = await quick.listFeedRanges.executeWithOptions({ summary: `list feed ranges of ${where}` }, [ref]);
      const outcome = await migrateAllRanges({
        long,
        ranges: ranges.map((feedRange) => ({ feedRange, done: false, counters: zeroCounters() })),
        base: {
          ...ref,
          migration: migration.id,
          checksum: migration.checksum,
          direction: reverse,
          batchSize: input.batchSize,
          dryRun: false,
          maxPages: input.tuning.maxPagesPerActivity,
        },
        ruBudget: input.ruBudget,
        concurrency: input.concurrency,
        failureAllowance: () => input.maxFailures - result.counters.failed,
        onResult: (c) => (result.counters = addCounters(result.counters, c)),
        listRanges: () =>
          quick.listFeedRanges.executeWithOptions({ summary: `list feed ranges of ${where} again` }, [ref]),
      });
      if (outcome.error) throw outcome.error;
      await step(`verify documents are back at ${reverse === 'down' ? 'fromVersion' : 'toVersion'}`);
      const verification = await quick.verifyMigration.executeWithOptions(
        { summary: `verify ${reverse} of ${where}` },
        [
          {
            ...ref,
            migration: migration.id,
            checksum: migration.checksum,
            direction: reverse,
            sampleSize: input.verifySampleSize,
          },
        ]
      );
      if (!verification.ok) result.problems.push(...verification.problems);
    }
    await undoContainerSteps();
  }

  async function rollbackByRestore(): Promise<void> {
    // A container the run created did not exist at T0: nothing to restore, undoing the steps deletes it.
    if (input.exported === null || input.steps?.previous === null) {
      await undoContainerSteps();
      return;
    }
    const { snapshot, exported } = input;
    if (!snapshot || !exported) {
      throw ApplicationFailure.nonRetryable(
        `no snapshot of ${where} was taken: a restore has no T0`,
        'RestoreImpossible'
      );
    }
    await step(`wait until ${where} is restorable at T0 ${snapshot.t0}`);
    await long.waitForRestorableTimestamp.executeWithOptions({ summary: `wait for a restorable ${snapshot.t0}` }, [
      { ...ref, timestamp: snapshot.t0 },
    ]);
    if (input.requireRestoreApproval) {
      await step('wait for approval to delete and restore the container', { awaitingRestoreApproval: true });
      const decided = await condition(() => decision !== undefined, input.approvalTimeout, {
        summary: `approval of the restore of ${where}`,
      });
      if (!decided)
        throw ApplicationFailure.nonRetryable(
          `the restore of ${where} was not approved within ${input.approvalTimeout}`,
          'RestoreNotApproved'
        );
      if (decision && 'aborted' in decision) {
        throw ApplicationFailure.nonRetryable(
          `the restore of ${where} was refused: ${decision.aborted}`,
          'RestoreNotApproved'
        );
      }
      result.approvedBy = decision && 'approved' in decision ? decision.approved.by : undefined;
    }
    await step(`delete ${where}`);
    await arm.deleteContainer.executeWithOptions({ summary: `delete ${where} before the restore` }, [ref]);
    await step(`restore ${where} to ${snapshot.t0}`);
    await long.restoreContainer.executeWithOptions({ summary: `restore ${where} to ${snapshot.t0}` }, [
      { ...ref, timestamp: snapshot.t0 },
    ]);
    await step('re-apply the exported container properties');
    await arm.reapplyContainerProperties.executeWithOptions({ summary: `re-apply properties of ${where}` }, [
      { exported },
    ]);
    await step('verify the restored container against the snapshot');
    const verification = await quick.verifyRestore.executeWithOptions({ summary: `verify the restore of ${where}` }, [
      { snapshot, exported },
    ]);
    result.problems.push(...verification.problems);
  }

  // Whatever happens to the parent (cancel, terminate of the caller's scope), a started rollback runs to its end.
  await CancellationScope.nonCancellable(async () => {
    try {
      await step('stop the application');
      await long.runHook.executeWithOptions({ summary: 'stop-app hook' }, [{ hook: 'stop-app', ...hookArgs }]);
      if (input.mode === 'down') await rollbackByDown();
      else await rollbackByRestore();
      if (result.problems.length) return; // leave the application stopped: the data is not verified
      await step('start the application');
      await long.runHook.executeWithOptions({ summary: 'start-app hook' }, [{ hook: 'start-app', ...hookArgs }]);
      result.ok = true;
    } catch (err) {
      result.problems.push(describe(err));
    }
  });
  await step(result.ok ? 'rollback verified' : 'rollback failed');
  return result;
}

/** The innermost message of an activity/child failure: what the operator needs, not the wrapping. */
export function describe(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  while (e?.cause && (e.cause as { message?: string }).message) e = e.cause as typeof e;
  return e?.message ?? String(err);
}

/**
 * Rolling back (the manual runbook's rollback procedures): the rollbackRunbook child (workflows/rollback/runbook.ts) does the work in
 * its own history; this phase starts it, follows it, and when it fails waits for the operator: `rollback` tries
 * again, `resume` ends the run as rollback-failed (the operator took over).
 */
import type { Duration } from '@temporalio/common';
import {
  CancellationScope,
  ChildWorkflowFailure,
  ParentClosePolicy,
  condition,
  executeChild,
} from '@temporalio/workflow';
import { zeroCounters } from '../../common/counters';
import { failureMessage } from '../../common/failure-message';
import { rollbackRunbook, type RollbackInput, type RollbackResult } from './runbook';
import type { Run } from '../run/run';
import type { RunEnd } from '../run/transition';
import { budgetOf, concurrencyOf } from '../state';
import { copyRollbackInput } from '../copy/state';

export async function rollBack(run: Run, firstReason: string): Promise<RunEnd> {
  const { state, inbox } = run;
  let reason = firstReason;
  for (;;) {
    const result = await runRollbackChild(run, reason);
    inbox.rollbackEnded();
    state.rollback.outcome = {
      mode: result.mode,
      reason,
      ok: result.ok,
      problems: result.problems,
      ...(result.discardedWrites !== undefined ? { discardedWrites: result.discardedWrites } : {}),
      ...(result.restoredDeletes !== undefined ? { restoredDeletes: result.restoredDeletes } : {}),
      ...(result.errorType ? { errorType: result.errorType } : {}),
      ...(result.keptContainer ? { keptContainer: result.keptContainer } : {}),
      ...(result.revert
        ? {
            revert: {
              reverted: result.revert.reverted,
              down: result.revert.down,
              conflicts: result.revert.conflicts,
              unchanged: result.revert.unchanged,
            },
            conflicts: result.conflicts ?? [],
            ...(result.conflictsAcceptedBy !== undefined ? { conflictsAcceptedBy: result.conflictsAcceptedBy } : {}),
          }
        : {}),
    };
    if (result.approvedBy) state.gates.approvals.push({ by: result.approvedBy, at: run.now(), for: 'restore' });
    if (result.ok) return { phase: 'rolled-back', status: 'rolled-back', reason };
    const failure = `rollback by ${result.mode} failed: ${result.problems.join('; ')}`;
    state.lastError = failure;
    inbox.ask({ kind: 'operator', signals: ['rollback', 'resume'], reason: failure });
    await run.enterPhase('rollback-failed', failure, 'error');
    await condition(() => inbox.resumeRequested || inbox.rollbackRequested);
    inbox.stopAsking();
    const again = inbox.takeRollback();
    if (again === undefined) {
      // The operator took over: the run ends, and says it did not succeed.
      return {
        phase: 'rollback-failed',
        status: 'rollback-failed',
        reason: `${failure}; the operator took over (resume)`,
      };
    }
    reason = again;
  }
}

/** One attempt: the child runs to its end whatever happens to this scope; its failure is a result, not a throw. */
async function runRollbackChild(run: Run, reason: string): Promise<RollbackResult> {
  const { state, options, inbox } = run;
  state.rollback.attempts += 1;
  const childId = `${run.workflowId}/rollback-${state.rollback.attempts}`;
  inbox.rollbackStarted(childId);
  await run.enterPhase('rolling-back', `${reason} (by ${state.rollback.mode})`, 'warning');
  const input: RollbackInput = {
    parentWorkflowId: run.workflowId,
    migration: state.migration,
    direction: options.direction,
    mode: state.rollback.mode,
    reason,
    snapshot: state.snapshot,
    exported: state.exported,
    steps: state.steps,
    batchSize: options.batchSize,
    ruBudget: budgetOf(state),
    concurrency: concurrencyOf(state),
    priorityBased: state.backup?.priorityBasedExecution === true,
    downProved: state.migration.hasDown && state.plan?.roundTrip !== undefined && state.plan.roundTrip.mismatched === 0,
    maxFailures: options.maxFailures,
    verifySampleSize: options.verifySampleSize,
    requireRestoreApproval: options.approval.requiredForRestore,
    approvalTimeout: options.approval.timeout as Duration,
    allowRestoreWithoutAppStop: options.allowRestoreWithoutAppStop,
    migratedDocuments: state.migrating.counters.migrated,
    ...(state.rollback.preimagesContainer ? { preimagesContainer: state.rollback.preimagesContainer } : {}),
    ...(state.copy ? { copy: copyRollbackInput(state.copy) } : {}),
    tuning: state.tuning,
  };
  try {
    return await CancellationScope.nonCancellable(() =>
      executeChild(rollbackRunbook, {
        workflowId: childId,
        args: [input],
        staticSummary: `rollback of ${state.migration.id} by ${state.rollback.mode}`,
        // A started rollback runs to its end even when this run is terminated (by an operator, a run timeout, the
        // history limit): Temporal's default, TERMINATE, would kill it between the delete and the restore.
        parentClosePolicy: ParentClosePolicy.ABANDON,
      })
    );
  } catch (err) {
    const message = err instanceof ChildWorkflowFailure ? failureMessage(err) : String(err);
    return { mode: state.rollback.mode, ok: false, problems: [message], steps: [], counters: zeroCounters() };
  }
}

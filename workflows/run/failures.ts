/**
 * After the first write, a failure pauses the run; it never ends it (docs/runbook.md, "Failures"). An activity or a
 * child that failed for good (its retries spent, or a non-retryable failure such as a changed module) in any phase
 * that writes or checks what was written (migrating, verifying, monitoring) puts the run in `paused` with the reason,
 * the lease kept: `resume` runs the phase again, `rollback` undoes what was written. Ending the run instead would leave
 * a half-migrated container with no lease, no rollback possible and no history record.
 */
import { ActivityFailure, ChildWorkflowFailure, isCancellation } from '@temporalio/workflow';
import { failureMessage } from '../../common/failure-message';
import { rollingBack } from '../phases/migrate';
import type { Run } from './run';
import type { Transition } from './transition';

/** The phases whose failures pause the run (the first write happens in migrating). */
export type WritingPhase = 'migrating' | 'catching-up' | 'verifying' | 'monitoring';

/** A failure of something the workflow called (an activity, a child): what a pause is for. Anything else is a bug. */
function isStepFailure(err: unknown): err is ActivityFailure | ChildWorkflowFailure {
  return (err instanceof ActivityFailure || err instanceof ChildWorkflowFailure) && !isCancellation(err);
}

/** Runs `phase`; when a step in it fails, pauses until the operator resumes (the phase again) or rolls back. */
export async function pausingOnFailure(
  run: Run,
  phase: WritingPhase,
  body: () => Promise<Transition>
): Promise<Transition> {
  for (;;) {
    try {
      return await body();
    } catch (err) {
      if (!isStepFailure(err)) throw err;
      const reason = `${phase} failed: ${failureMessage(err)}`;
      // Continued as new while paused, a run paused in monitoring resumes by verifying again, then monitors.
      const decision = await run.pause(
        reason,
        phase === 'migrating' || phase === 'catching-up' ? 'migrating' : 'verifying',
        'error'
      );
      if (decision === 'rollback') return rollingBack(run, reason);
      if (decision === 'continue-as-new') return { to: 'continue-as-new' };
      // verify() and monitor() enter their phase themselves; migrating is entered by the snapshot before it.
      if (phase === 'migrating' || phase === 'catching-up') await run.enterPhase(phase, 'resumed after a failure');
    }
  }
}

/**
 * How a phase hands over: the next phase, a rollback, continue-as-new, or the end of the run. A phase never throws to
 * end a run; the runbook (workflows/runbook.ts) reads the transition, so a try/catch inside a phase cannot swallow it.
 */
/** The ways a run ends, each with the phase it ends in and the status it records. */
export type RunEnd =
  | { phase: 'completed'; status: 'completed' | 'dry-run'; reason?: string }
  | { phase: 'aborted'; status: 'aborted'; reason: string }
  | { phase: 'rolled-back'; status: 'rolled-back'; reason: string }
  | { phase: 'rollback-failed'; status: 'rollback-failed'; reason: string }
  /** Preflight refused: the run is recorded, then the workflow fails with a non-retryable PreflightFailed. */
  | { phase: 'failed'; status: 'failed'; reason: string };

export type Transition =
  | { to: 'awaiting-approval' | 'snapshot' | 'migrating' | 'catching-up' | 'verifying' | 'monitoring' }
  /** The reason is the operator's (a rollback signal) when one came first, else the phase's own. */
  | { to: 'rolling-back'; reason: string }
  | { to: 'continue-as-new' }
  | { to: 'end'; end: RunEnd };

export const end = (e: RunEnd): Transition => ({ to: 'end', end: e });

/** Ends the run before anything was written. */
export const aborted = (reason: string): Transition => end({ phase: 'aborted', status: 'aborted', reason });

/** The level a phase change is notified at. */
export function endLevel(e: RunEnd): 'info' | 'warning' {
  return e.status === 'completed' || e.status === 'dry-run' ? 'info' : 'warning';
}

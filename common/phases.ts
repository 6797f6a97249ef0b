/** The runbook's phases (docs/architecture.md §2), as shown in the `MigrationPhase` search attribute and the `status` query. */
export const PHASES = [
  'preflight',
  'awaiting-approval',
  'snapshot',
  'migrating',
  /** Following the change feed after the backfill until the cutover (docs/runbook.md, "Online migrations"). */
  'catching-up',
  'verifying',
  'monitoring',
  'completed',
  'paused',
  'rolling-back',
  'rolled-back',
  'rollback-failed',
  'aborted',
  'failed',
] as const;

export type Phase = (typeof PHASES)[number];

/** Phases in which the run has ended. */
export const FINAL_PHASES: readonly Phase[] = ['completed', 'rolled-back', 'aborted', 'failed'];

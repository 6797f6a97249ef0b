/**
 * The names of the failures the runbook raises (ApplicationFailure types), named once. Workflow code, activities and
 * tests compare against these constants, never against string literals, so a rename cannot leave one side behind.
 * Pure: imported by workflow code too (docs/architecture.md §10).
 */
export const ErrorType = {
  /** The workflow input does not validate; the message names the field. */
  InvalidInput: 'InvalidInput',
  /** Another run holds the container's lease. */
  ContainerBusy: 'ContainerBusy',
  /** A container a step or a restore would create exists already. */
  ContainerExists: 'ContainerExists',
  /** A container the migration created holds documents nobody approved deleting: it was kept. */
  ContainerInUse: 'ContainerInUse',
  /** A migration module cannot be loaded or is invalid. */
  MigrationInvalid: 'MigrationInvalid',
  /** More documents failed than `maxFailures`; details: [MigrationCounters, DocumentFailure[]]. */
  FailureThresholdExceeded: 'FailureThresholdExceeded',
  /** The worker's copy of the module differs from the approved one: the run pauses (resume once workers agree). */
  MigrationChanged: 'MigrationChanged',
  /** A preflight check failed (backup policy, restore window, ...). */
  PreflightFailed: 'PreflightFailed',
  /** Azure cannot restore what a rollback would need restored. */
  RestoreImpossible: 'RestoreImpossible',
  /**
   * The account has an operation in progress (ARM's `provisioningState` is not `Succeeded`: a failover, a region
   * change, an update): nothing was deleted; roll back again once it has ended.
   */
  AccountOperationInProgress: 'AccountOperationInProgress',
  /** The module has no reverse transform for a rollback by `down`. */
  RollbackImpossible: 'RollbackImpossible',
  /** A stop-app / start-app hook failed (retried). */
  HookFailed: 'HookFailed',
  /**
   * This worker's HOOKS_CONFIG has another stop-app / start-app hook than the one the run recorded when it decided on
   * it: the worker refuses to run it (retried, so a worker configured as recorded runs it).
   */
  HooksConfigMismatch: 'HooksConfigMismatch',
  /** A notification could not be delivered (retried). */
  NotifyFailed: 'NotifyFailed',
  /** A feed range no longer matches one physical partition (it split): list the ranges again. */
  FeedRangeSplit: 'FeedRangeSplit',
  /** An in-place restore was not approved (refused or timed out): nothing was deleted. */
  RestoreNotApproved: 'RestoreNotApproved',
  /** An in-place restore needs a stop-app hook (or allowRestoreWithoutAppStop): nothing was deleted. */
  RestoreNotAllowed: 'RestoreNotAllowed',
  /** A restored container that differs from T0 was not accepted by the operator. */
  RestoreNotAccepted: 'RestoreNotAccepted',
  /** The worker's COSMOS_RUNBOOK_ALLOWED_CONTAINERS does not name the container: nothing was read or changed. */
  ContainerNotAllowed: 'ContainerNotAllowed',
  /** Too many writers raced for a lease (retried). */
  LeaseContention: 'LeaseContention',
  /** The operator did not approve deleting a container the migration created, which holds documents. */
  ContainerDeleteNotApproved: 'ContainerDeleteNotApproved',
  /** A restore drill's copy did not match the live container (the drill is recorded as failed). */
  DrillFailed: 'DrillFailed',
} as const;
export type ErrorType = (typeof ErrorType)[keyof typeof ErrorType];

/** Failures no retry can fix: activities fail at once with these, and the workflow decides what to do next. */
export const NON_RETRYABLE_ERROR_TYPES: readonly ErrorType[] = [
  ErrorType.MigrationInvalid,
  ErrorType.FailureThresholdExceeded,
  ErrorType.InvalidInput,
  ErrorType.ContainerBusy,
  ErrorType.ContainerExists,
  ErrorType.ContainerInUse,
  ErrorType.RestoreImpossible,
  ErrorType.AccountOperationInProgress,
  ErrorType.ContainerNotAllowed,
  ErrorType.MigrationChanged,
];

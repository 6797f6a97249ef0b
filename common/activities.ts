/**
 * The contract between the runbook workflow and its activities: every activity's input and output.
 * Workflows import only these types (docs/architecture.md §3); `activities/` implements `RunbookActivities`.
 * Nothing here may carry document contents: ids, partition keys, counts, tokens and properties only.
 */
import { ErrorType } from './errors';
import type { ContainerSteps, Relationship } from './migration';

export type Direction = 'up' | 'down';
export type BackupTier = 'Continuous7Days' | 'Continuous30Days';

export interface ContainerRef {
  database: string;
  container: string;
}

/** What the workflow needs to know of a migration module (its functions stay in the worker). */
export interface MigrationInfo extends ContainerRef {
  id: string;
  description: string;
  /** sha256 of the module's source file, hex. */
  checksum: string;
  versionField: string;
  fromVersion?: number | string;
  toVersion?: number | string;
  hasUp: boolean;
  hasDown: boolean;
  hasVerify: boolean;
  /** true when the module transforms documents (has `up` or `down`). */
  migratesDocuments: boolean;
  relationships: Relationship[];
  /** Container steps, as plain JSON; absent when the module has none. */
  containerSteps?: ContainerSteps;
}

export interface LoadMigrationInput {
  migration: string;
  direction: Direction;
  /** Overrides from the workflow input. */
  database?: string;
  container?: string;
}

export interface BackupPolicyReport {
  type: 'Periodic' | 'Continuous';
  /** For Continuous; a missing tier on the wire is read as Continuous30Days. */
  tier?: BackupTier;
  meetsMinimum: boolean;
  /** Why the policy does not meet the minimum, in words. */
  reason?: string;
  /** ISO time; the earliest point a restore can go back to. */
  oldestRestorableTime?: string;
  /** The restorable account's ARM id (restore source). */
  restoreSource?: string;
  location?: string;
}

/** The container's definition as ARM reports it: the seed runbook's `backup-state.json`. */
export interface ContainerExport extends ContainerRef {
  /** ARM `resource` fields: partitionKey, indexingPolicy, uniqueKeyPolicy, defaultTtl, conflictResolutionPolicy, ... (no `_` system fields). */
  resource: Record<string, unknown>;
  /** Dedicated throughput, when the container has its own. */
  throughput?: number;
  exportedAt: string;
}

export interface DocumentFailure {
  id: string;
  /** The partition key value, as JSON. */
  partitionKey: unknown;
  error: string;
}

export interface MigrationCounters {
  scanned: number;
  migrated: number;
  skipped: number;
  failed: number;
  /** Writes that hit a 412 (the application changed the document meanwhile) and were re-read and re-transformed. */
  conflicts: number;
  /** Request units consumed, from the response charges. */
  ruConsumed: number;
}

export interface MigrationPlan {
  totalDocuments: number;
  documentsToMigrate: number;
  sample: {
    size: number;
    wouldChange: number;
    wouldSkip: number;
    failures: DocumentFailure[];
    averageDocumentBytes: number;
    /** RU per replace, measured from real response charges where possible. */
    ruPerWrite: number;
    ruPerRead: number;
  };
  /** At the RU budget (or unthrottled, when none). */
  estimatedSeconds: number;
  ruBudget?: number;
}

export interface PlanInput extends ContainerRef {
  migration: string;
  direction: Direction;
  sampleSize: number;
  ruBudget?: number;
}

export interface Snapshot {
  /** Restore point T0, ISO, from the server's clock, before the first write. */
  t0: string;
  documentCount: number;
  countsByVersion: Record<string, number>;
}

export interface MigrateRangeInput extends ContainerRef {
  migration: string;
  direction: Direction;
  /** A feed range as returned by `listFeedRanges` (serialised JSON). */
  feedRange: string;
  /** Where the previous activity for this range stopped. */
  continuation?: string;
  batchSize: number;
  /** RU/s this activity may use. */
  ruBudget?: number;
  /** How many more failed documents are tolerated before the activity fails with `FailureThresholdExceeded`. */
  maxFailures: number;
  /** Transform and count, write nothing. */
  dryRun: boolean;
  /** Stop after this many pages and return the continuation, so the workflow can checkpoint. */
  maxPages?: number;
}

export interface MigrateRangeResult {
  done: boolean;
  continuation?: string;
  counters: MigrationCounters;
  /** The first failures (at most 100). */
  failures: DocumentFailure[];
  /** Observed RU/s over the activity's life. */
  ruPerSecond: number;
  /** Documents per second over the activity's life. */
  docsPerSecond: number;
}

/** Error type of the non-retryable failure thrown when `maxFailures` is passed (common/errors.ts). */
export const FAILURE_THRESHOLD_EXCEEDED = ErrorType.FailureThresholdExceeded;
/** Error type for a migration module that cannot be loaded or is invalid (common/errors.ts). */
export const MIGRATION_INVALID = ErrorType.MigrationInvalid;

export interface ContainerStepsInput extends ContainerRef {
  migration: string;
  direction: Direction;
}

export interface ContainerStepsResult {
  /** Human-readable list of what changed ("created container", "indexing policy replaced", ...); empty when nothing was needed. */
  applied: string[];
  /** The container as it was before the steps (null: it did not exist). */
  previous: ContainerExport | null;
}

export interface VerifyInput extends ContainerRef {
  migration: string;
  direction: Direction;
  sampleSize: number;
  /** Documents known to have failed their transform (recorded during the migration) that may remain unmigrated. @default 0 */
  allowedRemaining?: number;
}

export interface VerificationReport {
  ok: boolean;
  /** One line per problem found. */
  problems: string[];
  countsByVersion: Record<string, number>;
  /** Documents still not at the target version. */
  remaining: number;
  sampled: number;
  sampleFailures: DocumentFailure[];
  relationships: { name: string; rows: number }[];
  indexTransformationProgress?: number;
}

export type RunStatus = 'completed' | 'rolled-back' | 'aborted' | 'failed' | 'rollback-failed' | 'dry-run';

export interface HistoryRecord extends ContainerRef {
  migrationId: string;
  checksum: string;
  direction: Direction;
  status: RunStatus;
  startedAt: string;
  finishedAt: string;
  counters: MigrationCounters;
  workflowId: string;
  runId: string;
  t0?: string;
  /** Short reason for a non-completed status. */
  reason?: string;
  /** Container steps: the container as it was before them (null: the migration created it). */
  previous?: ContainerExport | null;
  /** Container steps applied by this run, in words (see ContainerStepsResult.applied). */
  stepsApplied?: string[];
}

export interface StagingRunQuery {
  /** The staging database whose migrations history is searched. */
  database: string;
  migrationId: string;
  checksum: string;
  direction: Direction;
}

export interface LeaseInput {
  /** What is held, e.g. `<account>/<database>/<container>`. */
  key: string;
  /** Who holds it: the workflow id. */
  holder: string;
  ttlSeconds: number;
}

export interface LeaseResult {
  acquired: boolean;
  /** The current holder, when not us. */
  holder?: string;
  expiresAt?: string;
}

export interface RestoreInput extends ContainerRef {
  /** ISO point in time. */
  timestamp: string;
}

export interface RestoreVerification {
  ok: boolean;
  problems: string[];
  documentCount: number;
}

export type HookName = 'stop-app' | 'start-app';

export interface NotifyEvent {
  migrationId: string;
  workflowId: string;
  phase: string;
  previousPhase?: string;
  level: 'info' | 'warning' | 'error';
  message: string;
}

export interface HealthReport {
  ok: boolean;
  checks: { name: string; ok: boolean; detail?: string }[];
}

/** Every activity the runbook calls. */
export interface RunbookActivities {
  loadMigration(input: LoadMigrationInput): Promise<MigrationInfo>;
  // preflight (ARM)
  checkBackupPolicy(input: { minimumTier: BackupTier }): Promise<BackupPolicyReport>;
  exportContainer(input: ContainerRef): Promise<ContainerExport | null>;
  // preflight (data plane)
  planMigration(input: PlanInput): Promise<MigrationPlan>;
  listFeedRanges(input: ContainerRef): Promise<string[]>;
  // snapshot
  takeSnapshot(input: ContainerRef & { versionField: string }): Promise<Snapshot>;
  // migrate
  applyContainerSteps(input: ContainerStepsInput): Promise<ContainerStepsResult>;
  waitForIndexTransformation(input: ContainerRef): Promise<{ progress: number }>;
  migrateRange(input: MigrateRangeInput): Promise<MigrateRangeResult>;
  // verify
  verifyMigration(input: VerifyInput): Promise<VerificationReport>;
  // record
  recordHistory(record: HistoryRecord): Promise<void>;
  /** The production gate `requireStagingRun`: a completed run of the same migration and checksum in another database. */
  checkStagingRun(input: StagingRunQuery): Promise<{ found: boolean; workflowId?: string; finishedAt?: string }>;
  // one run per container
  acquireLease(input: LeaseInput): Promise<LeaseResult>;
  renewLease(input: LeaseInput): Promise<LeaseResult>;
  releaseLease(input: Omit<LeaseInput, 'ttlSeconds'>): Promise<void>;
  // rollback by restore (ARM)
  waitForRestorableTimestamp(
    input: ContainerRef & { timestamp: string }
  ): Promise<{ latestRestorableTimestamp: string }>;
  deleteContainer(input: ContainerRef): Promise<void>;
  restoreContainer(input: RestoreInput): Promise<void>;
  verifyRestore(input: { snapshot: Snapshot; exported: ContainerExport }): Promise<RestoreVerification>;
  reapplyContainerProperties(input: { exported: ContainerExport }): Promise<{ changed: string[] }>;
  // hooks (commands and URLs come from the worker's HOOKS_CONFIG only)
  notify(event: NotifyEvent): Promise<void>;
  runHook(input: { hook: HookName; migrationId: string; workflowId: string }): Promise<{ ran: boolean }>;
  healthCheck(input: { migrationId: string; workflowId: string }): Promise<HealthReport>;
}

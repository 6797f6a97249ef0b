/**
 * The contract between the runbook workflow and its activities: every activity's input and output.
 * Workflows import only these types (docs/architecture.md §3); `activities/` implements `RunbookActivities`.
 * Nothing here may carry document contents: ids, partition keys, counts, tokens and properties only.
 */
import type { CopyActivities } from './copy';
import type { PlanCost } from './cost';
import { ErrorType } from './errors';
import type { ContainerSteps, CopyTarget, DeclaredQuery, Relationship } from './migration';
import type { RunbookStart } from './runbook-input';

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
  /** The module's declared queries, as plain JSON ([] when none; absent in runs recorded before they existed). */
  queries?: DeclaredQuery[];
  /** Container steps, as plain JSON; absent when the module has none. */
  containerSteps?: ContainerSteps;
  /** Copy mode (docs/migrations.md "Copy mode"): the module's `target`, as plain JSON; absent in place. */
  target?: CopyTarget;
}

/**
 * The module a run approved: every activity that runs its code names it by id and checksum, and a worker whose copy
 * differs refuses (MigrationChanged), so two workers with different module versions never mix transforms.
 */
export interface ModuleRef {
  migration: string;
  /** sha256 of the module the run loaded in preflight; absent in runs recorded before it travelled. */
  checksum?: string;
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
  /**
   * The account's `enablePriorityBasedExecution`: Azure then throttles the migration's Low-priority requests before
   * the application's, so the RU budget may follow the work onto fewer partitions (workflows/budget-share.ts).
   * Absent in runs recorded before it was read.
   */
  priorityBasedExecution?: boolean;
  /** ISO time; the earliest point a restore can go back to. */
  oldestRestorableTime?: string;
  /** The restorable account's ARM id (restore source). */
  restoreSource?: string;
  location?: string;
}

/** The container's definition as ARM reports it: the manual runbook's `backup-state.json`. */
export interface ContainerExport extends ContainerRef {
  /** ARM `resource` fields: partitionKey, indexingPolicy, uniqueKeyPolicy, defaultTtl, conflictResolutionPolicy, ... (no `_` system fields). */
  resource: Record<string, unknown>;
  /**
   * Dedicated throughput, when the container has its own: manual RU/s, or with autoscale the RU/s it runs at when
   * exported (ARM's `throughput` next to `autoscaleSettings`).
   */
  throughput?: number;
  /** Autoscale's maximum RU/s (ARM `autoscaleSettings.maxThroughput`), when the dedicated throughput is autoscale. */
  autoscaleMaxThroughput?: number;
  /**
   * Stored procedures, triggers and user-defined functions, which a point-in-time restore does not bring back: read in
   * preflight (exportContainer with `scripts: true`), re-created after an in-place restore. Their bodies are the
   * application's code, never document values.
   */
  scripts?: ContainerScripts;
  exportedAt: string;
}

/** A container's server-side scripts as the data plane returns them (system fields dropped). */
export interface ContainerScripts {
  storedProcedures: { id: string; body: string }[];
  triggers: { id: string; body: string; triggerType: string; triggerOperation: string }[];
  userDefinedFunctions: { id: string; body: string }[];
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
  /**
   * Documents the final pass found back at the old version (written by the application at the old version after the
   * scan passed them, or created by it at the old version), migrated again or left for verification to report when
   * the bounded final pass ran out of passes. Absent: none were counted (older results).
   */
  rewrittenByApp?: number;
}

export interface MigrationPlan {
  totalDocuments: number;
  documentsToMigrate: number;
  /**
   * Documents already at the version this direction leads to (up: `toVersion`) before the run writes anything: an
   * earlier run's (a cancelled or failed one), or the application's. They are part of the state at T0, so neither a
   * restore nor pre-images take them back. Absent for a container the run creates, or in plans made before it was counted.
   */
  documentsAtTarget?: number;
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
  /** At the RU budget (or unthrottled, when none); with pre-images, their writes count against the budget too. */
  estimatedSeconds: number;
  ruBudget?: number;
  /** RU of the run by part (reads, writes, pre-images, verification) and in total (common/cost.ts). */
  cost?: PlanCost;
  /** What rewriting the documents does besides changing them (change feed, _ts, TTL, _etag). */
  sideEffects?: string[];
  /**
   * `down(up(doc))` on the sample, compared with the document (system fields ignored; a missing version field and
   * `fromVersion` count as equal): present when the module has both `up` and `down` and the plan is for `up`.
   * `checked`: sample documents `up` changed; `mismatches`: the first 20 whose round trip differs, with the names of
   * the differing top-level fields (never their values); `mismatched`: how many differ in all.
   */
  roundTrip?: RoundTripCheck;
  /**
   * Field paths (dot paths, names only, never values) that `up` adds, removes or changes the JSON type of on the
   * sample (schema-diff.ts `schemaChanges`); absent when nothing was transformed.
   */
  schema?: SchemaChanges;
}

/** See common/schema-diff.ts. */
export interface SchemaChanges {
  added: string[];
  removed: string[];
  changed: string[];
}

export interface RoundTripCheck {
  checked: number;
  mismatched: number;
  mismatches: { id: string; fields: string[]; error?: string }[];
}

export interface PlanInput extends ContainerRef, ModuleRef {
  direction: Direction;
  sampleSize: number;
  ruBudget?: number;
  /** The run will keep pre-images (its cost counts their writes). @default false */
  preimages?: boolean;
  /** Documents verification reads one by one. @default 200 */
  verifySampleSize?: number;
}

export interface Snapshot {
  /** Restore point T0, ISO, from the server's clock, before the first write. */
  t0: string;
  /** Documents the count found. The count runs just after T0 while the application may still write, so this is the state at `countedAt`, not exactly at T0: see `changedSinceT0`. */
  documentCount: number;
  countsByVersion: Record<string, number>;
  /**
   * Of `documentCount`, documents whose `_ts` was at or after T0 when counted: created or changed by the application
   * between T0 and the count. Each may or may not have existed at T0, so the state at T0 held between
   * `documentCount - changedSinceT0` and `documentCount` documents (plus any deleted between T0 and the count, which
   * no count can see). Absent in snapshots taken before this field existed (read as 0).
   */
  changedSinceT0?: number;
  /** ISO; when the count finished (the worker's clock). */
  countedAt?: string;
  /**
   * A continuation of the container's all-versions-and-deletes change feed taken just before T0, from which the
   * restore's consent counts the documents deleted since (activities/cosmos/deletes-since.ts). Absent when the account
   * does not offer the mode (no continuous backup) or in snapshots taken before it existed.
   */
  deletesFeed?: string;
}

/**
 * RU a range's activity still owed its budget when it stopped, and when (ms since epoch): the range's next activity
 * (a retry, a resume, a new share) starts owing it, paid back at its own rate (activities/cosmos/ru-budget.ts).
 */
export interface RuDebt {
  ru: number;
  at: number;
}

/** Documents of a container by version (keys as in Snapshot.countsByVersion), and in all. */
export interface VersionCounts {
  countsByVersion: Record<string, number>;
  total: number;
}

export interface MigrateRangeInput extends ContainerRef, ModuleRef {
  direction: Direction;
  /** A feed range as returned by `listFeedRanges` (serialised JSON). */
  feedRange: string;
  /** Where the previous activity for this range stopped. */
  continuation?: string;
  batchSize: number;
  /** RU/s this activity may use. */
  ruBudget?: number;
  /** RU the range's previous activity still owed when it stopped (its result's `ruDebt`): this one starts owing it. */
  ruDebt?: RuDebt;
  /** How many more failed documents are tolerated before the activity fails with `FailureThresholdExceeded`. */
  maxFailures: number;
  /** Transform and count, write nothing. */
  dryRun: boolean;
  /** Stop after this many pages and return the continuation, so the workflow can checkpoint. */
  maxPages?: number;
  /**
   * Before each replace, store the document as it was in the pre-images container (`ensurePreimagesContainer`,
   * which must have run), for `revertFromPreimages`. Direction `up` only; a dry run writes none. @default false
   */
  preimages?: boolean;
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
  /** With `preimages`: pre-images upserted (one per replaced document, plus one per 412 re-read that was retried). */
  preimagesWritten?: number;
  /** RU still owed to the budget when the activity stopped: the range's next activity starts owing it. */
  ruDebt?: RuDebt;
}

/**
 * catchUpRange: one feed range's change feed (latest-version mode) followed from `continuation`, or from `startTime`
 * (the backfill's T0), migrating every document it sees still in the old shape through the same engine as
 * migrateRange (ETag-conditioned bulk writes, pre-images, the RU budget). It returns once the feed's head is reached
 * (`done`), or after `maxSeconds` with its continuation, so the workflow checkpoints it.
 */
export interface CatchUpInput extends ContainerRef, ModuleRef {
  feedRange: string;
  /** The change feed's continuation from the range's last catch-up activity. */
  continuation?: string;
  /** ISO: where the feed starts without a continuation (T0: everything the application wrote since the backfill began). */
  startTime: string;
  batchSize: number;
  ruBudget?: number;
  ruDebt?: RuDebt;
  maxFailures: number;
  preimages?: boolean;
  /** Stop following and return after this long even when the head is not reached. @default 60 */
  maxSeconds?: number;
}

export interface CatchUpResult {
  /** The head of the feed was reached: nothing older is left unread. */
  done: boolean;
  continuation?: string;
  counters: MigrationCounters;
  failures: DocumentFailure[];
  /** Documents seen in the old shape (each migrated, failed or skipped by the transform). */
  oldShapeSeen: number;
  /** ISO: when the last old-shape document was seen by this activity. */
  lastOldShapeAt?: string;
  /** How far behind the feed's head the last page read was (its newest `_ts` to now); 0 at the head. */
  secondsBehind: number;
  ruDebt?: RuDebt;
}

/** The pre-images container of `container`: `<container>-preimages` in the same database, same partition key. */
export interface PreimagesContainerResult {
  name: string;
  /** false when it already existed. */
  created: boolean;
}

/** Where revertFromPreimages takes each document as it was before the migration (its base) from. */
export type RevertSource =
  | { kind: 'preimages' }
  /** A copy of the container restored at T0 (side-by-side restore); base = its document with the same id and key. */
  | { kind: 'container'; database: string; container: string };

/** `migration` (and the approved `checksum`) names the module whose `up` is reverted: its transform recomputes what the migration wrote. */
export interface RevertInput extends ContainerRef, ModuleRef {
  source: RevertSource;
  /** A feed range of the LIVE container (its documents at toVersion are reverted), from `listFeedRanges`. */
  feedRange: string;
  /**
   * The module's down() is proved on the plan's sample (`down(up(doc))` = doc): documents the application changed,
   * re-created or created are given back by `down(live)` instead of being left and named as conflicts.
   */
  down?: boolean;
  /** Where the previous activity for this range stopped. */
  continuation?: string;
  /** Live documents per page. @default 100 */
  batchSize?: number;
  /** RU/s this activity may use. */
  ruBudget?: number;
  /** RU the range's previous activity still owed (its result's `ruDebt`). */
  ruDebt?: RuDebt;
  /** Stop after this many pages and return the continuation. */
  maxPages?: number;
}

export interface RevertCounters {
  /** Live documents at toVersion read. */
  scanned: number;
  /** Documents unchanged since the migration wrote them, replaced by their base (pre-image). */
  reverted: number;
  /** Documents the application changed, re-created or created, given back by the module's proved down(). */
  down: number;
  /** Documents left exactly as the application wrote them, at toVersion, and named (`RevertConflict`). */
  conflicts: number;
  /** Documents with nothing to revert any more when written: deleted, or moved off toVersion, meanwhile. */
  unchanged: number;
  /** Documents that could not be reverted (listed in `failures`); each is left as it is. */
  failed: number;
  ruConsumed: number;
}

export interface RevertConflict {
  id: string;
  /** The partition key value, as JSON. */
  partitionKey: unknown;
  /**
   * Why it was left as the application wrote it (never its contents): `changed` since the migration wrote it,
   * `recreated` (deleted and created again under the same id), or `created` by the application (no pre-image).
   */
  reason: 'changed' | 'recreated' | 'created';
}

export interface RevertResult {
  done: boolean;
  continuation?: string;
  counters: RevertCounters;
  /** The first 100 documents with conflicts (the counter counts all). */
  conflicts: RevertConflict[];
  /** The first 100 failures. */
  failures: DocumentFailure[];
  /** RU still owed to the budget when the activity stopped. */
  ruDebt?: RuDebt;
}

/** Error type when a feed range no longer matches one physical partition (it split): list the ranges again. */
export const FEED_RANGE_SPLIT = ErrorType.FeedRangeSplit;

/** Error type of the non-retryable failure thrown when `maxFailures` is passed (common/errors.ts). */
export const FAILURE_THRESHOLD_EXCEEDED = ErrorType.FailureThresholdExceeded;
/** Error type for a migration module that cannot be loaded or is invalid (common/errors.ts). */
export const MIGRATION_INVALID = ErrorType.MigrationInvalid;

export interface ContainerStepsInput extends ContainerRef, ModuleRef {
  direction: Direction;
}

export interface ContainerStepsResult {
  /** Human-readable list of what changed ("created container", "indexing policy replaced", ...); empty when nothing was needed. */
  applied: string[];
  /** The container as it was before the steps (null: it did not exist). */
  previous: ContainerExport | null;
}

export interface VerifyInput extends ContainerRef, ModuleRef {
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
  /**
   * Of `remaining`, the documents the transform would still change: written in the old shape after the backfill passed
   * them (an old application still writing), caught up rather than rolled back (workflows/phases/verify.ts).
   */
  stillToMigrate?: number;
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
  /**
   * The container's definition exported before the run. With it, the restore needs nothing of the (deleted)
   * container: a `defaultTtl` in it makes the restore run with TTL disabled (see `withTtlDisabled`).
   */
  exported?: ContainerExport;
  /**
   * Restore with TTL disabled (`restoreWithTtlDisabled`), so that documents whose TTL ran out since T0 are not
   * expired by the service before the restore is verified; reapplyContainerProperties turns TTL back on.
   * @default true when `exported.resource.defaultTtl` is set, else false
   */
  withTtlDisabled?: boolean;
}

export interface DeleteContainerInput extends ContainerRef {
  /**
   * ISO T0: delete only if Azure can restore the container at that time now (proveRestorable, run just before the
   * delete); otherwise fail non-retryable `RestoreImpossible` with the problems, and delete nothing. Absent: no proof
   * (e.g. deleting a container the migration created).
   */
  restorableAt?: string;
  /** For the proof (see ProveRestorableInput.exported). */
  exported?: ContainerExport | null;
  /**
   * Without `restorableAt` (a container the migration created, which no restore brings back): the documents the
   * operator saw and approved deleting with it. The container is deleted only while it holds at most these (none when
   * absent); with more (the application wrote meanwhile) nothing is deleted and the activity fails non-retryable
   * `ContainerInUse` with the count.
   */
  documentsApproved?: number;
  /**
   * A mark in the container's change feed (TargetCopiesCheck.changesFrom): delete only if no document was created or
   * replaced since, else fail non-retryable `ContainerInUse` with the count and delete nothing.
   */
  unchangedSince?: string;
}

export interface RestoreResult {
  /** ISO: the time the container was restored to, as ARM reports it. */
  restoredTo: string;
  /** TTL is off on the restored container until reapplyContainerProperties puts the exported defaultTtl back. */
  ttlDisabled: boolean;
  /** false when a retry found the restore already done. */
  started: boolean;
}

export interface RestoreVerification {
  ok: boolean;
  problems: string[];
  /** Documents found in the restored container. */
  documentCount: number;
  /**
   * Documents the state at T0 held, from the snapshot: between `min` (the count minus the documents the application
   * created or changed between T0 and the count) and `max` (the count).
   */
  expected?: { min: number; max: number };
  /** Set when the document count is outside `expected`: the numbers for the operator, the workflow pauses on it. */
  mismatch?: { expectedMin: number; expectedMax: number; found: number };
  /** The restored container has TTL disabled (restoreWithTtlDisabled); its `defaultTtl` is not compared yet. */
  ttlDisabled?: boolean;
  /** Documents of the restored container by version (keys as in Snapshot.countsByVersion), when a version field was given. */
  countsByVersion?: Record<string, number>;
  /** Versions whose count is outside what the state at T0 held (the snapshot's count ± `changedSinceT0`). */
  versionMismatches?: { version: string; expectedMin: number; expectedMax: number; found: number }[];
  /** The index rebuild's progress when the count ran (100), when the endpoint reports it. */
  indexProgress?: number;
}

export interface ProveRestorableInput extends ContainerRef {
  /** ISO: the restore point. */
  t0: string;
  /**
   * The container's definition exported before the run. Only used when the container no longer exists (a retried
   * rollback after a failed restore) and its database has shared throughput: its `throughput` says the container
   * had its own.
   */
  exported?: ContainerExport | null;
}

export type RestorabilityCheckName =
  | 'restore-permission'
  | 'continuous-backup'
  | 'parent-database'
  | 'restore-window'
  | 'dedicated-throughput'
  | 'concurrent-restores'
  | 'account-state';

export interface RestorabilityCheck {
  name: RestorabilityCheckName;
  ok: boolean;
  /** A sentence: what was found, and when not ok, why Azure would refuse and what to do. */
  detail: string;
}

export interface RestorabilityProof {
  /** Every check passed: Azure can restore the container at T0 now. */
  ok: boolean;
  /** The `detail` of each failed check. */
  problems: string[];
  checks: RestorabilityCheck[];
  /** ISO; the earliest restorable time of the account (restorable account). */
  oldestRestorableTime?: string;
  /** ISO; the latest restorable time: the container's latest backed-up time, or its deletion when it is gone. */
  latestRestorableTime?: string;
  /** The restorable account's ARM id: what restoreContainer names as its source. */
  restoreSource?: string;
  /** Whether the container exists now (per the restorable event feed): false on a retry after the delete. */
  containerExists: boolean;
  /** Azure's limit of restores in progress at once per account. */
  restoreLimit: number;
  /** ISO; the proof holds for this moment: the window moves, check again before deleting. */
  checkedAt: string;
}

export interface CountWritesSinceInput extends ContainerRef {
  /** ISO; usually T0. */
  since: string;
  /** Snapshot.deletesFeed: count the documents deleted since, too (WritesSince.deleted). */
  deletesFeed?: string;
}

export interface WritesSince {
  /**
   * Documents written (created or changed) at or after `since`: what an in-place restore to `since` discards. This
   * includes the migration's own writes.
   */
  documents: number;
  /**
   * Documents that existed at `since` and are deleted now: what an in-place restore brings back. Counted from the
   * all-versions-and-deletes change feed when the input gave its continuation; absent otherwise (not known).
   */
  deleted?: number;
  /** Feed ranges counted. */
  ranges: number;
}

// ---- Knowing that it worked: declared queries, the monitoring probe, the restore drill ----

/** Index use of a query, from `x-ms-cosmos-index-utilization`: single specs such as `/tenantId/?`, composites as `"/a ASC, /b DESC"`. */
export interface IndexUsage {
  utilizedSingle: string[];
  utilizedComposite: string[];
  potentialSingle: string[];
  potentialComposite: string[];
}

export interface DeclaredQueriesInput extends ContainerRef, ModuleRef {}

export interface QueryMeasurement {
  name: string;
  /** Sum over every page. */
  ruCharge: number;
  /** Wall clock of all pages, ms. */
  latencyMs: number;
  rows: number;
  indexes: IndexUsage;
  /** Paths the index metrics name (utilized or potential single indexes), without `/?`: `/tenantId`. */
  filteredPaths: string[];
  /** The module's maxRuGrowth for it (default 2), so the comparison needs nothing else. */
  maxRuGrowth: number;
  /** The query failed (e.g. 400): the message; the other figures are 0. */
  error?: string;
}

export interface DeclaredQueriesResult {
  queries: QueryMeasurement[];
}

export interface ProbeInput extends ContainerRef, ModuleRef {
  /** Documents to point-read (from sampleDocumentIds); none: no point reads. */
  sampleIds?: DocumentKey[];
}

export interface DocumentKey {
  id: string;
  /** The partition key value, as JSON (an array for hierarchical keys). */
  partitionKey: unknown;
}

/** One probe interval. 429s and 5xx are counted, never thrown. */
export interface ProbeResult {
  /** ISO, when the probe started. */
  at: string;
  queries: { name: string; ruCharge: number; latencyMs: number; error?: string }[];
  pointReads: { count: number; avgLatencyMs: number; ruCharge: number };
  /** Attempts answered 429, including those the SDK retried itself (from each response's diagnostics). */
  throttled: number;
  /** Attempts answered 5xx (or that failed without a status: timeouts, resets), retried ones included. */
  serverErrors: number;
  /** Attempts made: each query page and point read, plus each retry the SDK made; so throttled ≤ requests. */
  requests: number;
}

export interface SampleIdsInput extends ContainerRef {
  count: number;
}

export interface CompareDrillInput extends ContainerRef {
  /** The account the copy was restored into (restoreDrillAccount): the same database and container names there. */
  copyAccount: string;
  /** ISO, the restore point. */
  at: string;
  sampleSize: number;
}

export interface RestoreDrillAccountInput extends ContainerRef {
  /** The new account to restore into: its name contains "drill" and is not the worker's account. */
  account: string;
  /** ISO, the restore point. */
  at: string;
}

/** A drill account ready to be compared. */
export interface DrillAccount {
  account: string;
  documentEndpoint: string;
  /** ISO: the restore point. */
  restoredTo: string;
  /** ISO: when the account was seen ready. */
  readyAt: string;
}

export interface DrillComparison {
  /** `newerThanAt`: documents of the copy written after T's second (a restore at T holds none). */
  count: { copy: number; liveAtT: number; newerThanAt: number };
  sampleChecked: number;
  /** One line per difference (ids and field names, never values). */
  mismatches: string[];
}

export interface DrillRecord extends ContainerRef {
  account: string;
  /** ISO: the restore point. */
  at: string;
  /** The account the copy was restored into (deleted after the comparison). */
  copyAccount: string;
  /** ISO: when the restore was requested. */
  startedAt: string;
  /** ISO: when the copy was ready (the restore's end; the comparison is not part of the duration). */
  finishedAt: string;
  durationMs: number;
  /** Documents in the copy. */
  documents: number;
  /** documents ÷ (durationMs / 1000): the restore rate to expect of a real restore of this container. */
  docsPerSecond: number;
  ok: boolean;
  mismatches: string[];
  workflowId?: string;
}

/**
 * What recordDrill takes: `durationMs` and `docsPerSecond` are computed from the times and `documents` when absent,
 * `account` is the worker's when absent.
 */
export type DrillRecordInput = Omit<DrillRecord, 'durationMs' | 'docsPerSecond' | 'account'> &
  Partial<Pick<DrillRecord, 'durationMs' | 'docsPerSecond' | 'account'>>;

export interface FindDrillInput extends ContainerRef {
  /** Default: the worker's account. */
  account?: string;
  /** ms: how recent a drill must be (by finishedAt). */
  within: number;
}

export type HookName = 'stop-app' | 'start-app' | 'cutover' | 'rollback-cutover';

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

/** Every activity the runbook calls (the copy mode's: common/copy.ts). */
export interface RunbookActivities extends CopyActivities {
  /** The workflow input validated, defaults resolved (a local activity, once per run). */
  resolveRunbookInput(input: { input: unknown }): Promise<RunbookStart>;
  loadMigration(input: LoadMigrationInput): Promise<MigrationInfo>;
  // preflight (ARM)
  checkBackupPolicy(input: { minimumTier: BackupTier }): Promise<BackupPolicyReport>;
  /** With `scripts`, the container's stored procedures, triggers and UDFs too (ContainerExport.scripts). */
  exportContainer(input: ContainerRef & { scripts?: boolean }): Promise<ContainerExport | null>;
  // preflight (data plane)
  planMigration(input: PlanInput): Promise<MigrationPlan>;
  listFeedRanges(input: ContainerRef): Promise<string[]>;
  // snapshot
  takeSnapshot(input: ContainerRef & { versionField: string }): Promise<Snapshot>;
  /**
   * Documents by version now (every strategy's rollback ends verified by these). `settled`: counted again until two
   * counts agree, the highest kept, for a step that deletes or concludes on it (activities/cosmos/settled-count.ts);
   * `settledOn` (a versionKey): the counts compared and kept highest are that version's, not the total.
   */
  countVersions(
    input: ContainerRef & { versionField: string; settled?: boolean; settledOn?: string }
  ): Promise<VersionCounts>;
  // migrate
  applyContainerSteps(input: ContainerStepsInput): Promise<ContainerStepsResult>;
  waitForIndexTransformation(input: ContainerRef): Promise<{ progress: number }>;
  migrateRange(input: MigrateRangeInput): Promise<MigrateRangeResult>;
  catchUpRange(input: CatchUpInput): Promise<CatchUpResult>;
  // pre-images and the per-document revert (rollback, least destructive first)
  /** Creates `<container>-preimages` through ARM when missing (same partition key as the target); idempotent. */
  ensurePreimagesContainer(input: ContainerRef & { throughput?: number }): Promise<PreimagesContainerResult>;
  /** The per-document revert of one feed range of the live container, from pre-images or a restored copy. */
  revertFromPreimages(input: RevertInput): Promise<RevertResult>;
  // verify
  verifyMigration(input: VerifyInput): Promise<VerificationReport>;
  // knowing that it worked
  /** The module's declared queries, each over every page with index metrics: RU, latency, rows, index use. */
  runDeclaredQueries(input: DeclaredQueriesInput): Promise<DeclaredQueriesResult>;
  /** One monitoring interval: the declared queries (charge, latency) and point reads of the sample; errors counted. */
  probeContainer(input: ProbeInput): Promise<ProbeResult>;
  /** ids and partition keys of `count` documents spread over the container's feed ranges (never contents). */
  sampleDocumentIds(input: SampleIdsInput): Promise<DocumentKey[]>;
  /** A restored copy (same database) against the live container's documents unchanged since before `at`. */
  compareDrill(input: CompareDrillInput): Promise<DrillComparison>;
  /** Restores the container at T into a new account (its name contains "drill") and waits until it is ready. */
  restoreDrillAccount(input: RestoreDrillAccountInput): Promise<DrillAccount>;
  /** Deletes the drill account through ARM; refuses a name without "drill" or the worker's account. Idempotent. */
  deleteDrillAccount(input: { account: string; at: string }): Promise<{ deleted: boolean }>;
  /** Stores a drill in the migrations-history container (partition "(restore-drill)"). */
  recordDrill(record: DrillRecordInput): Promise<DrillRecord>;
  /** The newest drill of the container finished within `within` ms, or null. */
  findRecentDrill(input: FindDrillInput): Promise<DrillRecord | null>;
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
  /** Whether Azure can restore the container at T0 now: run before deleting it (and again before a retried restore). */
  proveRestorable(input: ProveRestorableInput): Promise<RestorabilityProof>;
  /** The documents an in-place restore to `since` would discard (for the consent to delete). */
  countWritesSince(input: CountWritesSinceInput): Promise<WritesSince>;
  deleteContainer(input: DeleteContainerInput): Promise<void>;
  restoreContainer(input: RestoreInput): Promise<RestoreResult>;
  verifyRestore(input: {
    snapshot: Snapshot;
    exported: ContainerExport;
    /** Counts by version against the snapshot's too (absent: the total only). */
    versionField?: string;
  }): Promise<RestoreVerification>;
  /** With `keepTtlOff`, everything but TTL (before verification). */
  reapplyContainerProperties(input: {
    exported: ContainerExport;
    keepTtlOff?: boolean;
  }): Promise<{ changed: string[] }>;
  // hooks (commands and URLs come from the worker's HOOKS_CONFIG only)
  notify(event: NotifyEvent): Promise<void>;
  runHook(input: {
    hook: HookName;
    migrationId: string;
    workflowId: string;
    /**
     * The hook's configuration as recorded when the run decided on it (HookFingerprints; null: recorded as absent).
     * A worker whose own differs refuses with HooksConfigMismatch (retryable: a worker configured as recorded runs it).
     */
    expected?: string | null;
  }): Promise<{ ran: boolean }>;
  healthCheck(input: { migrationId: string; workflowId: string }): Promise<HealthReport>;
  /** Which hooks the worker has (names only, never commands). */
  describeHooks(): Promise<{
    stopApp: boolean;
    startApp: boolean;
    healthChecks: number;
    /** A digest of each configured stop-app / start-app hook (never the command itself), recorded by the run. */
    fingerprints?: { stopApp?: string; startApp?: string };
  }>;
}

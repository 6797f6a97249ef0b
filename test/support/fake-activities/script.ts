/**
 * What a phase-machine test scripts: the container's documents and feed ranges, what goes wrong in which range and
 * when, and what the ARM, restore, verification and hook activities answer. Everything has a default, so a test
 * names only what its case is about.
 */
import type {
  BackupPolicyReport,
  MigrationInfo,
  RestorabilityCheck,
  RestoreVerification,
} from '../../../common/activities';

/** Something that happens to a range's migrateRange (or revertFromPreimages) once it has written `afterPages` pages. */
export type RangeFault =
  /** A plain Error: the activity's retry policy retries it (resuming from the checkpoint). */
  | { kind: 'transient'; afterPages: number; times?: number }
  /** An ApplicationFailure with nonRetryable set (common/errors.ts types, or any). */
  | { kind: 'non-retryable'; afterPages: number; type: string; message?: string }
  /** The range splits into `into` children (the activity fails FeedRangeSplit, as activities/cosmos/migrate-range.ts does). */
  | { kind: 'split'; afterPages: number; into?: number }
  /** The range merges with the next one (the activity fails FeedRangeSplit; no current range lies inside it). */
  | { kind: 'merge'; afterPages: number };

export interface FakeScript {
  /** The module as loadMigration reports it; id, database and container are required by the workflow. */
  migration?: Partial<MigrationInfo>;
  /** Documents in the container at the module's fromVersion, spread evenly over the ranges. @default 40 */
  documents?: number;
  /** Feed ranges at the start (physical partitions). @default 2 */
  ranges?: number;
  /** Documents per starting range, when ranges hold different amounts of data (instead of documents and ranges). */
  documentsPerRange?: number[];
  /** ids (`d-0000` …) whose `up` throws: counted failed, listed, never written. */
  failing?: string[];
  /** ids whose `down` throws (a rollback by down fails on them). */
  failingDown?: string[];
  /** ids the plan's round trip finds not given back by down(up(doc)) (common/activities.ts RoundTripCheck). */
  roundTripMismatches?: string[];
  /** Faults by the index of the range in the starting list. */
  faults?: Record<number, RangeFault[]>;
  /** RU charged per document written (and per page read). @default 5 */
  ruPerWrite?: number;
  /** Wall time of each page, so a test can catch a run migrating. @default 10 */
  pageMs?: number;
  /** The container exists (exportContainer answers a definition). @default true */
  containerExists?: boolean;
  backup?: Partial<BackupPolicyReport>;
  /** Failed checks proveRestorable answers, each with its detail (all others pass). @default {} */
  unrestorable?: Partial<Record<RestorabilityCheck['name'], string>>;
  /** proveRestorable calls answered with every check passing before `unrestorable` applies (preflight's). @default 0 */
  restorableCalls?: number;
  /** How the restore goes: `fails` makes restoreContainer fail non-retryably with that message. */
  restore?: { fails?: string; verification?: Partial<RestoreVerification> };
  /** deleteContainer refuses (nothing deleted) with this ApplicationFailure, as activities/arm/restore.ts does. */
  deleteRefused?: { type: string; message: string };
  /**
   * A replica that lags (lag.ts): these documents (ids `d-…`) are hidden from the first `scans` scans that read them
   * (the revert's and a rollback's down() range scans, verifications); countVersions always counts them. `scans:
   * Infinity`: never seen. @default scans 1
   */
  lagging?: { ids: string[]; scans?: number };
  /** Problems verifyMigration reports (on top of documents still not at the target version). */
  verificationProblems?: string[];
  /** The first N verifyMigration calls fail non-retryably (a step failing for good after the first write). */
  failVerifications?: number;
  /**
   * Health checks in order, one per monitoring interval (true: healthy, a string: failed with that detail); the last
   * one repeats. @default [true]
   */
  health?: (true | string)[];
  /**
   * The monitoring probes in order after the baseline (which is always fast): a slow one's point reads take 400 ms
   * against the baseline's 5 ms (common/probe.ts calls that bad); the last one repeats. @default ['fast']
   */
  probes?: ('fast' | 'slow')[];
  /** The worker's hooks. @default none */
  hooks?: { stopApp?: boolean; startApp?: boolean; cutover?: boolean; rollbackCutover?: boolean };
  /**
   * Copy mode (with `migration.target`): ids copyRange names as problems, verifyCopy calls that fail first, the
   * application's writes the first reverseSyncRange brings back, each call's wall time (@default 10 ms).
   */
  copy?: {
    problems?: string[];
    failVerifications?: number;
    reverseWrites?: number;
    pageMs?: number;
    /** The target exists with documents: prepareCopyTarget refuses it (ContainerExists), as the real one does. */
    targetTaken?: boolean;
    /** The declared queries measured on the target no longer use the source's index. */
    targetLosesIndex?: boolean;
    /**
     * The n-th syncCopyRange call (1-based) splits its source range in two and fails FeedRangeSplit with what it read
     * (its continuation), as the real one does on a 410 it cannot follow.
     */
    splitSync?: number;
    /** Ids of documents the application wrote into the target before the cutover: not the run's copies. */
    targetWrites?: string[];
    /** Documents the application deleted in the target after the cutover: each findDeletedSources call finds these. */
    targetDeletes?: number;
  };
  /** Names of the declared queries runDeclaredQueries measures (with `migration.queries`). @default none */
  declaredQueries?: string[];
  /** checkStagingRun finds a completed staging run. @default false */
  stagingRun?: boolean;
}

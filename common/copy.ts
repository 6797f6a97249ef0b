/**
 * The copy mode's activity contracts (activities/copy/; docs/migrations.md "Copy mode"): the source container is read
 * by feed range and `up()` of each document is written into the target container, whose partition key differs.
 * Only ids, partition keys, counts and tokens: never document contents.
 */
import type { ContainerRef, DocumentFailure, ModuleRef, RuDebt } from './activities';

/** How the catch-up learns of the source's changes (docs/runbook.md "Copy mode"). */
export type CopyFeedMode =
  /** All versions and deletes (accounts with continuous backup): every create, replace and delete, in order. */
  | 'all-versions-and-deletes'
  /** Latest version: creates and replaces only; deletes are found by comparing the target with the source. */
  | 'latest-version';

export interface CopyRef extends ContainerRef, ModuleRef {
  /**
   * The target container (the module's `target.container`, in the same database); a container reference so the
   * worker's allow-list (activities/allowed-containers.ts) checks it as it checks the source.
   */
  target: ContainerRef;
}

export interface CopyCounters {
  /** Source documents read (backfill) or changes read (catch-up). */
  read: number;
  /** Target documents created or replaced. */
  written: number;
  /** Target documents deleted (a source delete, or a copy left in another logical partition by an update). */
  deleted: number;
  /** Documents that are a named problem (missing new partition key, id collision, up() failure). */
  failed: number;
  ruConsumed: number;
}

export interface PrepareTargetInput extends CopyRef {
  /** The run created the target earlier (its state says so): it may hold documents already. */
  createdByThisRun: boolean;
}

export interface PrepareTargetResult {
  /** The target was created now (false: it existed, empty or created by this run). */
  created: boolean;
  /** Its partition key paths, as ARM reports them. */
  partitionKeyPaths: string[];
}

export interface CopyStartInput extends CopyRef {
  /** A feed range of `of`'s container. */
  feedRange: string;
  mode: CopyFeedMode;
  /** Whose change feed: the source's (before the backfill) or the target's (the cutover point). @default "source" */
  of?: 'source' | 'target';
}

export interface CopyStartResult {
  /** The source range's change feed at its head, taken before the backfill reads anything. */
  continuation: string;
  /** ISO: when the start point was taken. */
  at: string;
}

export interface CopyRangeInput extends CopyRef {
  feedRange: string;
  /** The backfill's scan continuation from the range's last activity. */
  continuation?: string;
  batchSize: number;
  ruBudget?: number;
  ruDebt?: RuDebt;
  maxFailures: number;
  /** Return after this long with a continuation even when the range is not done. @default 60 */
  maxSeconds?: number;
  /**
   * findDeletedSources only: name a source document whose copy is missing instead of deleting it. Set when the copy
   * was not complete at the cutover (problems, or a verification the operator accepted): such a document may never
   * have been copied, so its missing copy says nothing of the application.
   */
  keepMissing?: boolean;
}

export interface CopyRangeResult {
  done: boolean;
  continuation?: string;
  counters: CopyCounters;
  /**
   * Named problems: the id and partition key of the document read (the source's; the target's in the reverse sync),
   * and what is wrong (never values).
   */
  failures: DocumentFailure[];
  ruDebt?: RuDebt;
}

export interface SyncCopyInput extends CopyRef {
  /** A feed range of the container whose feed is read: the source's (syncCopyRange) or the target's (reverseSyncRange). */
  feedRange: string;
  /** That range's change-feed continuation: its start point, then each activity's. */
  continuation: string;
  mode: CopyFeedMode;
  batchSize: number;
  ruBudget?: number;
  ruDebt?: RuDebt;
  maxFailures: number;
  /** Return after this long even when the head is not reached. @default 60 */
  maxSeconds?: number;
}

export interface SyncCopyResult extends CopyRangeResult {
  continuation: string;
  /** How far behind the source feed's head the last page was (its newest change to now); 0 at the head. */
  secondsBehind: number;
}

export function zeroCopyCounters(): CopyCounters {
  return { read: 0, written: 0, deleted: 0, failed: 0, ruConsumed: 0 };
}

export function addCopyCounters(a: CopyCounters, b: CopyCounters): CopyCounters {
  return {
    read: a.read + b.read,
    written: a.written + b.written,
    deleted: a.deleted + b.deleted,
    failed: a.failed + b.failed,
    ruConsumed: a.ruConsumed + b.ruConsumed,
  };
}

export interface VerifyCopyInput extends CopyRef {
  /** Documents compared per source feed range. @default 20 */
  samplePerRange?: number;
}

export interface VerifyCopyResult {
  passed: boolean;
  /** The source's counts by version as up() makes them, and the target's. */
  expectedByVersion: Record<string, number>;
  targetByVersion: Record<string, number>;
  sourceTotal: number;
  targetTotal: number;
  sampled: number;
  /** Sampled documents whose copy is missing or differs (source id and key, never values). */
  mismatches: DocumentFailure[];
  ruConsumed: number;
}

/** The copy mode's activities (activities/copy/), part of RunbookActivities. */
export interface CopyActivities {
  /** Preflight: creates the target through ARM with the declared properties; refuses one not this run's. */
  prepareCopyTarget(input: PrepareTargetInput): Promise<PrepareTargetResult>;
  /** The start point of one source range's change feed, taken before its backfill. */
  markCopyStart(input: CopyStartInput): Promise<CopyStartResult>;
  /** The backfill of one source range into the target, through up(). */
  copyRange(input: CopyRangeInput): Promise<CopyRangeResult>;
  /** The catch-up of one source range from its change feed into the target, deletes included. */
  syncCopyRange(input: SyncCopyInput): Promise<SyncCopyResult>;
  /** After the cutover: one target range's change feed written back to the source through down(), deletes included. */
  reverseSyncRange(input: SyncCopyInput): Promise<SyncCopyResult>;
  /**
   * Latest-version mode, at the cutover point: one TARGET feed range compared with the source, the copies of deleted
   * source documents deleted (that feed has no deletes).
   */
  findDeletedCopies(input: CopyRangeInput): Promise<CopyRangeResult>;
  /**
   * Latest-version mode, a rollback after the cutover, once the reverse sync is drained: one SOURCE feed range compared
   * with the target; a source document whose copy the application deleted from the target is deleted from the source
   * (ETag-conditioned on the version compared).
   */
  findDeletedSources(input: CopyRangeInput): Promise<CopyRangeResult>;
  /** At the cutover point: counts by version as up() moves them, and a sample of every range compared whole. */
  verifyCopy(input: VerifyCopyInput): Promise<VerifyCopyResult>;
  /** At the cutover point: the target's dedicated throughput set to `throughput` (target.throughputAfterCopy). */
  setCopyTargetThroughput(input: CopyRef & { throughput: number }): Promise<{ changed: boolean }>;
  /**
   * A rollback before the cutover, before it deletes the target: every target document compared with up() of its
   * source document; those that are not the run's copies counted (possibly the application's).
   */
  checkTargetCopies(input: CheckTargetCopiesInput): Promise<TargetCopiesCheck>;
}

export interface CheckTargetCopiesInput extends CopyRef {
  /** RU/s for the check (the rollback's budget). */
  ruBudget?: number;
  /** Target documents per page. @default 100 */
  batchSize?: number;
}

/** What checkTargetCopies found: ids and counts only, never contents. */
export interface TargetCopiesCheck {
  /** Documents in the target. */
  documents: number;
  /** Target documents that are not up() of a source document (no source document, or one that differs). */
  notCopies: number;
  /** The first 100 of those, by id. */
  ids: string[];
  ruConsumed: number;
  /**
   * The target's change feed marked before the check read anything (absent: the target was gone): a delete that acts
   * on this check passes it as `unchangedSince`, so a document written during or after the check stops the delete.
   */
  changesFrom?: string;
}

/**
 * What a copy-mode run did (workflows/copy/; the status and the report give it): the target, how deletes were found,
 * the cutover point and what was verified there, and the reverse sync after it. Ids, counts and tokens only.
 */
export interface CopyOutcome {
  target: ContainerRef;
  /** The run created the target (false: it found it empty with the declared key). Absent: not prepared yet. */
  targetCreated?: boolean;
  mode: CopyFeedMode;
  /** Backfill and catch-up together: source documents and changes read, copies written and deleted, problems. */
  copied: CopyCounters;
  /** The target's dedicated throughput was set to this at the cutover point (target.throughputAfterCopy). */
  throughputAfterCopy?: number;
  /** Latest-version mode: copies of deleted source documents found and deleted at the cutover point. */
  deletedAtCutover?: number;
  /** The cutover point: the source drained to its head, verified, and the target's change feed marked. */
  cutover?: {
    /** ISO: when the target's feed was marked (the application's writes to the target count from here). */
    at: string;
    by: string;
    /** The cutover hook ran (it points the application at the target). */
    hookRan: boolean;
  };
  verification?: Omit<VerifyCopyResult, 'ruConsumed'>;
  /** After the cutover: the target's changes written back to the source through down(). */
  reverseSync?: { enabled: boolean; counters: CopyCounters; secondsBehind: number };
}

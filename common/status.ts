/** The answer of the `status` query: everything an operator needs to decide, without reading history. */
import type { CopyOutcome } from './copy';
import type {
  Direction,
  MigrationCounters,
  MigrationPlan,
  RevertConflict,
  Snapshot,
  VerificationReport,
} from './activities';
import type { Phase } from './phases';

/** What the run is waiting for a human to say, if anything. */
export type PendingDecision =
  | { kind: 'approve'; signals: ['approve', 'abort']; deadline?: string; rollback?: string }
  | { kind: 'resume-or-rollback'; signals: ['resume', 'rollback']; reason: string }
  | {
      kind: 'approve-restore';
      signals: ['approve', 'abort'];
      reason: string;
      /** Documents written at or after T0 (the migration's own included): the restore discards them. */
      writesSinceT0?: number;
      /** Documents that existed at T0 and are deleted now: the restore brings them back (absent: not known). */
      deletedSinceT0?: number;
    }
  /** The restored container differs from the state at T0: approve accepts it and restarts the application. */
  | { kind: 'accept-restore'; signals: ['approve', 'abort']; reason: string }
  /** A container the migration created holds documents: approve deletes it with them, abort keeps it. */
  | {
      kind: 'approve-delete-container';
      signals: ['approve', 'abort'];
      reason: string;
      documents: number;
      /** A copy's target: documents that are not up() of a source document, and up to 100 of their ids. */
      notCopies?: number;
      ids?: string[];
    }
  /**
   * The rollback left documents at the new version (the application wrote them since; no proved down()): approve
   * accepts them as they are and the run ends rolled-back with them in its report; abort leaves the decision open
   * (rollback-failed: resume, or rollback again once they are dealt with).
   */
  | {
      kind: 'accept-conflicts';
      signals: ['approve', 'abort'];
      reason: string;
      /** Documents left at the new version. */
      left: number;
      /** The first 100 named by the revert (ids and partition keys, never contents). */
      conflicts: RevertConflict[];
      /** Of `left`, those the revert never saw in its passes (not among `conflicts`): rollback again to take them. */
      unnamed?: number;
    }
  | { kind: 'operator'; signals: ['rollback', 'resume']; reason: string }
  /** A run with `cutover: "signal"` catching up: `cutover` once the old writers are gone (or `rollback`). */
  | { kind: 'cutover'; signals: ['cutover', 'rollback']; reason: string };

/** The catch-up from the change feed after the backfill (phase catching-up), as the status shows it. */
export interface CatchUpStatus {
  cutover: 'auto' | 'signal';
  /** Documents migrated by the catch-up so far. */
  caughtUp: number;
  /** Old-shape documents the feed brought. */
  oldShapeSeen: number;
  /** ISO: when the feed last brought an old-shape document. */
  lastOldShapeAt?: string;
  /** How far the slowest feed range was behind the head of its change feed at its last page. */
  secondsBehind: number;
  cutoverBy?: string;
}

/** One monitoring interval: the probe's figures against the baseline, the health checks, and the verdict. */
export interface MonitorPoint {
  at: string;
  bad: boolean;
  reason?: string;
  /** The probe's slowest query or point-read latency, its RU, 429s and server errors (absent without a probe). */
  latencyMs?: number;
  ruCharge?: number;
  throttled?: number;
  serverErrors?: number;
}

export interface RunbookStatus {
  migrationId: string;
  direction: Direction;
  database: string;
  container: string;
  phase: Phase;
  /** When the current phase began (ISO). */
  phaseSince: string;
  startedAt: string;
  dryRun: boolean;
  counters: MigrationCounters;
  /** Documents expected to be migrated (from the plan), when known. */
  documentsToMigrate?: number;
  /** Observed RU/s of the migration. */
  ruPerSecond: number;
  docsPerSecond: number;
  /** Seconds left at the current rate, when it can be told. */
  etaSeconds?: number;
  ranges: { total: number; done: number };
  pendingDecision?: PendingDecision;
  lastError?: string;
  plan?: MigrationPlan;
  snapshot?: Snapshot;
  verification?: VerificationReport;
  /** The catch-up from the change feed, once the backfill is done. */
  catchUp?: CatchUpStatus;
  /** Copy mode: the target, the cutover point, its verification and the reverse sync (common/copy.ts). */
  copy?: CopyOutcome;
  /** The monitoring window so far, interval by interval (probe figures and verdicts). */
  monitoring?: MonitorPoint[];
  /** Continue-as-new generation: 0 for the first run. */
  generation: number;
  /** Phase changes and notes so far, oldest first (the report's timeline), so a follower misses no short phase. */
  timeline: { phase: string; at: string; note?: string }[];
}

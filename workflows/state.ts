/**
 * The run's state: everything a run knows, in one typed object owned by the runbook (workflows/runbook.ts) and
 * carried whole across continue-as-new, so a new run resumes exactly where the previous one stopped. Its options
 * are the input with every default resolved once, when the run started. Only ids, counts, tokens and properties:
 * never document contents.
 */
import type {
  BackupPolicyReport,
  ContainerExport,
  ContainerStepsResult,
  DocumentFailure,
  MigrationCounters,
  MigrationInfo,
  DocumentKey,
  MigrationPlan,
  ProbeResult,
  QueryMeasurement,
  Snapshot,
  VerificationReport,
} from '../common/activities';
import type { Phase } from '../common/phases';
import type { RunbookReport } from '../common/report';
import type { RunbookOptions } from '../common/runbook-input';
import type { MonitorPoint } from '../common/status';
import type { RunbookTuning } from '../common/tuning';
import type { LoopRange } from './range-loop';
import type { CopyState } from './copy/state';

export type { MonitorPoint } from '../common/status';

/**
 * Least destructive first: pre-images (a per-document revert), the module's down(), an in-place restore; a copy's own
 * (workflows/rollback/copy.ts: the target deleted before the cutover, the reverse sync drained after it).
 */
export type RollbackMode = 'preimages' | 'down' | 'restore' | 'copy';

export interface RangeState extends LoopRange {
  counters: MigrationCounters;
  /** Documents of this range that failed at the threshold and will fail again when it re-runs (counted once). */
  refail?: number;
}

export interface TimelineEntry {
  phase: string;
  at: string;
  note?: string;
}

export interface CatchUpState {
  /** The change feed of each feed range: its continuation, and whether the last round reached its head. */
  ranges: LoopRange[];
  /** ISO: where each range's feed starts without a continuation (T0). */
  startTime: string;
  /** Documents migrated by the catch-up. */
  caughtUp: number;
  /** Old-shape documents the feed brought (caught up, failed or skipped). */
  oldShapeSeen: number;
  /** ISO: when the feed last brought an old-shape document. */
  lastOldShapeAt?: string;
  /** How far the slowest range was behind the feed's head at its last page. */
  secondsBehind: number;
  /** Who sent `cutover`, once the run took it (the feed is then drained to its head). */
  cutoverBy?: string;
}

/** The gates: the approvals taken, the approval's deadline, the window and cutover decisions. */
export interface GatesState {
  approvedBy?: string;
  approvals: { by?: string; comment?: string; at: string; for: 'migration' | 'restore' }[];
  /** When the approval gate times out (ISO): fixed at the first wait, kept across continue-as-new. */
  approvalDeadline?: string;
  /** The operator resumed after the maintenance window closed: its end no longer stops the run. */
  windowOverridden?: boolean;
  /** Who sent `cutover` before this run continued as new (the inbox does not cross it). */
  cutoverRequestedBy?: string;
}

/** Migrating the documents: the ranges, what they did, what failed, and the pauses on the way. */
export interface MigratingState {
  /** The feed ranges and where each stopped; absent until listed. */
  ranges?: RangeState[];
  counters: MigrationCounters;
  /** The first failures (at most MAX_FAILURES_KEPT). */
  failures: DocumentFailure[];
  /** Failed documents tolerated in total before the run pauses (grows by maxFailures at each resume). */
  failureAllowance: number;
  /** When the migrating phase started (ISO), for rates and ETA. */
  since?: string;
  /** While paused: where the run goes on from when resumed, and what paused it (`window`, `lease`, an error, ...). */
  pausedIn?: 'migrating' | 'verifying';
  pausedBecause?: string;
  /** Live controls set while the run goes on (absent: the input's ruBudget and concurrency). */
  controls?: { ruBudget?: number | null; concurrency?: number };
}

/** Knowing that it worked: the declared queries before and after, the probe's sample and baseline, monitoring. */
export interface KnowingState {
  queriesBefore?: QueryMeasurement[];
  queriesAfter?: QueryMeasurement[];
  probeSample?: DocumentKey[];
  probeBaseline?: ProbeResult;
  /** The monitoring window under way (phases/monitor.ts): carried across continue-as-new. */
  monitoring?: { until: string; failuresInARow: number };
  /** The monitoring window, interval by interval (the last MAX_MONITOR_SERIES). */
  monitorSeries?: MonitorPoint[];
}

/** The rollback: the one chosen, what it keeps, the pre-images it needs, its attempts and their outcome. */
export interface RollbackState {
  mode: RollbackMode;
  /** What the chosen rollback keeps and loses, in words (the plan and the approval request say it). */
  plan?: string;
  /** Pre-images are kept while migrating (decided in preflight), and the container they go to once it exists. */
  preimages?: boolean;
  preimagesContainer?: string;
  /** Rollback children started (each has its own workflow id). */
  attempts: number;
  /** The last attempt's outcome, as the report gives it. */
  outcome?: RunbookReport['rollback'];
}

export interface RunState {
  options: RunbookOptions;
  tuning: RunbookTuning;
  /** The first run's start (ISO). */
  startedAt: string;
  migration: MigrationInfo;
  leaseKey: string;
  /** Continue-as-new generation: 0 for the first run. */
  generation: number;
  phase: Phase;
  phaseSince: string;
  lastError?: string;
  timeline: TimelineEntry[];
  /** Preflight's findings: the backup policy, the container before anything changed (null: it did not exist), the plan. */
  backup?: BackupPolicyReport;
  exported?: ContainerExport | null;
  plan?: MigrationPlan;
  snapshot?: Snapshot;
  steps?: ContainerStepsResult;
  gates: GatesState;
  migrating: MigratingState;
  /** Catch-up passes run after verification found old-shape documents written since the backfill (phases/verify.ts). */
  catchUps?: number;
  /** The catch-up from the change feed (phases/catch-up.ts): its ranges' continuations, carried across continue-as-new. */
  catchUp?: CatchUpState;
  verification?: VerificationReport;
  /** Copy mode (workflows/copy/): the plan, the target, the cutover point, the reverse sync. */
  copy?: CopyState;
  knowing: KnowingState;
  rollback: RollbackState;
}

/** The state continue-as-new hands to the next run (the name recorded histories and callers know). */
export type CarriedState = RunState;

/** The RU budget in force: the live control's, else the input's. */
export function budgetOf(state: RunState): number | undefined {
  const live = state.migrating.controls?.ruBudget;
  return live === null ? undefined : (live ?? state.options.ruBudget);
}

/** The concurrency in force: the live control's, else the input's. */
export function concurrencyOf(state: RunState): number {
  return state.migrating.controls?.concurrency ?? state.options.concurrency;
}

export const MAX_MONITOR_SERIES = 240;
export const MAX_FAILURES_KEPT = 100;
export const MAX_TIMELINE = 200;

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

export type { MonitorPoint } from '../common/status';

/** Least destructive first: pre-images (a per-document revert), the module's down(), an in-place restore. */
export type RollbackMode = 'preimages' | 'down' | 'restore';

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

export interface RunState {
  options: RunbookOptions;
  tuning: RunbookTuning;
  /** The first run's start (ISO). */
  startedAt: string;
  migration: MigrationInfo;
  leaseKey: string;
  rollbackMode: RollbackMode;
  /** What the chosen rollback keeps and loses, in words (the plan and the approval request say it). */
  rollbackPlan?: string;
  /** Pre-images are kept while migrating (decided in preflight), and the container they go to once it exists. */
  preimages?: boolean;
  preimagesContainer?: string;
  /** Catch-up passes run after verification found old-shape documents written since the backfill (phases/verify.ts). */
  catchUps?: number;
  /** Who sent `cutover` before this run continued as new (the inbox does not cross it). */
  cutoverRequestedBy?: string;
  /** The catch-up from the change feed (phases/catch-up.ts): its ranges' continuations, carried across continue-as-new. */
  catchUp?: CatchUpState;
  /** The monitoring window under way (phases/monitor.ts): carried across continue-as-new. */
  monitoring?: { until: string; failuresInARow: number };
  backup?: BackupPolicyReport;
  /** The container before anything changed (null: it did not exist). */
  exported?: ContainerExport | null;
  plan?: MigrationPlan;
  snapshot?: Snapshot;
  steps?: ContainerStepsResult;
  /** The feed ranges and where each stopped; absent until listed. */
  ranges?: RangeState[];
  counters: MigrationCounters;
  /** The first failures (at most MAX_FAILURES_KEPT). */
  failures: DocumentFailure[];
  /** Failed documents tolerated in total before the run pauses (grows by maxFailures at each resume). */
  failureAllowance: number;
  /** When the migrating phase started (ISO), for rates and ETA. */
  migratingSince?: string;
  timeline: TimelineEntry[];
  approvedBy?: string;
  approvals: { by?: string; comment?: string; at: string; for: 'migration' | 'restore' }[];
  /** Continue-as-new generation: 0 for the first run. */
  generation: number;
  phase: Phase;
  phaseSince: string;
  lastError?: string;
  verification?: VerificationReport;
  rollbacks: number;
  /** When the approval gate times out (ISO): fixed at the first wait, kept across continue-as-new. */
  approvalDeadline?: string;
  /** While paused: where the run goes on from when resumed, and what paused it (`window`, `lease`, an error, ...). */
  pausedIn?: 'migrating' | 'verifying';
  pausedBecause?: string;
  /** Knowing that it worked: the declared queries before and after, the probe's sample and baseline. */
  queriesBefore?: QueryMeasurement[];
  queriesAfter?: QueryMeasurement[];
  probeSample?: DocumentKey[];
  probeBaseline?: ProbeResult;
  /** The monitoring window, interval by interval (the last MAX_MONITOR_SERIES). */
  monitorSeries?: MonitorPoint[];
  /** Live controls set while the run goes on (absent: the input's ruBudget and concurrency). */
  controls?: { ruBudget?: number | null; concurrency?: number };
  /** The operator resumed after the maintenance window closed: its end no longer stops the run. */
  windowOverridden?: boolean;
  rollback?: RunbookReport['rollback'];
}

/** The state continue-as-new hands to the next run (the name recorded histories and callers know). */
export type CarriedState = RunState;

/** The RU budget in force: the live control's, else the input's. */
export function budgetOf(state: RunState): number | undefined {
  const live = state.controls?.ruBudget;
  return live === null ? undefined : (live ?? state.options.ruBudget);
}

/** The concurrency in force: the live control's, else the input's. */
export function concurrencyOf(state: RunState): number {
  return state.controls?.concurrency ?? state.options.concurrency;
}

export const MAX_MONITOR_SERIES = 240;
export const MAX_FAILURES_KEPT = 100;
export const MAX_TIMELINE = 200;

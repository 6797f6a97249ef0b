/**
 * The runbook's state: everything a run knows, carried whole across continue-as-new (so a new run resumes exactly
 * where the previous one stopped). Only ids, counts, tokens and properties: never document contents.
 */
import type {
  BackupPolicyReport,
  ContainerExport,
  ContainerStepsResult,
  DocumentFailure,
  MigrationCounters,
  MigrationInfo,
  MigrationPlan,
  Snapshot,
  VerificationReport,
} from '../common/activities';
import type { Phase } from '../common/phases';
import type { RunbookReport } from '../common/report';
import type { RunbookOptions } from '../common/runbook-input';
import type { PendingDecision } from '../common/status';
import type { RunbookTuning } from './tuning';

export type RollbackMode = 'down' | 'restore';

export interface RangeState {
  feedRange: string;
  continuation?: string;
  done: boolean;
  counters: MigrationCounters;
  /** Documents of this range that failed at the threshold and will fail again when it re-runs (counted once). */
  refail?: number;
}

export interface TimelineEntry {
  phase: string;
  at: string;
  note?: string;
}

export interface CarriedState {
  options: RunbookOptions;
  tuning: RunbookTuning;
  /** The first run's start (ISO). */
  startedAt: string;
  migration: MigrationInfo;
  leaseKey: string;
  rollbackMode: RollbackMode;
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
  /** The operator resumed after the maintenance window closed: its end no longer stops the run. */
  windowOverridden?: boolean;
  rollback?: RunbookReport['rollback'];
}

export const MAX_FAILURES_KEPT = 100;
export const MAX_TIMELINE = 200;

/** Rates over the migrating phase's wall time (workflow time, so replay-safe). */
export function rates(
  state: CarriedState,
  now: number
): { ruPerSecond: number; docsPerSecond: number; etaSeconds?: number } {
  if (!state.migratingSince) return { ruPerSecond: 0, docsPerSecond: 0 };
  const seconds = Math.max((now - Date.parse(state.migratingSince)) / 1000, 0.001);
  const ruPerSecond = Math.round((state.counters.ruConsumed / seconds) * 10) / 10;
  const docsPerSecond = Math.round((state.counters.scanned / seconds) * 10) / 10;
  const total = state.plan?.totalDocuments;
  const left = total !== undefined ? Math.max(total - state.counters.scanned, 0) : undefined;
  const etaSeconds =
    left !== undefined && docsPerSecond > 0 && state.phase === 'migrating'
      ? Math.ceil(left / docsPerSecond)
      : undefined;
  return { ruPerSecond, docsPerSecond, etaSeconds };
}

/** The UI's "Current Details": a few lines of markdown an operator reads at a glance. */
export function currentDetails(
  state: CarriedState,
  pending: PendingDecision | undefined,
  now: number,
  waitingFor?: string
): string {
  const { migration, counters } = state;
  const lines = [
    `**${migration.id}** (${state.options.direction}${state.options.dryRun ? ', dry run' : ''}) on \`${migration.database}/${migration.container}\``,
    `**Phase:** ${state.phase} since ${state.phaseSince}`,
  ];
  if (state.ranges) {
    const { ruPerSecond, docsPerSecond, etaSeconds } = rates(state, now);
    lines.push(
      `**Documents:** ${counters.scanned} scanned, ${counters.migrated} migrated, ${counters.skipped} skipped, ${counters.failed} failed` +
        (state.plan ? ` of ${state.plan.totalDocuments}` : ''),
      `**Ranges:** ${state.ranges.filter((r) => r.done).length}/${state.ranges.length} done · ${docsPerSecond} docs/s · ${ruPerSecond} RU/s` +
        (etaSeconds !== undefined ? ` · ETA ${etaSeconds}s` : '')
    );
  }
  if (pending)
    lines.push(
      `**Waiting for:** ${pending.signals.map((s) => `\`${s}\``).join(' or ')}${'reason' in pending ? ` (${pending.reason})` : ''}`
    );
  else if (waitingFor) lines.push(`**Waiting for:** ${waitingFor}`);
  if (state.lastError) lines.push(`**Last error:** ${state.lastError}`);
  return lines.join('\n\n');
}

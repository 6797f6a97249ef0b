/**
 * The run as operators see it: the `status` query's answer and the UI's "Current Details", pure functions of the
 * run's state and inbox (workflow time, so replay-safe).
 */
import { zeroCounters } from '../../common/counters';
import type { RunbookOptions } from '../../common/runbook-input';
import type { PendingDecision, RunbookStatus } from '../../common/status';
import type { RunState } from '../state';
import type { Inbox } from './inbox';

/** Rates over the migrating phase's wall time. */
export function rates(
  state: RunState,
  now: number
): { ruPerSecond: number; docsPerSecond: number; etaSeconds?: number } {
  if (!state.migrating.since) return { ruPerSecond: 0, docsPerSecond: 0 };
  const seconds = Math.max((now - Date.parse(state.migrating.since)) / 1000, 0.001);
  const ruPerSecond = Math.round((state.migrating.counters.ruConsumed / seconds) * 10) / 10;
  const docsPerSecond = Math.round((state.migrating.counters.scanned / seconds) * 10) / 10;
  const total = state.plan?.totalDocuments;
  const left = total !== undefined ? Math.max(total - state.migrating.counters.scanned, 0) : undefined;
  const etaSeconds =
    left !== undefined && docsPerSecond > 0 && state.phase === 'migrating'
      ? Math.ceil(left / docsPerSecond)
      : undefined;
  return { ruPerSecond, docsPerSecond, etaSeconds };
}

type InitialOptions = Pick<RunbookOptions, 'migration' | 'direction' | 'database' | 'container' | 'dryRun' | 'cutover'>;

/** What the raw input says, read leniently, for the status query answered before the input is validated. */
export function previewOptions(input: unknown): InitialOptions {
  const raw = (input && typeof input === 'object' ? input : {}) as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return {
    migration: text(raw.migration) ?? '',
    direction: raw.direction === 'down' ? 'down' : 'up',
    database: text(raw.database),
    container: text(raw.container),
    dryRun: raw.dryRun === true,
    cutover: raw.cutover === 'signal' ? 'signal' : 'auto',
  };
}

/** Before preflight has loaded the migration: what the input says. */
export function initialStatus(options: InitialOptions, startTime: Date): RunbookStatus {
  return {
    migrationId: options.migration,
    direction: options.direction,
    database: options.database ?? '',
    container: options.container ?? '',
    phase: 'preflight',
    phaseSince: startTime.toISOString(),
    startedAt: startTime.toISOString(),
    dryRun: options.dryRun,
    counters: zeroCounters(),
    ruPerSecond: 0,
    docsPerSecond: 0,
    ranges: { total: 0, done: 0 },
    generation: 0,
    timeline: [],
  };
}

export function runStatus(state: RunState, inbox: Inbox, now: number): RunbookStatus {
  const { ruPerSecond, docsPerSecond, etaSeconds } = rates(state, now);
  return {
    migrationId: state.migration.id,
    direction: state.options.direction,
    database: state.migration.database,
    container: state.migration.container,
    phase: state.phase,
    phaseSince: state.phaseSince,
    startedAt: state.startedAt,
    dryRun: state.options.dryRun,
    counters: state.migrating.counters,
    documentsToMigrate: state.plan?.documentsToMigrate,
    ruPerSecond,
    docsPerSecond,
    etaSeconds,
    ranges: {
      total: state.migrating.ranges?.length ?? 0,
      done: state.migrating.ranges?.filter((r) => r.done).length ?? 0,
    },
    pendingDecision: inbox.pending,
    lastError:
      state.lastError ??
      (inbox.rollbackStep && state.phase === 'rolling-back' ? `rollback: ${inbox.rollbackStep}` : undefined),
    plan: state.plan,
    snapshot: state.snapshot,
    verification: state.verification,
    ...(state.catchUp
      ? {
          catchUp: {
            cutover: state.copy ? 'signal' : (state.options.cutover ?? 'auto'),
            caughtUp: state.catchUp.caughtUp,
            oldShapeSeen: state.catchUp.oldShapeSeen,
            ...(state.catchUp.lastOldShapeAt ? { lastOldShapeAt: state.catchUp.lastOldShapeAt } : {}),
            secondsBehind: state.catchUp.secondsBehind,
            ...(state.catchUp.cutoverBy ? { cutoverBy: state.catchUp.cutoverBy } : {}),
          },
        }
      : {}),
    ...(state.copy ? { copy: state.copy.outcome } : {}),
    ...(state.knowing.monitorSeries ? { monitoring: state.knowing.monitorSeries } : {}),
    generation: state.generation,
    timeline: state.timeline,
  };
}

/** The UI's "Current Details": a few lines of markdown an operator reads at a glance. */
export function currentDetails(
  state: RunState,
  pending: PendingDecision | undefined,
  now: number,
  waitingFor?: string
): string {
  const { migration } = state;
  const { counters } = state.migrating;
  const lines = [
    `**${migration.id}** (${state.options.direction}${state.options.dryRun ? ', dry run' : ''}) on \`${migration.database}/${migration.container}\``,
    `**Phase:** ${state.phase} since ${state.phaseSince}`,
  ];
  if (state.migrating.ranges) {
    const { ruPerSecond, docsPerSecond, etaSeconds } = rates(state, now);
    lines.push(
      `**Documents:** ${counters.scanned} scanned, ${counters.migrated} migrated, ${counters.skipped} skipped, ${counters.failed} failed` +
        (state.plan ? ` of ${state.plan.totalDocuments}` : ''),
      `**Ranges:** ${state.migrating.ranges.filter((r) => r.done).length}/${state.migrating.ranges.length} done · ${docsPerSecond} docs/s · ${ruPerSecond} RU/s` +
        (etaSeconds !== undefined ? ` · ETA ${etaSeconds}s` : '')
    );
  }
  if (state.catchUp && state.phase === 'catching-up') {
    const cu = state.catchUp;
    lines.push(
      `**Catching up:** ${cu.caughtUp} caught up · ${cu.secondsBehind}s behind the change feed` +
        (cu.lastOldShapeAt ? ` · last old-shape document at ${cu.lastOldShapeAt}` : ' · no old-shape document so far')
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

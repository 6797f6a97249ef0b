/**
 * The runbook's metrics recorded by workflow code, through the workflow's metric meter
 * (node_modules/@temporalio/workflow/lib/metrics.js): values go to the worker's runtime through a sink and are not
 * recorded again while a workflow replays, so they add no commands to the history and keep replays deterministic.
 */
import { metricMeter } from '@temporalio/workflow';
import { RUNBOOK_METRICS } from '../common/metric-names';

/** The phase gauge: 1 for `phase`, 0 for `previous` (so a dashboard shows each run in one phase). */
export function recordPhase(migration: string, phase: string, previous?: string): void {
  const gauge = metricMeter.createGauge(RUNBOOK_METRICS.phase, 'int', '', 'the phase a run is in (1)');
  if (previous !== undefined && previous !== phase) gauge.set(0, { migration, phase: previous });
  gauge.set(1, { migration, phase });
}

/** The RU/s budget in force (0: no budget). */
export function recordBudget(migration: string, ruPerSecond: number | undefined): void {
  metricMeter
    .createGauge(RUNBOOK_METRICS.ruBudget, 'float', 'RU/s', 'the RU/s budget in force for a run (0: none)')
    .set(ruPerSecond ?? 0, { migration });
}

export function recordRollbackStarted(migration: string, mode: string): void {
  metricMeter.createCounter(RUNBOOK_METRICS.rollbacksStarted, '', 'rollbacks started').add(1, { migration, mode });
}

export function recordRollbackFinished(migration: string, mode: string, ok: boolean): void {
  metricMeter
    .createCounter(RUNBOOK_METRICS.rollbacksFinished, '', 'rollbacks finished, by outcome')
    .add(1, { migration, mode, outcome: ok ? 'verified' : 'failed' });
}

/** The run's record in the migrations history and its report: pure functions of the state and how the run ended. */
import type { HistoryRecord } from '../../common/activities';
import type { RunbookReport } from '../../common/report';
import { renderReportMarkdown } from '../../common/report-markdown';
import type { RunState } from '../state';
import type { RunEnd } from './transition';

export interface RunIds {
  workflowId: string;
  /** The first run's id: the same across continue-as-new. */
  runId: string;
}

export function historyRecord(state: RunState, end: RunEnd, ids: RunIds, finishedAt: string): HistoryRecord {
  return {
    database: state.migration.database,
    container: state.migration.container,
    migrationId: state.migration.id,
    checksum: state.migration.checksum,
    direction: state.options.direction,
    status: end.status,
    startedAt: state.startedAt,
    finishedAt,
    counters: state.migrating.counters,
    workflowId: ids.workflowId,
    runId: ids.runId,
    ...(state.snapshot ? { t0: state.snapshot.t0 } : {}),
    ...(end.reason ? { reason: end.reason } : {}),
    ...(state.steps ? { previous: state.steps.previous, stepsApplied: state.steps.applied } : {}),
  };
}

export function buildReport(state: RunState, end: RunEnd, workflowId: string, finishedAt: string): RunbookReport {
  const body: Omit<RunbookReport, 'markdown'> = {
    migrationId: state.migration.id,
    description: state.migration.description,
    checksum: state.migration.checksum,
    direction: state.options.direction,
    database: state.migration.database,
    container: state.migration.container,
    status: end.status,
    ...(end.reason ? { reason: end.reason } : {}),
    workflowId,
    startedAt: state.startedAt,
    finishedAt,
    ...(state.gates.approvedBy ? { approvedBy: state.gates.approvedBy } : {}),
    counters: state.migrating.counters,
    ...(state.plan ? { plan: state.plan } : {}),
    ...(state.snapshot ? { snapshot: state.snapshot } : {}),
    ...(state.verification ? { verification: state.verification } : {}),
    ...(state.knowing.queriesBefore
      ? { queries: { before: state.knowing.queriesBefore, after: state.knowing.queriesAfter } }
      : {}),
    ...(state.knowing.monitorSeries ? { monitoring: state.knowing.monitorSeries } : {}),
    ...(state.rollback.plan ? { rollbackPlan: state.rollback.plan } : {}),
    ...(state.rollback.outcome ? { rollback: state.rollback.outcome } : {}),
    ...(state.copy ? { copy: state.copy.outcome } : {}),
    timeline: state.timeline,
  };
  return { ...body, markdown: renderReportMarkdown(body) };
}

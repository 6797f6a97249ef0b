/**
 * The runbook's own metrics, one list for the worker that records them (activities/metrics.ts, workflows/metrics.ts),
 * docs/observability.md and the dashboard. Prometheus adds `_total` to counters (worker/telemetry.ts
 * countersTotalSuffix): `documentsMigrated` is scraped as cosmos_runbook_documents_migrated_total.
 */
export const RUNBOOK_METRICS = {
  documentsMigrated: 'cosmos_runbook_documents_migrated',
  documentsFailed: 'cosmos_runbook_documents_failed',
  documentsConflicted: 'cosmos_runbook_documents_conflicted',
  /**
   * Documents written in the old shape after the backfill passed them and migrated again: by the final pass of a range,
   * and by the catch-up from the change feed (phase catching-up).
   */
  documentsCaughtUp: 'cosmos_runbook_documents_caught_up',
  /** Seconds the catch-up of a feed range was behind the head of its change feed at its last page (0: caught up). */
  catchUpLag: 'cosmos_runbook_catch_up_lag_seconds',
  documentsReverted: 'cosmos_runbook_documents_reverted',
  /** Request units consumed by the worker's Cosmos requests, tagged by priority (low: the migration's; high). */
  requestUnits: 'cosmos_runbook_request_units',
  /** Responses 429 (throttled) to the worker's Cosmos requests, tagged by priority; the SDK retries them. */
  throttled: 'cosmos_runbook_throttled_requests',
  /** The RU/s budget in force for a run (0: none). */
  ruBudget: 'cosmos_runbook_ru_budget',
  /** 1 for the phase a run is in, 0 for the phase it left. */
  phase: 'cosmos_runbook_phase',
  rollbacksStarted: 'cosmos_runbook_rollbacks_started',
  /** Tagged outcome=verified|failed. */
  rollbacksFinished: 'cosmos_runbook_rollbacks_finished',
} as const;

/**
 * The runbook's human gates and its status query (docs/architecture.md §8). Exported so the `migrate` CLI and tests use
 * the same definitions as `temporal workflow signal --name approve` does by name.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Phase } from '../common/phases';
import type { RunbookStatus } from '../common/status';
import type { DrillRecord } from '../common/activities';

export interface ApproveArgs {
  by?: string;
  comment?: string;
}
export interface ReasonArgs {
  reason?: string;
}

/** Go ahead: at the approval gate, or before the destructive step of a rollback by restore. */
export const approveSignal = defineSignal<[ApproveArgs?]>('approve');
/** Stop before anything changes (at a gate); the run ends `aborted`. */
export const abortSignal = defineSignal<[ReasonArgs?]>('abort');
/** Roll back now: while migrating, verifying, monitoring or paused. */
export const rollbackSignal = defineSignal<[ReasonArgs?]>('rollback');
/** Continue a paused run from where it stopped (or retry a failed rollback). */
export const resumeSignal = defineSignal<[]>('resume');
/** The old writers are gone: drain the change feed to its head and verify (a run with `cutover: "signal"`). */
export const cutoverSignal = defineSignal<[{ by?: string }?]>('cutover');

export const statusQuery = defineQuery<RunbookStatus>('status');

/** The live controls' state: what every control update answers (gh-ost style: change a running migration). */
export interface LiveControls {
  /** RU/s the migration may use in total; null: no cap. */
  ruBudget: number | null;
  /** Feed ranges migrated at once. */
  concurrency: number;
  paused: boolean;
  phase: Phase;
  /**
   * setBudget and setConcurrency: whether the change is in force, i.e. no range started under the old value is still
   * writing. Answered true once they have stopped (within a page); false only when they took longer than
   * CONTROLS_IN_FORCE_TIMEOUT, in which case the change still applies as soon as they stop. Absent in other answers
   * and in runs started before the controls-answer-in-force patch.
   */
  inForce?: boolean;
}

/**
 * Change the RU budget of a running migration: the ranges in flight stop after their page and restart with it; the
 * answer comes once they have (`inForce`).
 */
export const setBudgetUpdate = defineUpdate<LiveControls, [{ ruPerSecond: number | null }]>('setBudget');
/** Change how many feed ranges run at once; effective within a page. */
export const setConcurrencyUpdate = defineUpdate<LiveControls, [{ concurrency: number }]>('setConcurrency');
/** Pause a migrating run after the pages in flight (phase `paused`; `resume` or `rollback` decides). */
export const pauseUpdate = defineUpdate<LiveControls, [ReasonArgs]>('pause');
/** Resume a paused run (as the `resume` signal does), answering the new state. */
export const resumeUpdate = defineUpdate<LiveControls, []>('resume');

/** The restore drill's progress (workflows/drill.ts). */
export interface DrillStatus {
  phase: 'preparing' | 'restoring' | 'comparing' | 'cleaning-up' | 'recorded';
  database?: string;
  container?: string;
  account?: string;
  /** ISO: the restore point. */
  at?: string;
  record?: DrillRecord;
}

export const drillStatusQuery = defineQuery<DrillStatus>('drillStatus');

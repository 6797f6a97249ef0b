/**
 * The runbook's human gates and its status query (docs/architecture.md §8). Exported so the `migrate` CLI and tests use
 * the same definitions as `temporal workflow signal --name approve` does by name.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { RunbookStatus } from '../common/status';

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

export const statusQuery = defineQuery<RunbookStatus>('status');

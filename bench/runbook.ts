/**
 * One whole run of the runbook workflow, as an operator starts it (`temporal workflow start` of migrationRunbook on
 * the worker's task queue, approval off, monitoring off) to its result, with what the figures need: the phases' times
 * from the report's timeline and the history of every run of the chain (continue-as-new).
 */
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import type { RunbookReport } from '../common/report';
import { statusQuery } from '../workflows/messages';
import type { RunbookStatus } from '../common/status';
import { DATABASE, PAGE_SIZE } from './data';
import { TASK_QUEUE, type BenchEnv } from './env';

export const MIGRATION = 'bench-add-tier';

export interface RunInput {
  container: string;
  ruBudget?: number;
  concurrency?: number;
  /** A migration of bench/migrations by id; bench-add-tier when absent. */
  migration?: string;
  /** Anything else of the runbook's input (docs/runbook.md), e.g. a rollback strategy. */
  extra?: Record<string, unknown>;
}

export interface StartedRun {
  workflowId: string;
  handle: WorkflowHandle;
  startedAt: number;
}

export function runbookInput(input: RunInput): Record<string, unknown> {
  return {
    migration: input.migration ?? MIGRATION,
    database: DATABASE,
    container: input.container,
    approval: { required: false },
    monitor: { duration: 0, interval: '1m' },
    batchSize: PAGE_SIZE,
    concurrency: input.concurrency ?? 4,
    ...(input.ruBudget !== undefined ? { ruBudget: input.ruBudget } : {}),
    ...input.extra,
  };
}

export async function startRun(env: BenchEnv, input: RunInput): Promise<StartedRun> {
  const workflowId = `bench-${input.container}-${randomUUID().slice(0, 8)}`;
  const startedAt = Date.now();
  const handle = await env.client.workflow.start('migrationRunbook', {
    taskQueue: TASK_QUEUE,
    workflowId,
    args: [runbookInput(input)],
  });
  return { workflowId, handle, startedAt };
}

export async function status(run: StartedRun): Promise<RunbookStatus | undefined> {
  return run.handle.query(statusQuery).catch(() => undefined);
}

/** Waits for the result; a run that pauses or fails is an error of the bench, with its last error. */
export async function result(run: StartedRun): Promise<{ report: RunbookReport; seconds: number }> {
  const report = await new Promise<RunbookReport>((resolve, reject) => {
    let done = false;
    run.handle.result().then(
      (r) => {
        done = true;
        resolve(r as RunbookReport);
      },
      (err: unknown) => {
        done = true;
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    );
    const watch = async () => {
      while (!done) {
        const s = await status(run);
        if (s && ['paused', 'rollback-failed'].includes(s.phase)) {
          done = true;
          await run.handle.terminate('bench: the run paused').catch(() => undefined);
          reject(new Error(`the bench run ${run.workflowId} paused: ${s.lastError ?? ''}`));
          return;
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
    };
    void watch();
  });
  return { report, seconds: (Date.now() - run.startedAt) / 1000 };
}

/** Seconds from entering `from` to entering the phase after it, from the report's timeline. */
export function phaseSeconds(report: RunbookReport, from: string): number {
  const i = report.timeline.findIndex((t) => t.phase === from);
  const next = report.timeline.slice(i + 1).find((t) => t.phase !== from);
  if (i < 0 || !next) return Number.NaN;
  return (Date.parse(next.at) - Date.parse(report.timeline[i]!.at)) / 1000;
}

/** Events of every run of the workflow's chain: the first run, then each one it continued as new into. */
export async function historyEvents(env: BenchEnv, workflowId: string): Promise<number[]> {
  const latest = await env.client.workflow.getHandle(workflowId).describe();
  let runId: string | undefined = latest.raw.workflowExecutionInfo?.firstRunId || latest.runId;
  const counts: number[] = [];
  while (runId) {
    const history: temporal.api.history.v1.IHistory = await env.client.workflow
      .getHandle(workflowId, runId)
      .fetchHistory();
    const events = history.events ?? [];
    counts.push(events.length);
    runId = events[events.length - 1]?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId || undefined;
  }
  return counts;
}

/** Activity attempts after the first, over the chain's histories (heartbeat timeouts and retried errors). */
export async function activityRetries(env: BenchEnv, workflowId: string): Promise<number> {
  const latest = await env.client.workflow.getHandle(workflowId).describe();
  let runId: string | undefined = latest.raw.workflowExecutionInfo?.firstRunId || latest.runId;
  let retries = 0;
  while (runId) {
    const history: temporal.api.history.v1.IHistory = await env.client.workflow
      .getHandle(workflowId, runId)
      .fetchHistory();
    const events = history.events ?? [];
    for (const e of events) retries += Math.max(0, (e.activityTaskStartedEventAttributes?.attempt ?? 1) - 1);
    runId = events[events.length - 1]?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId || undefined;
  }
  return retries;
}

/** Attempts of an activity type per worker identity (`<pid>@<host>`, the SDK's default), over the chain. */
export async function activitiesByWorker(
  env: BenchEnv,
  workflowId: string,
  type: string
): Promise<Record<string, number>> {
  const latest = await env.client.workflow.getHandle(workflowId).describe();
  let runId: string | undefined = latest.raw.workflowExecutionInfo?.firstRunId || latest.runId;
  const byWorker: Record<string, number> = {};
  while (runId) {
    const history: temporal.api.history.v1.IHistory = await env.client.workflow
      .getHandle(workflowId, runId)
      .fetchHistory();
    const events = history.events ?? [];
    const types = new Map<string, string>();
    for (const e of events) {
      const scheduled = e.activityTaskScheduledEventAttributes;
      if (scheduled) types.set(String(e.eventId), scheduled.activityType?.name ?? '');
      const started = e.activityTaskStartedEventAttributes;
      if (started && types.get(String(started.scheduledEventId)) === type) {
        const who = started.identity ?? '?';
        byWorker[who] = (byWorker[who] ?? 0) + 1;
      }
    }
    runId = events[events.length - 1]?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId || undefined;
  }
  return byWorker;
}

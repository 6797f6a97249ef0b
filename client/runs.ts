/**
 * Runs of the runbook as the CLI sees them: starting one (refused, with the holder named, while another holds the
 * container), finding the run a signal is for, and the latest run of a migration for `report`.
 */
import os from 'node:os';
import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { RunbookInput } from '../common/runbook-input';
import type { RunbookReport } from '../common/report';
import { COSMOS_CONTAINER, MIGRATION_ID, MIGRATION_PHASE } from '../common/search-attributes';
import { CliError } from './errors';
import { migrateCommand } from './format';
import { PLAN_WORKFLOW_ID_PREFIX, runbookWorkflowId, type Target } from './target';

export const WORKFLOW_TYPE = 'migrationRunbook';

export interface RunSummary {
  workflowId: string;
  runId: string;
  migrationId?: string;
  phase?: string;
  container?: string;
  status: string;
  startTime: Date;
  closeTime?: Date;
}

/** Who is running this: for `approve --by` defaults and the audit trail in the report. */
export function currentUser(): string {
  try {
    return process.env.USER || os.userInfo().username;
  } catch {
    return 'unknown';
  }
}

export async function startRun(
  client: Client,
  options: {
    taskQueue: string;
    account: string;
    target: Target;
    /** `tuning`: the workflow's hidden knobs (common/tuning.ts), for the demo and tests only. */
    input: RunbookInput & { tuning?: Record<string, unknown> };
    plan?: boolean;
  }
): Promise<WorkflowHandle> {
  const { target, input } = options;
  const workflowId = runbookWorkflowId(options.account, target.database, target.container, options.plan);
  const migrationId = target.migration.definition.id;
  try {
    return await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: options.taskQueue,
      workflowId,
      args: [input],
      // One run per container: a second start fails while one runs; a new run may follow a closed one.
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      typedSearchAttributes: [
        { key: MIGRATION_ID, value: migrationId },
        { key: MIGRATION_PHASE, value: 'preflight' },
        { key: COSMOS_CONTAINER, value: `${target.database}/${target.container}` },
      ],
      staticSummary:
        `${input.dryRun ? 'plan' : (input.direction ?? 'up')} ${migrationId} on ${target.database}/${target.container}` +
        ` (started by ${currentUser()} with the migrate CLI)`,
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) throw await heldError(client, workflowId, target);
    throw err;
  }
}

async function heldError(client: Client, workflowId: string, target: Target): Promise<CliError> {
  const where = `${target.database}/${target.container}`;
  try {
    const held = await client.workflow.getHandle(workflowId).describe();
    const holder = held.typedSearchAttributes.get(MIGRATION_ID) ?? '?';
    const phase = held.typedSearchAttributes.get(MIGRATION_PHASE) ?? '?';
    return new CliError(
      `container ${where} is held by a run in progress: ${workflowId} (migration ${holder}, phase ${phase}, ` +
        `started ${held.startTime.toISOString()})`,
      `follow it with \`${migrateCommand('status', holder)}\`; stop it with \`${migrateCommand('abort', holder)}\``
    );
  } catch {
    return new CliError(`container ${where} is held by a run in progress: ${workflowId}`);
  }
}

function summary(info: {
  workflowId: string;
  runId: string;
  status: { name: string };
  startTime: Date;
  closeTime?: Date;
  typedSearchAttributes: { get: (key: typeof MIGRATION_ID) => string | undefined };
}): RunSummary {
  return {
    workflowId: info.workflowId,
    runId: info.runId,
    migrationId: info.typedSearchAttributes.get(MIGRATION_ID),
    phase: info.typedSearchAttributes.get(MIGRATION_PHASE),
    container: info.typedSearchAttributes.get(COSMOS_CONTAINER),
    status: info.status.name,
    startTime: info.startTime,
    closeTime: info.closeTime,
  };
}

const quote = (value: string) => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** Runs of the runbook (newest first), optionally of one migration, optionally only the running ones. */
export async function listRuns(
  client: Client,
  filter: { migrationId?: string; running?: boolean; limit?: number } = {}
): Promise<RunSummary[]> {
  const clauses = [`WorkflowType = ${quote(WORKFLOW_TYPE)}`];
  if (filter.migrationId) clauses.push(`MigrationId = ${quote(filter.migrationId)}`);
  if (filter.running) clauses.push(`ExecutionStatus = "Running"`);
  const runs: RunSummary[] = [];
  for await (const info of client.workflow.list({ query: clauses.join(' AND ') })) {
    runs.push(summary(info));
    if (runs.length >= (filter.limit ?? 200)) break;
  }
  return runs.sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
}

/**
 * The running run of a migration: first the id its module names (exact and immediate), then by the MigrationId
 * search attribute (a run started with --database/--container overrides).
 */
export async function findRunningRun(
  client: Client,
  migrationId: string,
  expectedWorkflowId: string | undefined
): Promise<WorkflowHandle> {
  if (expectedWorkflowId) {
    try {
      const described = await client.workflow.getHandle(expectedWorkflowId).describe();
      if (described.status.name === 'RUNNING') return client.workflow.getHandle(expectedWorkflowId);
    } catch {
      // not found: look it up by search attribute below
    }
  }
  const running = (await listRuns(client, { migrationId, running: true })).filter(
    (r) => !r.workflowId.startsWith(`${PLAN_WORKFLOW_ID_PREFIX}/`)
  );
  if (running.length === 0) {
    throw new CliError(
      `no run of migration "${migrationId}" is in progress`,
      `start one with \`${migrateCommand('up', migrationId)}\`, or see past runs with \`${migrateCommand('report', migrationId)}\``
    );
  }
  if (running.length > 1) {
    throw new CliError(
      `${running.length} runs of "${migrationId}" are in progress (${running.map((r) => r.workflowId).join(', ')})`,
      'name the one you mean with --database and --container'
    );
  }
  return client.workflow.getHandle(running[0]!.workflowId);
}

/** The latest closed-or-running run of a migration that is not a plan, with its report when it has one. */
export async function latestRun(
  client: Client,
  migrationId: string,
  options: { includePlans?: boolean } = {}
): Promise<RunSummary | undefined> {
  const runs = (await listRuns(client, { migrationId, limit: 50 })).filter(
    (r) => options.includePlans || !r.workflowId.startsWith(`${PLAN_WORKFLOW_ID_PREFIX}/`)
  );
  return runs[0];
}

export async function runReport(client: Client, run: RunSummary): Promise<RunbookReport> {
  return (await client.workflow.getHandle(run.workflowId, run.runId).result()) as RunbookReport;
}

/** Whether any worker polled the task queue lately (a run started with none waits silently otherwise). */
export async function workerPolls(client: Client, taskQueue: string): Promise<boolean> {
  try {
    const { pollers } = await client.workflowService.describeTaskQueue({
      namespace: client.options.namespace,
      taskQueue: { name: taskQueue },
      taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW
    });
    return (pollers?.length ?? 0) > 0;
  } catch {
    return true; // cannot tell: say nothing rather than something wrong
  }
}

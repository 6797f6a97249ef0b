/**
 * `drill <id>`: a restore drill of the migration's container (the `restoreDrill` workflow): restored side by side
 * into a new account, compared with the live container, the account deleted, the drill recorded for
 * `requireRestoreDrill`. Follows the drill phase by phase unless --detach. Exit 0 when the drill passed, 2 when it
 * failed (recorded as failed), 1 on an error.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError } from '@temporalio/client';
import type { DrillRecord } from '../../common/activities';
import { parseRestoreDrillInput, type RestoreDrillInput } from '../../common/drill-input';
import { drillStatusQuery, type DrillStatus } from '../../workflows/messages';
import { print, type CliContext } from '../context';
import { emit } from '../output';
import { CliError, rootMessage } from '../errors';
import { formatDuration, workerCommand } from '../format';
import { workerPolls } from '../runs';
import { findMigration, requireAccount, resolveTarget } from '../target';
import { workflowUrl } from './run';

export const DRILL_WORKFLOW_TYPE = 'restoreDrill';

export interface DrillOptions {
  database?: string;
  container?: string;
  at?: string;
  sample?: number;
  account?: string;
  detach?: boolean;
}

/** One drill per container at a time: Temporal refuses a second start with the same id while one runs. */
export function drillWorkflowId(account: string, database: string, container: string): string {
  return `cosmos-runbook-drill/${account}/${database}/${container}`;
}

const PHASES: Record<DrillStatus['phase'], string> = {
  preparing: 'waiting for the restore point to be restorable',
  restoring: 'restoring into a new account (minutes to hours on Azure)',
  comparing: 'comparing the copy with the live container',
  'cleaning-up': 'deleting the drill account',
  recorded: 'recorded',
};

export function describeDrill(record: DrillRecord): string {
  return (
    `${record.documents} documents restored at ${record.at} into ${record.copyAccount} in ` +
    // durationMs is milliseconds; formatDuration takes seconds.
    `${formatDuration(record.durationMs / 1000)} (${record.docsPerSecond} docs/s); account deleted; drill recorded`
  );
}

export async function drillCommand(ctx: CliContext, migrationId: string, options: DrillOptions): Promise<number> {
  const registry = await ctx.migrations();
  const target = resolveTarget(findMigration(registry, migrationId), options, ctx.config.database);
  const account = requireAccount(ctx.config);
  const input: RestoreDrillInput = {
    migration: migrationId,
    database: target.database,
    container: target.container,
    ...(options.at !== undefined ? { at: options.at } : {}),
    ...(options.sample !== undefined ? { sampleSize: options.sample } : {}),
    ...(options.account !== undefined ? { account: options.account } : {}),
  };
  try {
    parseRestoreDrillInput(input);
  } catch (err) {
    throw new CliError((err as Error).message.replace('invalid restoreDrill input:\n', 'invalid option: '));
  }
  const { client } = await ctx.temporal();
  const workflowId = drillWorkflowId(account, target.database, target.container);
  const taskQueue = ctx.config.temporal.taskQueue;
  let handle;
  try {
    handle = await client.workflow.start(DRILL_WORKFLOW_TYPE, {
      taskQueue,
      workflowId,
      args: [input],
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw new CliError(`a restore drill of ${target.database}/${target.container} is running: ${workflowId}`);
    }
    throw err;
  }
  print(`started a restore drill of ${target.database}/${target.container}: workflow ${workflowId}`);
  if (ctx.config.temporal.uiUrl)
    print(`  web UI: ${workflowUrl(ctx.config.temporal.uiUrl, ctx.config.temporal.namespace, workflowId)}`);
  if (!(await workerPolls(client, taskQueue))) {
    print(`warning: no worker polls task queue "${taskQueue}"; the drill waits until one does (${workerCommand()})`);
  }
  if (options.detach) {
    emit({ workflowId, detached: true });
    return 0;
  }

  let settled: { record?: DrillRecord; error?: unknown } | undefined;
  void handle.result().then(
    (record) => (settled = { record: record as DrillRecord }),
    (error: unknown) => (settled = { error })
  );
  let shown: string | undefined;
  while (!settled) {
    const status = await handle.query(drillStatusQuery).catch(() => undefined);
    if (status && status.phase !== shown && status.phase !== 'recorded') {
      shown = status.phase;
      print(`  ${PHASES[status.phase]}${status.phase === 'restoring' && status.account ? ` (${status.account})` : ''}`);
    }
    await sleep(500);
  }
  if (settled.record) {
    print(`restore drill ok: ${describeDrill(settled.record)}`);
    emit({ workflowId, ok: true, record: settled.record });
    return 0;
  }
  if (settled.error instanceof WorkflowFailedError) {
    print(`restore drill FAILED: ${rootMessage(settled.error)}`);
    emit({ workflowId, ok: false, failure: rootMessage(settled.error) });
    return 2;
  }
  throw settled.error;
}

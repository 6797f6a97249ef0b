/** `approve` / `abort` / `rollback` / `resume`: the runbook's human gates, sent to the run that holds the container. */
import type { WorkflowHandle } from '@temporalio/client';
import { abortSignal, approveSignal, resumeSignal, rollbackSignal } from '../../workflows/messages';
import { print, type CliContext } from '../context';
import { emit } from '../output';
import { currentUser, findRunningRun } from '../runs';
import { requireAccount, resolveTarget, runbookWorkflowId, findMigration } from '../target';

export type SignalName = 'approve' | 'abort' | 'rollback' | 'resume';

export interface SignalOptions {
  database?: string;
  container?: string;
  by?: string;
  comment?: string;
  reason?: string;
}

/** The run a signal is for: the module's workflow id when the module is known, else by MigrationId. */
export async function runFor(ctx: CliContext, migrationId: string, options: SignalOptions): Promise<WorkflowHandle> {
  let expected: string | undefined;
  try {
    const migration = findMigration(await ctx.migrations(), migrationId);
    const target = resolveTarget(migration, options, ctx.config.database);
    expected = runbookWorkflowId(requireAccount(ctx.config), target.database, target.container);
  } catch {
    // The module may be gone or renamed since the run started: the search attribute still finds the run.
  }
  const { client } = await ctx.temporal();
  return findRunningRun(client, migrationId, expected);
}

export async function signalCommand(
  ctx: CliContext,
  name: SignalName,
  migrationId: string,
  options: SignalOptions
): Promise<number> {
  const handle = await runFor(ctx, migrationId, options);
  switch (name) {
    case 'approve': {
      const by = options.by ?? currentUser();
      await handle.signal(approveSignal, { by, ...(options.comment ? { comment: options.comment } : {}) });
      print(`approved ${migrationId} as ${by} (${handle.workflowId})`);
      emit({ migration: migrationId, workflowId: handle.workflowId, signal: name, by });
      return 0;
    }
    case 'abort':
      await handle.signal(abortSignal, options.reason ? { reason: options.reason } : {});
      print(`abort sent to ${migrationId} (${handle.workflowId})`);
      break;
    case 'rollback':
      await handle.signal(rollbackSignal, options.reason ? { reason: options.reason } : {});
      print(`rollback sent to ${migrationId} (${handle.workflowId})`);
      break;
    case 'resume':
      await handle.signal(resumeSignal);
      print(`resume sent to ${migrationId} (${handle.workflowId})`);
      break;
  }
  emit({ migration: migrationId, workflowId: handle.workflowId, signal: name });
  return 0;
}

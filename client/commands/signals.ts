/** `approve` / `abort` / `rollback` / `resume`: the runbook's human gates, sent to the run that holds the container. */
import type { WorkflowHandle } from '@temporalio/client';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PendingDecision } from '../../common/status';
import {
  abortSignal,
  approveSignal,
  cutoverSignal,
  resumeSignal,
  rollbackSignal,
  statusQuery,
} from '../../workflows/messages';
import { CliError } from '../errors';
import { print, type CliContext } from '../context';
import { emit } from '../output';
import { currentUser, findRunningRun } from '../runs';
import { requireAccount, resolveTarget, runbookWorkflowId, findMigration } from '../target';

export type SignalName = 'approve' | 'abort' | 'rollback' | 'resume' | 'cutover';

export interface SignalOptions {
  database?: string;
  container?: string;
  by?: string;
  comment?: string;
  reason?: string;
}

/** Gates an approve answers (the run's own, and the rollback's). */
const APPROVE_GATES: readonly PendingDecision['kind'][] = [
  'approve',
  'approve-restore',
  'accept-restore',
  'accept-conflicts',
  'approve-delete-container',
];
/** How long `approve` waits for a gate to open (preflight may still be planning when a script approves at once). */
const GATE_WAIT_MS = 60_000;

/**
 * An approve counts only for the gate open when it arrives (the run refuses one with none open, in its timeline): so
 * wait for the run to ask, up to GATE_WAIT_MS, and say so when it does not.
 */
export async function waitForApprovalGate(handle: WorkflowHandle, migrationId: string): Promise<void> {
  const deadline = Date.now() + GATE_WAIT_MS;
  let phase = 'unknown';
  for (;;) {
    const status = await handle.query(statusQuery).catch(() => undefined);
    if (status?.pendingDecision && APPROVE_GATES.includes(status.pendingDecision.kind)) return;
    phase = status?.phase ?? phase;
    if (Date.now() > deadline || (status && !['preflight', 'awaiting-approval', 'rolling-back'].includes(phase))) {
      throw new CliError(`${migrationId} is not waiting for an approval (phase ${phase}); nothing was sent`);
    }
    await sleep(500);
  }
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
      await waitForApprovalGate(handle, migrationId);
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
    case 'cutover': {
      const by = options.by ?? currentUser();
      await handle.signal(cutoverSignal, { by });
      print(`cutover sent to ${migrationId} as ${by} (${handle.workflowId})`);
      break;
    }
  }
  emit({ migration: migrationId, workflowId: handle.workflowId, signal: name });
  return 0;
}

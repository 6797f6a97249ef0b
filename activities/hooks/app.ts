/**
 * The stop-app and start-app hooks of a rollback, and the cutover hook of an online migration: the configured command,
 * or nothing when none is configured.
 */
import { ErrorType } from '../../common/errors';
import { ApplicationFailure } from '@temporalio/common';
import { cancellationSignal, heartbeat } from '@temporalio/activity';
import { createHash } from 'node:crypto';
import type { HookName } from '../../common/activities';
import type { CommandHook, HooksConfig } from './config';
import { describeFailure, runCommand } from './run-command';

const DEFAULT_TIMEOUT_SECONDS = 300;

/**
 * A digest of a hook's configuration (command and timeout), so a run can record which hook it decided on without
 * recording the command (which may hold a secret): the first 16 hex digits of its SHA-256.
 */
export function hookFingerprint(hook: CommandHook): string {
  const canonical = JSON.stringify({ command: hook.command, timeoutSeconds: hook.timeoutSeconds ?? null });
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

export function createRunHook(hooks: HooksConfig) {
  return async function runHook(input: {
    hook: HookName;
    migrationId: string;
    workflowId: string;
    expected?: string | null;
  }): Promise<{ ran: boolean }> {
    const byName: Record<HookName, CommandHook | undefined> = {
      'stop-app': hooks.stopApp,
      'start-app': hooks.startApp,
      cutover: hooks.cutover,
      'rollback-cutover': hooks.rollbackCutover,
    };
    const hook = byName[input.hook];
    if (input.expected !== undefined) {
      const mine = hook ? hookFingerprint(hook) : null;
      if (mine !== input.expected) {
        const said = (f: string | null) => (f === null ? 'none' : `one (${f})`);
        throw ApplicationFailure.retryable(
          `the run decided on the ${input.hook} hook with ${said(input.expected)} configured; this worker's ` +
            `HOOKS_CONFIG has ${said(mine)}: it refuses to run it (a worker configured as recorded will)`,
          ErrorType.HooksConfigMismatch
        );
      }
    }
    if (!hook) return { ran: false };
    const timeoutSeconds = hook.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
    // Heartbeat while the command runs, so a long hook is not mistaken for a dead worker.
    const beat = setInterval(() => heartbeat(), 5_000);
    try {
      const result = await runCommand(hook.command, {
        env: {
          MIGRATION_ID: input.migrationId,
          WORKFLOW_ID: input.workflowId,
          PHASE: input.hook === 'cutover' ? 'catching-up' : 'rolling-back',
          HOOK: input.hook,
        },
        timeoutSeconds,
        signal: cancellationSignal(),
      });
      if (result.exitCode !== 0) {
        throw ApplicationFailure.retryable(
          `${input.hook} hook failed: ${describeFailure(result, timeoutSeconds)}`,
          ErrorType.HookFailed
        );
      }
      return { ran: true };
    } finally {
      clearInterval(beat);
    }
  };
}

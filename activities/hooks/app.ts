/**
 * The stop-app and start-app hooks of a rollback, and the cutover hook of an online migration: the configured command,
 * or nothing when none is configured.
 */
import { ErrorType } from '../../common/errors';
import { ApplicationFailure } from '@temporalio/common';
import { cancellationSignal, heartbeat } from '@temporalio/activity';
import type { HookName } from '../../common/activities';
import type { CommandHook, HooksConfig } from './config';
import { describeFailure, runCommand } from './run-command';

const DEFAULT_TIMEOUT_SECONDS = 300;

export function createRunHook(hooks: HooksConfig) {
  return async function runHook(input: {
    hook: HookName;
    migrationId: string;
    workflowId: string;
  }): Promise<{ ran: boolean }> {
    const byName: Record<HookName, CommandHook | undefined> = {
      'stop-app': hooks.stopApp,
      'start-app': hooks.startApp,
      cutover: hooks.cutover,
      'rollback-cutover': hooks.rollbackCutover,
    };
    const hook = byName[input.hook];
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

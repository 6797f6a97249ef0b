/**
 * Post-migration health checks (monitoring phase): each configured check is a command that must exit 0 or a URL
 * that must answer 2xx. An unhealthy check is a result, not an error: the workflow decides to roll back.
 */
import { cancellationSignal } from '@temporalio/activity';
import type { HealthReport } from '../../common/activities';
import type { HealthCheckHook, HooksConfig } from './config';
import { describeFailure, runCommand } from './run-command';

const DEFAULT_TIMEOUT_SECONDS = 30;

async function runCheck(
  check: HealthCheckHook,
  input: { migrationId: string; workflowId: string }
): Promise<HealthReport['checks'][number]> {
  const timeoutSeconds = check.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  if (check.command) {
    const result = await runCommand(check.command, {
      env: { MIGRATION_ID: input.migrationId, WORKFLOW_ID: input.workflowId, PHASE: 'monitoring', CHECK: check.name },
      timeoutSeconds,
      signal: cancellationSignal(),
    });
    return result.exitCode === 0
      ? { name: check.name, ok: true }
      : { name: check.name, ok: false, detail: describeFailure(result, timeoutSeconds) };
  }
  try {
    const response = await fetch(check.url!, {
      signal: AbortSignal.any([AbortSignal.timeout(timeoutSeconds * 1000), cancellationSignal()]),
    });
    await response.body?.cancel();
    return response.ok
      ? { name: check.name, ok: true }
      : { name: check.name, ok: false, detail: `HTTP ${response.status}` };
  } catch (err) {
    return { name: check.name, ok: false, detail: (err as Error).message };
  }
}

export function createHealthCheck(hooks: HooksConfig) {
  return async function healthCheck(input: { migrationId: string; workflowId: string }): Promise<HealthReport> {
    const checks = await Promise.all((hooks.healthChecks ?? []).map((check) => runCheck(check, input)));
    return { ok: checks.every((check) => check.ok), checks };
  };
}

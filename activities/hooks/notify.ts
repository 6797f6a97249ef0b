/**
 * Phase-change notifications: Slack-compatible JSON (`{"text": ...}` plus the event's fields) POSTed to each
 * configured webhook, and/or the configured command run with the event in its environment.
 * The workflow treats notification as best effort; here a failure is still reported, naming the webhook.
 */
import { ErrorType } from '../../common/errors';
import { ApplicationFailure } from '@temporalio/common';
import { activityInfo, cancellationSignal, heartbeat } from '@temporalio/activity';
import type { NotifyEvent } from '../../common/activities';
import type { HooksConfig } from './config';
import { describeFailure, runCommand } from './run-command';

const WEBHOOK_TIMEOUT_MS = 10_000;
const ICONS: Record<NotifyEvent['level'], string> = {
  info: ':information_source:',
  warning: ':warning:',
  error: ':rotating_light:',
};

export function notificationText(event: NotifyEvent): string {
  const change = event.previousPhase ? `${event.previousPhase} → ${event.phase}` : event.phase;
  return `${ICONS[event.level]} migration *${event.migrationId}* (${event.workflowId}): ${change}. ${event.message}`;
}

/** A webhook named without its path or query, which often hold its secret (Slack puts the token in the path). */
function webhookName(url: string, index: number): string {
  try {
    return `webhook #${index + 1} (${new URL(url).host})`;
  } catch {
    return `webhook #${index + 1}`;
  }
}

export function createNotify(hooks: HooksConfig) {
  return async function notify(event: NotifyEvent): Promise<void> {
    const webhooks = hooks.notify?.webhooks ?? [];
    const body = JSON.stringify({ text: notificationText(event), ...event });
    const problems: string[] = [];
    // A retry skips what an earlier attempt delivered: one dead webhook must not spam the others.
    const delivered = new Set<number>((activityInfo().heartbeatDetails as number[] | undefined) ?? []);
    await Promise.all(
      webhooks.map(async (url, index) => {
        if (delivered.has(index)) return;
        try {
          const response = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body,
            signal: AbortSignal.any([AbortSignal.timeout(WEBHOOK_TIMEOUT_MS), cancellationSignal()]),
          });
          if (response.ok) delivered.add(index);
          else problems.push(`${webhookName(url, index)}: HTTP ${response.status}`);
        } catch (err) {
          problems.push(`${webhookName(url, index)}: ${(err as Error).message}`);
        }
      })
    );
    const command = hooks.notify?.command;
    if (command && !delivered.has(-1)) {
      const result = await runCommand(command, {
        env: {
          MIGRATION_ID: event.migrationId,
          WORKFLOW_ID: event.workflowId,
          PHASE: event.phase,
          PREVIOUS_PHASE: event.previousPhase ?? '',
          LEVEL: event.level,
          MESSAGE: event.message,
        },
        timeoutSeconds: 30,
        signal: cancellationSignal(),
      });
      if (result.exitCode === 0) delivered.add(-1);
      else problems.push(`notify command: ${describeFailure(result, 30)}`);
    }
    if (problems.length) {
      heartbeat([...delivered]);
      throw ApplicationFailure.retryable(`notification failed: ${problems.join('; ')}`, ErrorType.NotifyFailed);
    }
  };
}

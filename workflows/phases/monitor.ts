/**
 * Monitoring (the seed's step 4): health checks every interval for the configured duration, on durable timers. A
 * failed check or a rollback signal rolls back.
 */
import type { Duration } from '@temporalio/common';
import { condition } from '@temporalio/workflow';
import { durationMs } from '../../common/duration';
import type { Run } from '../run/run';
import { end, type Transition } from '../run/transition';
import { rollingBack } from './migrate';

export async function monitor(run: Run): Promise<Transition> {
  const { options, inbox } = run;
  const interval = durationMs(options.monitor.interval as Duration);
  const until = Date.now() + durationMs(options.monitor.duration as Duration);
  await run.enterPhase('monitoring', `health checks every ${options.monitor.interval} for ${options.monitor.duration}`);
  while (Date.now() < until) {
    const wait = Math.min(interval, until - Date.now());
    if (await condition(() => inbox.rollbackReason !== undefined, wait, { summary: 'next health check' })) {
      return rollingBack(run, 'rollback requested');
    }
    const health = await run.acts.quick.healthCheck.executeWithOptions({ summary: 'health checks' }, [
      { migrationId: run.state.migration.id, workflowId: run.workflowId },
    ]);
    if (!health.ok) {
      const failed = health.checks.filter((c) => !c.ok).map((c) => `${c.name}${c.detail ? ` (${c.detail})` : ''}`);
      return rollingBack(run, `health check failed: ${failed.join(', ')}`);
    }
  }
  if (inbox.rollbackReason !== undefined) return rollingBack(run, 'rollback requested');
  return end({ phase: 'completed', status: 'completed' });
}

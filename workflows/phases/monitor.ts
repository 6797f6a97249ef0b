/**
 * Monitoring (the manual runbook's step 4): health checks every interval for the configured duration, on durable timers.
 * `monitor.failuresBeforeRollback` failed checks in a row (default 3), or a rollback signal, roll back; a blip does not.
 */
import type { Duration } from '@temporalio/common';
import { condition } from '@temporalio/workflow';
import { durationMs } from '../../common/duration';
import type { Run } from '../run/run';
import { end, type Transition } from '../run/transition';
import { probeInterval } from './knowing';
import { rollingBack } from './migrate';

export async function monitor(run: Run): Promise<Transition> {
  const { options, inbox } = run;
  const interval = durationMs(options.monitor.interval as Duration);
  const until = Date.now() + durationMs(options.monitor.duration as Duration);
  // Absent in runs whose options were resolved before the field existed: they rolled back at the first failure.
  const failuresBeforeRollback = options.monitor.failuresBeforeRollback ?? 1;
  let failuresInARow = 0;
  await run.enterPhase('monitoring', `health checks every ${options.monitor.interval} for ${options.monitor.duration}`);
  while (Date.now() < until) {
    const wait = Math.min(interval, until - Date.now());
    if (await condition(() => inbox.rollbackReason !== undefined, wait, { summary: 'next health check' })) {
      return rollingBack(run, 'rollback requested');
    }
    const health = await run.acts.quick.healthCheck.executeWithOptions({ summary: 'health checks' }, [
      { migrationId: run.state.migration.id, workflowId: run.workflowId },
    ]);
    // Runs with a preflight baseline also probe the container: without any hook the window still means something.
    const point = await probeInterval(run);
    if (point) run.refreshDetails();
    const failed = health.checks.filter((c) => !c.ok).map((c) => `${c.name}${c.detail ? ` (${c.detail})` : ''}`);
    if (point?.bad) failed.push(`probe (${point.reason})`);
    if (failed.length === 0) {
      failuresInARow = 0;
      continue;
    }
    failuresInARow++;
    if (failuresInARow < failuresBeforeRollback) {
      run.note(`health check failed (${failuresInARow} of ${failuresBeforeRollback} in a row): ${failed.join(', ')}`);
      run.refreshDetails();
      continue;
    }
    const times = failuresInARow > 1 ? ` (${failuresInARow} checks in a row)` : '';
    return rollingBack(run, `health check failed${times}: ${failed.join(', ')}`);
  }
  if (inbox.rollbackReason !== undefined) return rollingBack(run, 'rollback requested');
  return end({ phase: 'completed', status: 'completed' });
}

/**
 * Monitoring (the manual runbook's step 4): health checks every interval for the configured duration, on durable timers.
 * `monitor.failuresBeforeRollback` failed checks in a row (default 3), or a rollback signal, roll back; a blip does not.
 *
 * A window of days or weeks (each interval adds a timer and two activities to history) continues as new when the
 * history grows long: the window's end and the failures in a row are in the run's state, so the next run goes on
 * where this one stopped instead of starting the window again.
 */
import type { Duration } from '@temporalio/common';
import { durationMs } from '../../common/duration';
import type { Run } from '../run/run';
import { end, type Transition } from '../run/transition';
import { probeInterval } from './knowing';
import { rollingBack } from './migrate';

/**
 * `eachInterval` (copy mode: a round of the reverse sync, workflows/copy/monitor.ts) runs before each health check;
 * it returns true when a rollback was asked for meanwhile.
 */
export async function monitor(run: Run, eachInterval?: () => Promise<boolean>): Promise<Transition> {
  const { options, inbox } = run;
  const { state } = run;
  const interval = durationMs(options.monitor.interval as Duration);
  // Absent in runs whose options were resolved before the field existed: they rolled back at the first failure.
  const failuresBeforeRollback = options.monitor.failuresBeforeRollback ?? 1;
  if (state.knowing.monitoring && state.phase === 'monitoring') {
    run.refreshDetails(); // continued as new mid-window: the same window goes on
  } else {
    state.knowing.monitoring = {
      until: new Date(Date.now() + durationMs(options.monitor.duration as Duration)).toISOString(),
      failuresInARow: 0,
    };
    await run.enterPhase(
      'monitoring',
      `health checks every ${options.monitor.interval} for ${options.monitor.duration}`
    );
  }
  const window = state.knowing.monitoring;
  const until = Date.parse(window.until);
  while (Date.now() < until) {
    const wait = Math.min(interval, until - Date.now());
    const waited = await run.waitFor(() => inbox.rollbackRequested, wait, 'next health check');
    if (waited === 'done') return rollingBack(run, 'rollback requested');
    if (waited === 'continue-as-new') return { to: 'continue-as-new' };
    if (eachInterval && (await eachInterval())) return rollingBack(run, 'rollback requested');
    const health = await run.acts.quick.healthCheck.executeWithOptions({ summary: 'health checks' }, [
      { migrationId: run.state.migration.id, workflowId: run.workflowId },
    ]);
    // Runs with a preflight baseline also probe the container: without any hook the window still means something.
    const point = await probeInterval(run);
    if (point) run.refreshDetails();
    const failed = health.checks.filter((c) => !c.ok).map((c) => `${c.name}${c.detail ? ` (${c.detail})` : ''}`);
    if (point?.bad) failed.push(`probe (${point.reason})`);
    if (failed.length === 0) {
      window.failuresInARow = 0;
      continue;
    }
    window.failuresInARow++;
    const inARow = window.failuresInARow;
    if (inARow < failuresBeforeRollback) {
      run.note(`health check failed (${inARow} of ${failuresBeforeRollback} in a row): ${failed.join(', ')}`);
      run.refreshDetails();
      continue;
    }
    const times = inARow > 1 ? ` (${inARow} checks in a row)` : '';
    return rollingBack(run, `health check failed${times}: ${failed.join(', ')}`);
  }
  if (inbox.rollbackRequested) return rollingBack(run, 'rollback requested');
  return end({ phase: 'completed', status: 'completed' });
}

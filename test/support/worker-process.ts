/**
 * The worker as users start it (`npx tsx worker/main.ts` unless told), in its own process group so a test can
 * SIGKILL it whole, configured only through its environment: the stack's, a task queue and a migrations folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { temporal } from '@temporalio/proto';
import type { Harness } from '../workflow/harness';

export function startWorkerProcess(
  h: Harness,
  taskQueue: string,
  command = ['npx', 'tsx', 'worker/main.ts']
): Promise<ChildProcess> {
  const env = h.stack.env;
  const proc = spawn(command[0]!, command.slice(1), {
    cwd: path.join(__dirname, '..', '..'),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      ...env,
      TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS!,
      TEMPORAL_TASK_QUEUE: taskQueue,
      MIGRATIONS_DIR: h.migrationsDir,
      ARM_POLL_INTERVAL_MS: '50',
    },
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`worker did not start:\n${output}`)), 90_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('worker listening on task queue')) {
        clearTimeout(timer);
        resolve(proc);
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => reject(new Error(`worker exited with ${code}:\n${output}`)));
  });
}

/** SIGKILL to the worker's whole process group (npx, tsx and node), if it still runs. */
export function killWorkerProcess(child: ChildProcess | undefined): void {
  if (child?.pid && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Some attempt of `activity` in the run's history was a retry (attempt 2 or more): it went on, not started over. */
export async function retried(
  handle: { fetchHistory: () => Promise<temporal.api.history.v1.IHistory> },
  activity: string
) {
  const { events } = await handle.fetchHistory();
  const scheduled = new Map<string, string>();
  return (events ?? []).some((e) => {
    const type = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (type) scheduled.set(String(e.eventId), type);
    const started = e.activityTaskStartedEventAttributes;
    return !!started && (started.attempt ?? 1) >= 2 && scheduled.get(String(started.scheduledEventId)) === activity;
  });
}

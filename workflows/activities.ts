/** The runbook's activity stubs, each with the timeouts and retries its side effect calls for. */
import { ActivityCancellationType, proxyActivities, type RetryPolicy } from '@temporalio/workflow';
import type { RunbookActivities } from '../common/activities';
import { NON_RETRYABLE_ERROR_TYPES } from '../common/errors';
import type { RunbookTuning } from '../common/tuning';
import { durationMs } from '../common/duration';

/**
 * The longest heartbeat timeout of the range activities (migrateRange, revertFromPreimages). They heartbeat every
 * second while they run (keep-alive timers; the worker sends at most one a second, maxHeartbeatThrottleInterval), so
 * 5 s tolerates 4 s of a stalled event loop, and a killed worker's ranges are taken over by another worker within
 * seconds instead of the 30 s of the other long activities (`npm run bench`, resume).
 */
export const RANGE_HEARTBEAT_TIMEOUT_MS = 5_000;

/** Failures no retry can fix: the workflow decides what to do next. */
export const NON_RETRYABLE = [...NON_RETRYABLE_ERROR_TYPES];

export function runbookActivities(tuning: RunbookTuning) {
  const retry: RetryPolicy = {
    initialInterval: tuning.retryInitialInterval,
    backoffCoefficient: 2,
    maximumInterval: '1m',
    maximumAttempts: 10,
    nonRetryableErrorTypes: NON_RETRYABLE,
  };
  /** Short calls: reads, checks, records. */
  const quick = proxyActivities<RunbookActivities>({ startToCloseTimeout: '5 minutes', retry });
  /**
   * Long calls that heartbeat: a dead worker is noticed within the heartbeat timeout, and the retry resumes.
   * A cancelled one is waited for (it stops after the page it is writing), so nothing writes behind the workflow's
   * back once it moves on; the SDK's effective default would not wait.
   */
  const longOptions = {
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: tuning.heartbeatTimeout,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry,
  } as const;
  const long = proxyActivities<RunbookActivities>(longOptions);
  /** The range activities: long ones that heartbeat every second, so a dead worker is noticed within seconds. */
  const range = proxyActivities<RunbookActivities>({
    ...longOptions,
    heartbeatTimeout: Math.min(durationMs(tuning.heartbeatTimeout), RANGE_HEARTBEAT_TIMEOUT_MS),
  });
  /** A point-in-time restore: minutes to hours on Azure; it heartbeats its ARM operation and resumes it on a retry. */
  const restore = proxyActivities<RunbookActivities>({
    startToCloseTimeout: '24 hours',
    heartbeatTimeout: tuning.heartbeatTimeout,
    retry: { ...retry, maximumInterval: '5m', maximumAttempts: 20 },
  });
  /**
   * Whole-container scans (snapshot, plan, verification, restore verification): an aggregate per feed range with a
   * heartbeat after each, so hours on a container of millions, and a worker that dies is noticed within minutes.
   */
  const scan = proxyActivities<RunbookActivities>({
    startToCloseTimeout: '12 hours',
    heartbeatTimeout: '5 minutes',
    retry,
  });
  /** A monitoring probe: a failed probe is a data point (a bad interval), not something to retry for long. */
  const probe = proxyActivities<RunbookActivities>({
    startToCloseTimeout: '2 minutes',
    retry: { ...retry, maximumAttempts: 2 },
  });
  /**
   * ARM long-running operations (container steps, the pre-images container, index transformation, a container's
   * delete and properties): they heartbeat while they wait (activities/index.ts keepAlive), so a worker that dies in
   * one is noticed within the heartbeat timeout, not after the 2 hours an operation may take. A timeout is only an
   * option of the command, not its shape: recorded histories replay unchanged (test/workflow/replay.test.ts).
   */
  const arm = proxyActivities<RunbookActivities>({
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: tuning.heartbeatTimeout,
    retry,
  });
  /** Notifications are best effort: a few quick tries, then the run goes on. */
  const notify = proxyActivities<RunbookActivities>({
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1s', maximumAttempts: 2 },
  });
  return { quick, long, range, arm, restore, probe, scan, notify };
}

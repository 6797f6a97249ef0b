/**
 * How many documents a run has migrated so far, from the run itself and cheaply enough to read every half second:
 * its status counter (ranges whose migrateRange attempt finished) plus the `counters.migrated` that each migrateRange
 * attempt still running heartbeated last (activities/cosmos/migrate-range.ts: a RangeCheckpoint after every committed
 * page, cumulative across retries since a retry resumes from it). The server keeps the last heartbeat details of a
 * pending activity (`DescribeWorkflowExecutionResponse.pendingActivities[].heartbeatDetails`), so nothing has to scan
 * the container: a COUNT query over 50 000 documents in the emulator took seconds on a busy machine, long enough for
 * thousands of documents to pass between two readings. The reading trails the work by at most the SDK's heartbeat
 * throttle, 0.8 × the heartbeat timeout (4 s for migrateRange's 5 s; `defaultHeartbeatThrottleInterval` in
 * node_modules/@temporalio/worker/lib/worker-options.d.ts): a kill comes that much later, never lost.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import type { RangeCheckpoint } from '../../../activities/cosmos/migrate-range';
import { statusQuery } from '../../../workflows/messages';

export async function migratedSoFar(handle: WorkflowHandle): Promise<number> {
  const [status, description] = await Promise.all([handle.query(statusQuery), handle.describe()]);
  let inFlight = 0;
  for (const activity of description.raw.pendingActivities ?? []) {
    if (activity.activityType?.name !== 'migrateRange') continue;
    const payload = activity.heartbeatDetails?.payloads?.[0];
    if (!payload) continue;
    const checkpoint = defaultPayloadConverter.fromPayload<RangeCheckpoint | undefined>(payload);
    inFlight += checkpoint?.counters?.migrated ?? 0;
  }
  return status.counters.migrated + inFlight;
}

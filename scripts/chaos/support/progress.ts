/**
 * Where a run is, read from the Temporal server alone (`describe`, no query): a query is answered by a worker, and
 * right after a kill the only worker is starting or replaying the run's history, so a reading through it came seconds
 * late and thousands of documents passed between two kills. `describe` gives the phase (the `MigrationPhase` search
 * attribute the run upserts on each phase change, workflows/run/run.ts) and the pending activities with the details
 * each last heartbeated: a migrateRange attempt heartbeats a RangeCheckpoint after every committed page, its counters
 * cumulative across the attempts of one activity (a retry resumes from them, activities/cosmos/migrate-range.ts). The
 * documents migrated so far are the sum, over every migrateRange activity seen (run id and activity id), of the highest
 * `counters.migrated` it heartbeated. It trails the work by at most the SDK's heartbeat throttle, 0.8 × the heartbeat
 * timeout (4 s for migrateRange's 5 s; `defaultHeartbeatThrottleInterval` in
 * node_modules/@temporalio/worker/lib/worker-options.d.ts), and a range's last pages before it completes may go
 * unseen: a kill comes that much later, never lost.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import type { RangeCheckpoint } from '../../../activities/cosmos/migrate-range';
import type { Phase } from '../../../common/phases';
import { MIGRATION_PHASE } from '../../../common/search-attributes';

export interface RunReading {
  /** Absent until the run entered its first phase. */
  phase?: Phase;
  /** migrateRange activities pending now (scheduled, running or waiting for a retry). */
  rangesInFlight: number;
  /** Documents migrated so far, as heartbeated. */
  migrated: number;
}

export class RunProgress {
  /** `${runId}/${activityId}` → the highest `counters.migrated` that activity heartbeated. */
  private readonly seen = new Map<string, number>();

  constructor(private readonly handle: WorkflowHandle) {}

  async read(): Promise<RunReading> {
    const description = await this.handle.describe();
    let rangesInFlight = 0;
    for (const activity of description.raw.pendingActivities ?? []) {
      if (activity.activityType?.name !== 'migrateRange') continue;
      rangesInFlight += 1;
      const payload = activity.heartbeatDetails?.payloads?.[0];
      if (!payload) continue;
      const migrated = defaultPayloadConverter.fromPayload<RangeCheckpoint | undefined>(payload)?.counters?.migrated;
      const key = `${description.runId}/${activity.activityId}`;
      if (migrated !== undefined) this.seen.set(key, Math.max(this.seen.get(key) ?? 0, migrated));
    }
    let migrated = 0;
    for (const n of this.seen.values()) migrated += n;
    const phase = description.typedSearchAttributes.get(MIGRATION_PHASE) as Phase | undefined;
    return { phase, rangesInFlight, migrated };
  }
}

/**
 * The chaos kill schedule's reading of a run (scripts/chaos/support/progress.ts), from what `describe` answers: the
 * phase from the MigrationPhase search attribute, and documents migrated as the sum over migrateRange activities of
 * the highest `counters.migrated` each heartbeated, kept after the activity completes (it leaves the pending list)
 * and told apart by run (activity ids start again after a continue-as-new).
 */
import { defaultPayloadConverter, TypedSearchAttributes } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import { zeroCounters } from '../../common/counters';
import { MIGRATION_PHASE } from '../../common/search-attributes';
import { RunProgress } from '../../scripts/chaos/support/progress';

interface Pending {
  id: string;
  type?: string;
  migrated?: number;
}

/** A handle whose describe() answers what the server would for `runId`, `phase` and these pending activities. */
function describing(answers: { runId: string; phase: string; pending: Pending[] }[]): WorkflowHandle {
  let i = 0;
  return {
    describe: async () => {
      const { runId, phase, pending } = answers[Math.min(i++, answers.length - 1)]!;
      return {
        runId,
        typedSearchAttributes: new TypedSearchAttributes([{ key: MIGRATION_PHASE, value: phase }]),
        raw: {
          pendingActivities: pending.map((a) => ({
            activityId: a.id,
            activityType: { name: a.type ?? 'migrateRange' },
            heartbeatDetails:
              a.migrated === undefined
                ? undefined
                : {
                    payloads: [
                      defaultPayloadConverter.toPayload({
                        phase: 'scan',
                        counters: { ...zeroCounters(), migrated: a.migrated },
                        failures: [],
                      }),
                    ],
                  },
          })),
        },
      };
    },
  } as unknown as WorkflowHandle;
}

test('documents migrated: the highest heartbeat of each range activity, kept once it completes, apart per run', async () => {
  const progress = new RunProgress(
    describing([
      {
        runId: 'r1',
        phase: 'migrating',
        pending: [{ id: '5' }, { id: '6', migrated: 300 }, { id: '2', type: 'notify' }],
      },
      {
        runId: 'r1',
        phase: 'migrating',
        pending: [
          { id: '5', migrated: 200 },
          { id: '6', migrated: 900 },
        ],
      },
      // Activity 6 completed (no longer pending); 5's retry resumed from its last heartbeat and goes on.
      { runId: 'r1', phase: 'migrating', pending: [{ id: '5', migrated: 450 }] },
      // A retry that has not heartbeated yet shows the last details of the attempt before it: never less.
      { runId: 'r1', phase: 'migrating', pending: [{ id: '5', migrated: 400 }] },
      // After a continue-as-new the ids start again: activity 5 of run r2 is another range.
      { runId: 'r2', phase: 'migrating', pending: [{ id: '5', migrated: 100 }] },
      { runId: 'r2', phase: 'verifying', pending: [] },
    ])
  );
  const readings = [];
  for (let i = 0; i < 6; i++) readings.push(await progress.read());
  expect(readings).toEqual([
    { phase: 'migrating', rangesInFlight: 2, migrated: 300 },
    { phase: 'migrating', rangesInFlight: 2, migrated: 1100 },
    { phase: 'migrating', rangesInFlight: 1, migrated: 1350 },
    { phase: 'migrating', rangesInFlight: 1, migrated: 1350 },
    { phase: 'migrating', rangesInFlight: 1, migrated: 1450 },
    { phase: 'verifying', rangesInFlight: 0, migrated: 1450 },
  ]);
});

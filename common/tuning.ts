/**
 * Internal knobs of the runbook: production values here, shortened by tests through the hidden `tuning` field of the
 * input (not part of the documented input; validated separately so a typo still fails at once).
 */
import type { Duration } from '@temporalio/common';
import { z } from 'zod';

const duration = z.union([z.number().int().positive(), z.string().min(1)]).transform((d) => d as Duration);

export const tuningSchema = z
  .object({
    /** Lease time-to-live. */
    leaseTtlSeconds: z.number().int().min(5).default(600),
    /** Lease renewal period (a durable timer loop). */
    leaseRenewSeconds: z.number().int().min(1).default(120),
    /** Heartbeat timeout of the long activities (migrateRange, restore, hooks). */
    heartbeatTimeout: duration.default('30s'),
    /** First retry delay of activities. */
    retryInitialInterval: duration.default('1s'),
    /**
     * Pages per migrateRange call before the workflow checkpoints the range. The activity heartbeats its continuation
     * after every page (a retry resumes there), so this bounds history, not lost work: each return drains the
     * range's pages in flight and costs a workflow round trip (`npm run bench`).
     */
    maxPagesPerActivity: z.number().int().min(1).default(200),
    /** Continue-as-new after this many migrateRange completions, even when the server does not suggest it yet. */
    continueAsNewAfterActivities: z.number().int().min(1).default(500),
    /**
     * History events of one run after which it continues as new while it waits (approval, maintenance window, pause),
     * so a wait of days keeps each run's history bounded although the lease is renewed all along.
     */
    continueAsNewAfterEvents: z.number().int().min(100).default(5000),
  })
  .strict();

export type RunbookTuning = z.output<typeof tuningSchema>;

/**
 * The runbook's metrics recorded by the activities, through the activity Context's metric meter
 * (node_modules/@temporalio/activity/lib/index.d.ts `Context.metricMeter`, built per activity in
 * node_modules/@temporalio/worker/lib/activity.js over the runtime's meter: a no-op unless the runtime exports
 * metrics, worker/telemetry.ts). Recorded at the boundary, not inside the engine:
 * - document counts from what migrateRange, catchUpRange and revertFromPreimages return (`withRunbookMetrics`), so an activity
 *   that fails is counted by the attempt that finishes its pages again;
 * - request units and 429s from every Cosmos response, by the request's priority (`requestMetrics`, a request
 *   plugin of the Cosmos client: plugins/Plugin.js runs it around each HTTP attempt in request/RequestHandler.js,
 *   so a 429 the SDK retries is counted each time).
 */
import { Context } from '@temporalio/activity';
import type { MetricMeter, MetricTags } from '@temporalio/common';
import type { PluginConfig } from '@azure/cosmos';
import type { RunbookActivities } from '../common/activities';
import { RUNBOOK_METRICS } from '../common/metric-names';

/** The current activity's meter, or none outside an activity (a CLI command, a test driving the engine directly). */
function activityMeter(): MetricMeter | undefined {
  try {
    return Context.current().metricMeter;
  } catch {
    return undefined;
  }
}

/** Counters take whole numbers (the core's counter is a u64): fractional RU are carried until they make one. */
const carried = new Map<string, number>();
function addFractional(meter: MetricMeter, name: string, description: string, value: number, tags: MetricTags) {
  const key = `${name}|${JSON.stringify(tags)}`;
  const total = (carried.get(key) ?? 0) + value;
  const whole = Math.floor(total);
  carried.set(key, total - whole);
  if (whole > 0) meter.createCounter(name, '', description).add(whole, tags);
}

function count(meter: MetricMeter, name: string, description: string, value: number | undefined, tags: MetricTags) {
  if (value && value > 0) meter.createCounter(name, '', description).add(value, tags);
}

/** migrateRange and revertFromPreimages, counting what each returns. */
export function withRunbookMetrics(activities: RunbookActivities): RunbookActivities {
  return {
    ...activities,
    async migrateRange(input) {
      const result = await activities.migrateRange(input);
      const meter = activityMeter();
      if (meter && !input.dryRun) {
        const tags = { migration: input.migration, direction: input.direction };
        const c = result.counters;
        count(meter, RUNBOOK_METRICS.documentsMigrated, 'documents migrated', c.migrated, tags);
        count(meter, RUNBOOK_METRICS.documentsFailed, 'documents that failed', c.failed, tags);
        count(meter, RUNBOOK_METRICS.documentsConflicted, 'writes met by a 412, re-read', c.conflicts, tags);
        count(
          meter,
          RUNBOOK_METRICS.documentsCaughtUp,
          'documents the final pass migrated again',
          c.rewrittenByApp,
          tags
        );
      }
      return result;
    },
    async catchUpRange(input) {
      const result = await activities.catchUpRange(input);
      const meter = activityMeter();
      if (meter) {
        const tags = { migration: input.migration, direction: 'up' };
        count(
          meter,
          RUNBOOK_METRICS.documentsCaughtUp,
          'documents caught up from the change feed',
          result.counters.migrated,
          tags
        );
        count(meter, RUNBOOK_METRICS.documentsMigrated, 'documents migrated', result.counters.migrated, tags);
        count(meter, RUNBOOK_METRICS.documentsFailed, 'documents that failed', result.counters.failed, tags);
        meter
          .createGauge(
            RUNBOOK_METRICS.catchUpLag,
            'int',
            's',
            'seconds the catch-up is behind the head of the change feed'
          )
          .set(result.secondsBehind, { ...tags, feedRange: input.feedRange });
      }
      return result;
    },
    async revertFromPreimages(input) {
      const result = await activities.revertFromPreimages(input);
      const meter = activityMeter();
      if (meter) {
        const tags = { migration: input.migration, direction: 'revert' };
        const c = result.counters;
        count(meter, RUNBOOK_METRICS.documentsReverted, 'documents reverted', c.reverted + c.down, tags);
        count(meter, RUNBOOK_METRICS.documentsFailed, 'documents that failed', c.failed, tags);
        count(
          meter,
          RUNBOOK_METRICS.documentsConflicted,
          'documents left as the application wrote them',
          c.conflicts,
          tags
        );
      }
      return result;
    },
  };
}

const PRIORITY_HEADER = 'x-ms-cosmos-priority-level'; // @azure/cosmos common/constants.js HttpHeaders.PriorityLevel
const CHARGE_HEADER = 'x-ms-request-charge'; // HttpHeaders.RequestCharge

type Headers = Record<string, unknown> | undefined;

function charge(headers: Headers): number {
  const value = Number(headers?.[CHARGE_HEADER]);
  return Number.isFinite(value) && value > 0 ? value : 0;
}

/** The Cosmos request plugin counting RU (by priority) and 429s of the requests made inside an activity. */
export const requestMetrics: PluginConfig = {
  on: 'request',
  plugin: async (context, _diagnostics, next) => {
    const meter = activityMeter();
    if (!meter) return next(context);
    const given = (context.headers as Headers)?.[PRIORITY_HEADER];
    // No header: the request goes at the account's default, High (docs: priority-based execution).
    const tags = { priority: typeof given === 'string' ? given.toLowerCase() : 'high' };
    try {
      const response = await next(context);
      addFractional(meter, RUNBOOK_METRICS.requestUnits, 'request units consumed', charge(response.headers), tags);
      return response;
    } catch (err) {
      const e = err as { code?: unknown; headers?: Headers };
      if (e.code === 429) meter.createCounter(RUNBOOK_METRICS.throttled, '', 'responses 429').add(1, tags);
      addFractional(meter, RUNBOOK_METRICS.requestUnits, 'request units consumed', charge(e.headers), tags);
      throw err;
    }
  },
};

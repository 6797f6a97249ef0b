/**
 * Every call the workflow made to the fake activities, in order, with its input: what a phase-machine test asserts
 * instead of reading documents back ("no migrateRange ran", "the stop-app hook never ran", "the ranges restarted
 * with the new budget").
 */
import type { RunbookActivities } from '../../../common/activities';

export type ActivityName = keyof RunbookActivities;

export interface Call<N extends ActivityName = ActivityName> {
  name: N;
  input: Parameters<RunbookActivities[N]>[0];
}

export class CallLog {
  readonly all: Call[] = [];

  record<N extends ActivityName>(name: N, input: Parameters<RunbookActivities[N]>[0]): void {
    this.all.push({ name, input });
  }

  /** The inputs of every call of `name`, in order. */
  of<N extends ActivityName>(name: N): Parameters<RunbookActivities[N]>[0][] {
    return this.all.filter((c) => c.name === name).map((c) => c.input as Parameters<RunbookActivities[N]>[0]);
  }

  count(name: ActivityName): number {
    return this.all.filter((c) => c.name === name).length;
  }
}

/** Wraps every activity so that each call is logged before it runs (a retried attempt is a second call). */
export function logged(activities: RunbookActivities, log: CallLog): RunbookActivities {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities) as [ActivityName, (input: never) => Promise<unknown>][]) {
    wrapped[name] = (input: never) => {
      log.record(name, input);
      return fn(input);
    };
  }
  return wrapped as unknown as RunbookActivities;
}

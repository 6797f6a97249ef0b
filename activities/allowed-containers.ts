/**
 * The worker's allow-list enforced where it cannot be bypassed: around every activity, so that neither a workflow
 * input's `database`/`container` overrides nor a `rollbackRunbook` started directly with any target can make this
 * worker read or change a container outside COSMOS_RUNBOOK_ALLOWED_CONTAINERS. The check runs before the activity
 * touches anything, on the container references in its input (the target, an exported definition, a revert source);
 * loadMigration, which touches no container, is checked on the target it resolves (module defaults + overrides), so
 * a run aimed elsewhere fails in preflight before its first container activity.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { containerRefusal, type AllowedContainers } from '../common/allowed-containers';
import { ErrorType } from '../common/errors';

type Ref = { database: string; container: string };

function isRef(value: unknown): value is Ref {
  const v = value as Partial<Ref> | null;
  return typeof v === 'object' && v !== null && typeof v.database === 'string' && typeof v.container === 'string';
}

/** The input itself when it names a container, and its fields one level down that do (exported, source, ...). */
function refsIn(input: unknown): Ref[] {
  if (typeof input !== 'object' || input === null) return [];
  const nested = Object.values(input).filter(isRef);
  return isRef(input) ? [input, ...nested] : nested;
}

function check(allowed: AllowedContainers, activity: string, ref: Ref): void {
  const refusal = containerRefusal(allowed, ref.database, ref.container);
  if (refusal) throw ApplicationFailure.nonRetryable(`${activity}: ${refusal}`, ErrorType.ContainerNotAllowed);
}

/** Every activity of `activities`, refusing containers the allow-list does not name; unchanged without a list. */
export function guardContainers<T extends object>(activities: T, allowed: AllowedContainers | undefined): T {
  if (!allowed) return activities;
  const guarded = Object.entries(activities).map(([name, fn]) => [
    name,
    async (...args: unknown[]) => {
      for (const ref of refsIn(args[0])) check(allowed, name, ref);
      const result: unknown = await (fn as (...a: unknown[]) => Promise<unknown>)(...args);
      if (name === 'loadMigration' && isRef(result)) check(allowed, name, result);
      return result;
    },
  ]);
  return Object.fromEntries(guarded) as T;
}

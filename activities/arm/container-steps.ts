/**
 * applyContainerSteps: a migration's container steps through ARM, and their undo.
 *
 * up: create the container when missing; replace the indexing policy when it differs; set throughput when it
 * differs. The state is checked first, so a re-run changes nothing. The container as it was before is returned
 * (`previous`) and recorded in the history record, which is what `down` undoes from: it deletes a container the
 * last completed `up` created, or puts back the indexing policy and throughput it found.
 */
import { ApplicationFailure } from '@temporalio/common';
import {
  MIGRATION_INVALID,
  type ContainerExport,
  type ContainerRef,
  type ContainerStepsInput,
  type ContainerStepsResult,
} from '../../common/activities';
import type { ContainerSteps, IndexingPolicy } from '../../common/migration';
import { ErrorType } from '../../common/errors';
import { countWhere } from '../cosmos/counts';
import { readHistory } from '../cosmos/history';
import { resolveTarget } from '../cosmos/target';
import type { ActivityDeps } from '../deps';
import {
  applyThroughput,
  createContainer,
  deleteContainerIfExists,
  partitionKeyDefinition,
  replaceIndexingPolicy,
} from './ensure-container';
import { describeThroughput, exportContainer, sameThroughput } from './export';

/** Cosmos adds this excluded path to every policy by itself; it says nothing about the migration's intent. */
const SYSTEM_EXCLUDED_PATH = '/"_etag"/?';

type PathList = { path: string }[] | undefined;

function paths(list: PathList, dropSystem = false): string[] {
  return (list ?? [])
    .map((p) => p.path)
    .filter((p) => !(dropSystem && p === SYSTEM_EXCLUDED_PATH))
    .sort();
}

/** The parts of an indexing policy that matter, in a canonical order, so equal policies compare equal. */
export function normalizeIndexingPolicy(policy: IndexingPolicy | Record<string, unknown> | undefined): string {
  const p = (policy ?? {}) as IndexingPolicy;
  const indexingMode = (p.indexingMode ?? 'consistent').toLowerCase();
  // Cosmos stores a policy without includedPaths as including `/*` (https://learn.microsoft.com/azure/cosmos-db/index-policy).
  const included = paths(p.includedPaths);
  return JSON.stringify({
    indexingMode,
    automatic: p.automatic ?? true,
    includedPaths: included.length === 0 && indexingMode !== 'none' ? ['/*'] : included,
    excludedPaths: paths(p.excludedPaths, true),
    compositeIndexes: (p.compositeIndexes ?? []).map((c) => c.map((e) => `${e.path} ${e.order ?? 'ascending'}`)),
    spatialIndexes: (p.spatialIndexes ?? []).map((s) => `${s.path} ${[...(s.types ?? [])].sort().join(',')}`).sort(),
  });
}

export function sameIndexingPolicy(
  a: IndexingPolicy | Record<string, unknown> | undefined,
  b: IndexingPolicy | Record<string, unknown> | undefined
): boolean {
  return normalizeIndexingPolicy(a) === normalizeIndexingPolicy(b);
}

/** What the container should look like after `up`; a check of the current state against it lists the differences. */
export function differencesFromSteps(steps: ContainerSteps, current: ContainerExport | null): string[] {
  if (!current) return steps.create ? ['the container does not exist'] : [];
  const found: string[] = [];
  const wantedPolicy = steps.indexingPolicy ?? steps.create?.indexingPolicy;
  if (wantedPolicy && !sameIndexingPolicy(current.resource.indexingPolicy as Record<string, unknown>, wantedPolicy)) {
    found.push("the indexing policy differs from the migration's");
  }
  const wantedThroughput = steps.throughput ?? steps.create?.throughput;
  if (wantedThroughput !== undefined && !sameThroughput({ throughput: wantedThroughput }, current)) {
    found.push(`throughput is ${describeThroughput(current)}, the migration sets manual ${wantedThroughput} RU/s`);
  }
  return found;
}

/** A throughput in a step's message: "400" (manual; `unit` adds " RU/s"), "autoscale up to 4000 RU/s", "shared". */
function throughputWords(setting: ContainerExport, unit = false): string {
  if (setting.autoscaleMaxThroughput !== undefined) return describeThroughput(setting);
  return setting.throughput !== undefined ? `${setting.throughput}${unit ? ' RU/s' : ''}` : 'shared';
}

async function applyUp(
  deps: ActivityDeps,
  ref: ContainerRef,
  steps: ContainerSteps,
  id: string
): Promise<ContainerStepsResult> {
  const previous = await exportContainer(deps, ref);
  const applied: string[] = [];
  if (!previous) {
    if (!steps.create) {
      throw ApplicationFailure.nonRetryable(
        `container ${ref.database}/${ref.container} does not exist and migration ${id} has no container.create step`,
        MIGRATION_INVALID
      );
    }
    const throughput = steps.throughput ?? steps.create.throughput;
    await createContainer(deps, ref, {
      partitionKey: steps.create.partitionKey,
      indexingPolicy: steps.indexingPolicy ?? steps.create.indexingPolicy,
      throughput,
    });
    const pk = partitionKeyDefinition(steps.create.partitionKey).paths.join(',');
    applied.push(`created container ${ref.container} (partition key ${pk}${throughput ? `, ${throughput} RU/s` : ''})`);
    return { applied, previous: null };
  }
  if (steps.create) {
    const wanted = partitionKeyDefinition(steps.create.partitionKey).paths;
    const actual = (previous.resource.partitionKey as { paths?: string[] } | undefined)?.paths ?? [];
    if (JSON.stringify(wanted) !== JSON.stringify(actual)) {
      throw ApplicationFailure.nonRetryable(
        `container ${ref.database}/${ref.container} exists with partition key ${actual.join(',')}, but migration ${id} creates it with ${wanted.join(',')}; a partition key cannot be changed`,
        MIGRATION_INVALID
      );
    }
  }
  const policy = steps.indexingPolicy ?? steps.create?.indexingPolicy;
  if (policy && !sameIndexingPolicy(previous.resource.indexingPolicy as Record<string, unknown>, policy)) {
    await replaceIndexingPolicy(deps, ref, previous.resource, policy);
    applied.push('indexing policy replaced');
  }
  // A step's throughput is manual RU/s: an autoscale container is migrated to manual first (applyThroughput), and
  // `previous` keeps its autoscale setting for the undo.
  const throughput = steps.throughput ?? steps.create?.throughput;
  if (throughput !== undefined && (await applyThroughput(deps, ref, { throughput }))) {
    applied.push(`throughput ${throughputWords(previous)} → ${throughput} RU/s`);
  }
  return { applied, previous };
}

async function applyDown(deps: ActivityDeps, ref: ContainerRef, id: string): Promise<ContainerStepsResult> {
  const current = await exportContainer(deps, ref);
  // The last completed `up` that changed something knows what the container was before it.
  const history = await readHistory(deps, ref.database, id);
  const lastUp = history.find(
    (r) =>
      r.direction === 'up' &&
      r.status === 'completed' &&
      r.container === ref.container &&
      (r.stepsApplied?.length ?? 0) > 0
  );
  if (!lastUp || lastUp.previous === undefined) {
    throw ApplicationFailure.nonRetryable(
      `cannot undo the container steps of ${id} on ${ref.database}/${ref.container}: no completed up of it recorded what the container was before`,
      MIGRATION_INVALID
    );
  }
  const applied: string[] = [];
  const before = lastUp.previous;
  if (before === null) {
    // A container the migration created holds what the application wrote into it since: never deleted unseen. The
    // rollback of a run asks the operator first (workflows/rollback/down.ts); a run in direction down refuses.
    const holds = current ? (await countWhere(deps.cosmos.database(ref.database).container(ref.container))).count : 0;
    if (holds > 0) {
      throw ApplicationFailure.nonRetryable(
        `${ref.database}/${ref.container} was created by ${id} and holds ${holds} document(s) now: not deleted. ` +
          'Move or delete them first (or delete the container yourself), then run down again',
        ErrorType.ContainerInUse,
        { documents: holds }
      );
    }
    if (await deleteContainerIfExists(deps, ref)) applied.push(`deleted container ${ref.container} (created by ${id})`);
    return { applied, previous: current };
  }
  if (!current) {
    throw ApplicationFailure.nonRetryable(
      `cannot undo the container steps of ${id}: container ${ref.database}/${ref.container} no longer exists`,
      MIGRATION_INVALID
    );
  }
  const beforePolicy = before.resource.indexingPolicy as Record<string, unknown> | undefined;
  if (beforePolicy && !sameIndexingPolicy(current.resource.indexingPolicy as Record<string, unknown>, beforePolicy)) {
    await replaceIndexingPolicy(deps, ref, current.resource, beforePolicy);
    applied.push('indexing policy restored');
  }
  // In its own mode: autoscale comes back as autoscale with its maximum, manual as manual.
  if (
    (before.throughput !== undefined || before.autoscaleMaxThroughput !== undefined) &&
    (await applyThroughput(deps, ref, before))
  ) {
    applied.push(`throughput ${throughputWords(current)} → ${throughputWords(before, true)} (restored)`);
  }
  return { applied, previous: current };
}

export async function applyContainerSteps(
  deps: ActivityDeps,
  input: ContainerStepsInput
): Promise<ContainerStepsResult> {
  const target = resolveTarget(deps.registry, input);
  const ref = { database: target.database, container: target.container };
  if (
    !target.steps ||
    (!target.steps.create && !target.steps.indexingPolicy && target.steps.throughput === undefined)
  ) {
    return { applied: [], previous: await exportContainer(deps, ref) };
  }
  return input.direction === 'up'
    ? applyUp(deps, ref, target.steps, target.definition.id)
    : applyDown(deps, ref, target.definition.id);
}

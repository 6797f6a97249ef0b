/**
 * The copy's target container, created in preflight through ARM (@azure/arm-cosmosdb, as the container steps do:
 * activities/arm/ensure-container.ts) with the module's declared partition key, indexing policy, unique keys and
 * throughput. A container of that name that exists already is refused (ContainerExists) unless it is this run's:
 * created by it earlier (the run's state says so), or empty with exactly the declared partition key and unique keys
 * (an attempt of this activity retried after ARM created it). The copy never writes into documents it did not make.
 */
import type { SqlContainerResource } from '@azure/arm-cosmosdb';
import { ApplicationFailure } from '@temporalio/common';
import { isDeepStrictEqual } from 'node:util';
import type { PrepareTargetInput, PrepareTargetResult } from '../../common/copy';
import { ErrorType } from '../../common/errors';
import type { CopyTarget } from '../../common/migration';
import type { ActivityDeps } from '../deps';
import { ensureDatabase, partitionKeyDefinition } from '../arm/ensure-container';
import { exportContainer } from '../arm/export';
import { invalid, resolveTarget } from '../cosmos/target';

/** The ARM resource of the declared target. */
export function targetResource(declared: CopyTarget): SqlContainerResource {
  return {
    id: declared.container,
    partitionKey: partitionKeyDefinition(declared.partitionKey),
    ...(declared.indexingPolicy ? { indexingPolicy: declared.indexingPolicy } : {}),
    ...(declared.uniqueKeys ? { uniqueKeyPolicy: { uniqueKeys: declared.uniqueKeys } } : {}),
  };
}

export async function prepareCopyTarget(deps: ActivityDeps, input: PrepareTargetInput): Promise<PrepareTargetResult> {
  const resolved = resolveTarget(deps.registry, { ...input, direction: 'up' });
  const declared = resolved.definition.target;
  if (!declared || declared.container !== input.target.container) {
    throw invalid(`migration ${resolved.definition.id} does not declare target ${input.target.container}`);
  }
  const ref = { database: resolved.database, container: declared.container };
  const wanted = targetResource(declared);
  const existing = await exportContainer(deps, ref);
  if (existing) {
    const resource = existing.resource as unknown as SqlContainerResource;
    const paths = resource.partitionKey?.paths ?? [];
    const sameShape =
      isDeepStrictEqual(paths, wanted.partitionKey!.paths) &&
      isDeepStrictEqual(resource.uniqueKeyPolicy?.uniqueKeys ?? [], wanted.uniqueKeyPolicy?.uniqueKeys ?? []);
    if (input.createdByThisRun && sameShape) return { created: false, partitionKeyPaths: paths };
    const documents = await countDocuments(deps, ref);
    if (documents > 0 || !sameShape) {
      throw ApplicationFailure.nonRetryable(
        `the copy's target ${ref.database}/${ref.container} exists already (${documents} document(s), partition key ${paths.join(',')}) and was not created by this run: choose a new target container, or delete it yourself`,
        ErrorType.ContainerExists
      );
    }
    return { created: false, partitionKeyPaths: paths };
  }
  await ensureDatabase(deps, ref.database);
  const { resourceGroup, name } = deps.account;
  await deps.arm.sqlResources.beginCreateUpdateSqlContainerAndWait(
    resourceGroup,
    name,
    ref.database,
    ref.container,
    { resource: wanted, options: declared.throughput !== undefined ? { throughput: declared.throughput } : {} },
    { updateIntervalInMs: deps.armPollIntervalMs }
  );
  return { created: true, partitionKeyPaths: wanted.partitionKey!.paths ?? [] };
}

async function countDocuments(deps: ActivityDeps, ref: { database: string; container: string }): Promise<number> {
  const { resources } = await deps.cosmos
    .database(ref.database)
    .container(ref.container)
    .items.query<number>('SELECT VALUE COUNT(1) FROM c')
    .fetchAll();
  return resources.reduce((a, b) => a + b, 0);
}

/**
 * Creating and changing containers through ARM (the management plane), as a platform engineer's tooling does:
 * data-plane keys may lack the right to create containers, and ARM is where Azure records the change.
 */
import type { SqlContainerResource } from '@azure/arm-cosmosdb';
import type { ContainerRef } from '../../common/activities';
import type { IndexingPolicy, PartitionKeySpec } from '../../common/migration';
import {
  exportContainer,
  isNotFound,
  readThroughputSetting,
  sameThroughput,
  type ArmDeps,
  type ThroughputSetting,
} from './export';

function pollOptions(deps: ArmDeps) {
  return { updateIntervalInMs: deps.armPollIntervalMs };
}

export function partitionKeyDefinition(spec: PartitionKeySpec): {
  paths: string[];
  kind: 'Hash' | 'MultiHash';
  version?: number;
} {
  if (typeof spec === 'string') return { paths: [spec], kind: 'Hash', version: 2 };
  const kind = spec.kind ?? (spec.paths.length > 1 ? 'MultiHash' : 'Hash');
  return { paths: spec.paths, kind, ...(spec.version !== undefined ? { version: spec.version } : { version: 2 }) };
}

export async function ensureDatabase(deps: ArmDeps, database: string): Promise<void> {
  const { resourceGroup, name } = deps.account;
  try {
    await deps.arm.sqlResources.getSqlDatabase(resourceGroup, name, database);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await deps.arm.sqlResources.beginCreateUpdateSqlDatabaseAndWait(
      resourceGroup,
      name,
      database,
      { resource: { id: database }, options: {} },
      pollOptions(deps)
    );
  }
}

export interface ContainerDefinition {
  partitionKey: PartitionKeySpec;
  indexingPolicy?: IndexingPolicy;
  throughput?: number;
}

/** PUT a new container (its database is created when missing). */
export async function createContainer(deps: ArmDeps, ref: ContainerRef, def: ContainerDefinition): Promise<void> {
  await ensureDatabase(deps, ref.database);
  const resource: SqlContainerResource = {
    id: ref.container,
    partitionKey: partitionKeyDefinition(def.partitionKey),
    ...(def.indexingPolicy ? { indexingPolicy: def.indexingPolicy } : {}),
  };
  const { resourceGroup, name } = deps.account;
  await deps.arm.sqlResources.beginCreateUpdateSqlContainerAndWait(
    resourceGroup,
    name,
    ref.database,
    ref.container,
    { resource, options: def.throughput !== undefined ? { throughput: def.throughput } : {} },
    pollOptions(deps)
  );
}

/** Creates the container when it does not exist (the runbook's own history container, for instance). */
export async function ensureContainer(deps: ArmDeps, ref: ContainerRef, def: ContainerDefinition): Promise<boolean> {
  if (await exportContainer(deps, ref)) return false;
  await createContainer(deps, ref, def);
  return true;
}

/** PUT a container's whole definition (ARM replaces the definition as a whole; throughput is set apart). */
export async function putContainerResource(
  deps: ArmDeps,
  ref: ContainerRef,
  resource: Record<string, unknown>
): Promise<void> {
  const { resourceGroup, name } = deps.account;
  await deps.arm.sqlResources.beginCreateUpdateSqlContainerAndWait(
    resourceGroup,
    name,
    ref.database,
    ref.container,
    { resource: { ...resource, id: ref.container }, options: {} },
    pollOptions(deps)
  );
}

/** PUT the whole container resource back with another indexing policy. */
export async function replaceIndexingPolicy(
  deps: ArmDeps,
  ref: ContainerRef,
  current: Record<string, unknown>,
  indexingPolicy: IndexingPolicy | Record<string, unknown>
): Promise<void> {
  await putContainerResource(deps, ref, { ...current, indexingPolicy });
}

/**
 * Gives the container the exported throughput in its own mode: a container at manual throughput that had autoscale
 * is migrated to autoscale first (and the other way round), as Azure requires: a throughput PUT keeps the mode, the
 * mode changes only by `migrateToAutoscale` / `migrateToManualThroughput`
 * (https://learn.microsoft.com/training/modules/write-scripts-for-azure-cosmos-db-sql-api/5-migrate-standard-autoscale-throughput).
 * Then the manual RU/s or autoscale maximum is set. Returns false when nothing needed changing.
 */
export async function applyThroughput(deps: ArmDeps, ref: ContainerRef, wanted: ThroughputSetting): Promise<boolean> {
  const current = await readThroughputSetting(deps, ref);
  if (sameThroughput(wanted, current)) return false;
  const { resourceGroup, name } = deps.account;
  const sql = deps.arm.sqlResources;
  const autoscale = wanted.autoscaleMaxThroughput !== undefined;
  const currentAutoscale = current?.autoscaleMaxThroughput !== undefined;
  if (autoscale && !currentAutoscale) {
    await sql.beginMigrateSqlContainerToAutoscaleAndWait(
      resourceGroup,
      name,
      ref.database,
      ref.container,
      pollOptions(deps)
    );
  } else if (!autoscale && currentAutoscale) {
    await sql.beginMigrateSqlContainerToManualThroughputAndWait(
      resourceGroup,
      name,
      ref.database,
      ref.container,
      pollOptions(deps)
    );
  }
  if (sameThroughput(wanted, await readThroughputSetting(deps, ref))) return true;
  await sql.beginUpdateSqlContainerThroughputAndWait(
    resourceGroup,
    name,
    ref.database,
    ref.container,
    autoscale
      ? { resource: { autoscaleSettings: { maxThroughput: wanted.autoscaleMaxThroughput! } } }
      : { resource: { throughput: wanted.throughput! } },
    pollOptions(deps)
  );
  return true;
}

/** Deletes the container; false when it was already gone (a retry after the delete succeeded, for instance). */
export async function deleteContainerIfExists(deps: ArmDeps, ref: ContainerRef): Promise<boolean> {
  const { resourceGroup, name } = deps.account;
  try {
    await deps.arm.sqlResources.beginDeleteSqlContainerAndWait(
      resourceGroup,
      name,
      ref.database,
      ref.container,
      pollOptions(deps)
    );
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/**
 * SQL containers: GET / list / PUT (create or update) / DELETE (Microsoft.DocumentDB REST API). PUT and DELETE are long-running; the
 * change reaches the emulator when the operation succeeds. A PUT with `createMode: "Restore"` is a point-in-time
 * restore (restore.ts).
 */
import { isDeepStrictEqual } from 'node:util';
import { accepted, param, type RequestContext } from './context';
import { isRecord, rpError, rpNotFound, type Reply } from './http';
import { readDatabaseOrThrow } from './databases';
import { containerKey, refuseWhileBusy } from './busy';
import { containerBody, containerId, definitionOf, readResourceRequest, throughputFromOptions } from './resource-body';
import { startContainerRestore } from './restore';

export async function readContainerOrThrow(
  ctx: RequestContext,
  database: string,
  container: string
): Promise<Record<string, unknown>> {
  await readDatabaseOrThrow(ctx, database);
  const record = await ctx.state.cosmos.admin.readContainer(database, container);
  if (!record) throw rpNotFound(`/dbs/${database}/colls/${container}`);
  return record;
}

export async function getContainer(ctx: RequestContext): Promise<Reply> {
  const database = param(ctx, 'db');
  const record = await readContainerOrThrow(ctx, database, param(ctx, 'container'));
  return { status: 200, body: containerBody(ctx.state, database, record) };
}

export async function listContainers(ctx: RequestContext): Promise<Reply> {
  const database = param(ctx, 'db');
  await readDatabaseOrThrow(ctx, database);
  const records = await ctx.state.cosmos.admin.listContainers(database);
  // A container being restored is not listed until its restore succeeds, and no listing echoes `createMode`: real
  // responses do not (the REST API specification's example, https://github.com/Azure/azure-rest-api-specs/blob/main/
  // specification/cosmos-db/resource-manager/Microsoft.DocumentDB/stable/2024-11-15/examples/CosmosDBSqlContainerList.json,
  // and recorded responses). ARM offers no list of restores in progress: a restore refused because others run is a 409
  // on its own PUT (restore.ts).
  return {
    status: 200,
    body: { value: records.map((record) => containerBody(ctx.state, database, record)) },
  };
}

export async function putContainer(ctx: RequestContext): Promise<Reply> {
  const { state } = ctx;
  const database = param(ctx, 'db');
  const container = param(ctx, 'container');
  const request = readResourceRequest(ctx.body, container, 'container');
  await readDatabaseOrThrow(ctx, database);
  refuseWhileBusy(ctx, containerKey(database, container), `container '${container}' in database '${database}'`);

  const createMode = request.resource.createMode ?? 'Default';
  if (createMode === 'Restore') return startContainerRestore(ctx, database, container, request.resource);
  if (createMode !== 'Default') {
    throw rpError(
      400,
      'BadRequest',
      `createMode '${typeof createMode === 'string' ? createMode : JSON.stringify(createMode)}' is not valid for a container: use Default or Restore.`
    );
  }

  const definition = definitionOf(request.resource);
  const throughput = throughputFromOptions(request.options);
  const existing = await state.cosmos.admin.readContainer(database, container);
  if (existing) refuseImmutableChanges(database, existing, definition);
  else if (!isRecord(definition.partitionKey)) {
    throw rpError(
      400,
      'BadRequest',
      `Container '${container}' needs resource.partitionKey (e.g. {"paths":["/pk"],"kind":"Hash"}) to be created.`
    );
  }

  const operation = ctx.operations.start(containerKey(database, container), state.operationDelayMs, async () => {
    const admin = state.cosmos.admin;
    // Checked again when the operation runs: the container may have been created meanwhile (e.g. on the data plane).
    const current = await admin.readContainer(database, container);
    if (current) refuseImmutableChanges(database, current, definition);
    const record = current
      ? await admin.replaceContainer(database, { ...definition, partitionKey: current.partitionKey })
      : await admin.createContainer(database, definition);
    if (throughput) state.setThroughput(database, container, throughput);
    return { status: 200, body: containerBody(state, database, record) };
  });
  return accepted(ctx, operation, containerId(state, database, container));
}

/** The partition key and unique keys of a container are fixed at creation; Azure refuses to change them. */
function refuseImmutableChanges(
  database: string,
  existing: Record<string, unknown>,
  definition: Record<string, unknown>
): void {
  const container = String(existing.id);
  const paths = (partitionKey: unknown) => (isRecord(partitionKey) ? partitionKey.paths : undefined);
  if (
    definition.partitionKey !== undefined &&
    !isDeepStrictEqual(paths(definition.partitionKey), paths(existing.partitionKey))
  ) {
    throw rpError(
      400,
      'BadRequest',
      `The partition key of container '${container}' in database '${database}' cannot be changed ` +
        `(it is ${JSON.stringify(paths(existing.partitionKey))}, the request has ${JSON.stringify(paths(definition.partitionKey))}). ` +
        'Create a new container and copy the data instead.'
    );
  }
  const uniqueKeys = (policy: unknown) =>
    isRecord(policy) && Array.isArray(policy.uniqueKeys) ? (policy.uniqueKeys as unknown[]) : [];
  if (
    definition.uniqueKeyPolicy !== undefined &&
    !isDeepStrictEqual(uniqueKeys(definition.uniqueKeyPolicy), uniqueKeys(existing.uniqueKeyPolicy))
  ) {
    throw rpError(
      400,
      'BadRequest',
      `The unique key policy of container '${container}' in database '${database}' cannot be changed after creation.`
    );
  }
}

export async function deleteContainer(ctx: RequestContext): Promise<Reply> {
  const { state } = ctx;
  const database = param(ctx, 'db');
  const container = param(ctx, 'container');
  await readContainerOrThrow(ctx, database, container);
  refuseWhileBusy(ctx, containerKey(database, container), `container '${container}' in database '${database}'`);
  const operation = ctx.operations.start(containerKey(database, container), state.operationDelayMs, async () => {
    await state.cosmos.admin.deleteContainer(database, container);
    state.forgetContainer(database, container);
    return undefined;
  });
  return accepted(ctx, operation, containerId(state, database, container));
}

/** SQL databases: GET / list / PUT / DELETE (PUT and DELETE are long-running, the Microsoft.DocumentDB REST API). */
import { accepted, param, type RequestContext } from './context';
import { rpError, rpNotFound, type Reply } from './http';
import { databaseKey, refuseWhileBusy } from './busy';
import { liveDatabases } from './events';
import {
  databaseBody,
  databaseId,
  databaseThroughputBody,
  readResourceRequest,
  throughputFromOptions,
} from './resource-body';

export async function readDatabaseOrThrow(ctx: RequestContext, database: string): Promise<Record<string, unknown>> {
  const record = await ctx.state.cosmos.admin.readDatabase(database);
  if (!record) throw rpNotFound(`/dbs/${database}`);
  ctx.state.rememberDatabaseRid(database, record._rid);
  return record;
}

export async function getDatabase(ctx: RequestContext): Promise<Reply> {
  const database = param(ctx, 'db');
  return { status: 200, body: databaseBody(ctx.state, database, await readDatabaseOrThrow(ctx, database)) };
}

export async function listDatabases(ctx: RequestContext): Promise<Reply> {
  const value = [];
  for (const database of liveDatabases(ctx.state.cosmos.backup)) {
    const record = await ctx.state.cosmos.admin.readDatabase(database);
    if (record) value.push(databaseBody(ctx.state, database, record));
  }
  return { status: 200, body: { value } };
}

export async function putDatabase(ctx: RequestContext): Promise<Reply> {
  const { state } = ctx;
  const database = param(ctx, 'db');
  const request = readResourceRequest(ctx.body, database, 'database');
  if (request.resource.createMode !== undefined && request.resource.createMode !== 'Default') {
    throw rpError(
      400,
      'BadRequest',
      `createMode '${typeof request.resource.createMode === 'string' ? request.resource.createMode : JSON.stringify(request.resource.createMode)}' for database '${database}' is not supported by the local ARM imitation (only containers can be restored in-account).`
    );
  }
  const throughput = throughputFromOptions(request.options);
  refuseWhileBusy(ctx, databaseKey(database), `database '${database}'`);
  const operation = ctx.operations.start(databaseKey(database), state.operationDelayMs, async () => {
    const record =
      (await state.cosmos.admin.readDatabase(database)) ?? (await state.cosmos.admin.createDatabase(database));
    state.rememberDatabaseRid(database, record._rid);
    state.setDatabaseThroughput(database, throughput);
    return { status: 200, body: databaseBody(state, database, record) };
  });
  return accepted(ctx, operation, databaseId(state, database));
}

export async function deleteDatabase(ctx: RequestContext): Promise<Reply> {
  const { state } = ctx;
  const database = param(ctx, 'db');
  await readDatabaseOrThrow(ctx, database);
  refuseWhileBusy(ctx, databaseKey(database), `database '${database}'`);
  const operation = ctx.operations.start(databaseKey(database), state.operationDelayMs, async () => {
    const containers = await state.cosmos.admin.listContainers(database);
    await state.cosmos.admin.deleteDatabase(database);
    state.forgetDatabase(
      database,
      containers.map((container) => String(container.id))
    );
    return undefined;
  });
  return accepted(ctx, operation, databaseId(state, database));
}

/**
 * `GET {database}/throughputSettings/default`: the database's shared throughput, or 404 when it has none (its
 * containers then have throughput of their own).
 */
export async function getDatabaseThroughput(ctx: RequestContext): Promise<Reply> {
  const database = param(ctx, 'db');
  await readDatabaseOrThrow(ctx, database);
  const settings = ctx.state.databaseThroughputOf(database);
  if (!settings) {
    throw rpError(
      404,
      'NotFound',
      `Throughput is not configured for database '${database}': it has no shared throughput.`
    );
  }
  return { status: 200, body: databaseThroughputBody(ctx.state, database, settings) };
}

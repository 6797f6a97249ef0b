/**
 * A container's server-side scripts through ARM (Microsoft.DocumentDB REST API, `.../containers/{c}/storedProcedures`,
 * `/triggers`, `/userDefinedFunctions`): list, GET, PUT (create or replace) and DELETE, the last two long-running.
 * How an identity managed by Microsoft Entra ID manages scripts, since the data plane refuses it
 * (local/cosmos/entra-scripts.ts); what the product falls back to (activities/cosmos/scripts.ts). The scripts live in
 * the emulator, reached through its admin operations.
 */
import { accepted, param, type RequestContext, type Handler } from './context';
import { isRecord, rpError, rpNotFound } from './http';
import { containerKey, refuseWhileBusy } from './busy';
import { readContainerOrThrow } from './containers';
import { containerId } from './resource-body';
import type { ScriptKind } from '../cosmos/types';

interface ScriptType {
  /** The ARM path segment and resource type's last part. */
  segment: 'storedProcedures' | 'triggers' | 'userDefinedFunctions';
  kind: ScriptKind;
  /** The fields of its resource beyond id and body (triggers: when they run). */
  fields: string[];
}

export const SCRIPT_TYPES: ScriptType[] = [
  { segment: 'storedProcedures', kind: 'sprocs', fields: [] },
  { segment: 'triggers', kind: 'triggers', fields: ['triggerType', 'triggerOperation'] },
  { segment: 'userDefinedFunctions', kind: 'udfs', fields: [] },
];

function scriptBody(
  ctx: RequestContext,
  type: ScriptType,
  database: string,
  container: string,
  record: Record<string, unknown>
) {
  const name = String(record.id);
  const resource: Record<string, unknown> = { id: name, body: record.body };
  for (const field of type.fields) if (record[field] !== undefined) resource[field] = record[field];
  for (const system of ['_rid', '_ts', '_etag']) if (record[system] !== undefined) resource[system] = record[system];
  return {
    id: `${containerId(ctx.state, database, container)}/${type.segment}/${name}`,
    name,
    type: `Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/${type.segment}`,
    properties: { resource },
  };
}

function list(type: ScriptType): Handler {
  return async (ctx) => {
    const database = param(ctx, 'db');
    const container = param(ctx, 'container');
    await readContainerOrThrow(ctx, database, container);
    const records = await ctx.state.cosmos.admin.listScripts(database, container, type.kind);
    return { status: 200, body: { value: records.map((r) => scriptBody(ctx, type, database, container, r)) } };
  };
}

function get(type: ScriptType): Handler {
  return async (ctx) => {
    const database = param(ctx, 'db');
    const container = param(ctx, 'container');
    const name = param(ctx, 'name');
    await readContainerOrThrow(ctx, database, container);
    const record = (await ctx.state.cosmos.admin.listScripts(database, container, type.kind)).find(
      (r) => r.id === name
    );
    if (!record) throw rpNotFound(`/dbs/${database}/colls/${container}/${type.kind}/${name}`);
    return { status: 200, body: scriptBody(ctx, type, database, container, record) };
  };
}

function put(type: ScriptType): Handler {
  return async (ctx) => {
    const database = param(ctx, 'db');
    const container = param(ctx, 'container');
    const name = param(ctx, 'name');
    const properties = isRecord(ctx.body) ? ctx.body.properties : undefined;
    const resource = isRecord(properties) ? properties.resource : undefined;
    if (!isRecord(resource) || resource.id !== name || typeof resource.body !== 'string') {
      throw rpError(
        400,
        'BadRequest',
        `The request body must be {"properties":{"resource":{"id":"${name}","body":"..."${type.fields.map((f) => `,"${f}":...`).join('')}}}}.`
      );
    }
    await readContainerOrThrow(ctx, database, container);
    refuseWhileBusy(ctx, containerKey(database, container), `container '${container}' in database '${database}'`);
    const definition: Record<string, unknown> = { id: name, body: resource.body };
    for (const field of type.fields) if (resource[field] !== undefined) definition[field] = resource[field];
    const operation = ctx.operations.start(containerKey(database, container), ctx.state.operationDelayMs, async () => {
      const record = await ctx.state.cosmos.admin.putScript(database, container, type.kind, definition);
      return { status: 200, body: scriptBody(ctx, type, database, container, record) };
    });
    return accepted(ctx, operation, `${containerId(ctx.state, database, container)}/${type.segment}/${name}`);
  };
}

function remove(type: ScriptType): Handler {
  return async (ctx) => {
    const database = param(ctx, 'db');
    const container = param(ctx, 'container');
    const name = param(ctx, 'name');
    await readContainerOrThrow(ctx, database, container);
    if (!(await ctx.state.cosmos.admin.listScripts(database, container, type.kind)).some((r) => r.id === name)) {
      throw rpNotFound(`/dbs/${database}/colls/${container}/${type.kind}/${name}`);
    }
    refuseWhileBusy(ctx, containerKey(database, container), `container '${container}' in database '${database}'`);
    const operation = ctx.operations.start(containerKey(database, container), ctx.state.operationDelayMs, async () => {
      await ctx.state.cosmos.admin.deleteScript(database, container, type.kind, name);
      return undefined;
    });
    return accepted(ctx, operation, `${containerId(ctx.state, database, container)}/${type.segment}/${name}`);
  };
}

/** The routes of every script type under a container path template. */
export function scriptRoutes(container: string): [method: string, template: string, handler: Handler][] {
  return SCRIPT_TYPES.flatMap((type): [string, string, Handler][] => [
    ['GET', `${container}/${type.segment}`, list(type)],
    ['GET', `${container}/${type.segment}/{name}`, get(type)],
    ['PUT', `${container}/${type.segment}/{name}`, put(type)],
    ['DELETE', `${container}/${type.segment}/{name}`, remove(type)],
  ]);
}

/**
 * Container throughput (`.../containers/{c}/throughputSettings/default`): GET, and PUT as a long-running operation.
 * The setting is handed to the emulator's RU model, so a migration really gets only the RU/s it was given.
 *
 * A PUT keeps the throughput's mode, as on Azure: manual RU/s on a manual container, `autoscaleSettings.maxThroughput`
 * on an autoscale one; the mode changes only by `POST .../migrateToAutoscale` or `.../migrateToManualThroughput`
 * (https://learn.microsoft.com/training/modules/write-scripts-for-azure-cosmos-db-sql-api/5-migrate-standard-autoscale-throughput).
 * How Azure picks the new value on a migration is not documented; the imitation takes autoscale's maximum as ten
 * times the manual RU/s (at least 1000, in steps of 1000) and manual RU/s as the autoscale maximum's tenth.
 */
import { accepted, param, type RequestContext } from './context';
import { isRecord, rpError, type Reply } from './http';
import { containerKey, refuseWhileBusy } from './busy';
import { readContainerOrThrow } from './containers';
import { containerId, throughputBody, validThroughput } from './resource-body';
import type { ThroughputSettings } from './state';

export async function getContainerThroughput(ctx: RequestContext): Promise<Reply> {
  const database = param(ctx, 'db');
  const container = param(ctx, 'container');
  await readContainerOrThrow(ctx, database, container);
  const settings = ctx.state.throughputOf(database, container);
  if (!settings) {
    throw rpError(
      404,
      'NotFound',
      `Throughput is not configured for container '${container}' in database '${database}': it has no dedicated throughput.`
    );
  }
  return { status: 200, body: throughputBody(ctx.state, database, container, settings) };
}

export async function putContainerThroughput(ctx: RequestContext): Promise<Reply> {
  const { state } = ctx;
  const database = param(ctx, 'db');
  const container = param(ctx, 'container');
  const settings = readThroughputRequest(ctx.body);
  await readContainerOrThrow(ctx, database, container);
  const current = state.throughputOf(database, container);
  const toAutoscale = settings.autoscaleMaxThroughput !== undefined;
  if (current && (current.autoscaleMaxThroughput !== undefined) !== toAutoscale) {
    throw rpError(
      400,
      'BadRequest',
      toAutoscale
        ? `Container '${container}' has manual throughput: migrate it to autoscale (migrateToAutoscale) before setting autoscaleSettings.`
        : `Container '${container}' has autoscale throughput: migrate it to manual throughput (migrateToManualThroughput) before setting throughput.`
    );
  }
  refuseWhileBusy(ctx, containerKey(database, container), `container '${container}' in database '${database}'`);
  const operation = ctx.operations.start(containerKey(database, container), state.operationDelayMs, async () => {
    state.setThroughput(database, container, settings);
    return { status: 200, body: throughputBody(state, database, container, settings) };
  });
  return accepted(ctx, operation, `${containerId(state, database, container)}/throughputSettings/default`);
}

function readThroughputRequest(body: unknown): ThroughputSettings {
  const properties = isRecord(body) ? body.properties : undefined;
  const resource = isRecord(properties) ? properties.resource : undefined;
  if (isRecord(resource) && typeof resource.throughput === 'number') {
    return validThroughput({ throughput: resource.throughput });
  }
  const autoscale = isRecord(resource) ? resource.autoscaleSettings : undefined;
  if (isRecord(autoscale) && typeof autoscale.maxThroughput === 'number') {
    return validThroughput({ autoscaleMaxThroughput: autoscale.maxThroughput });
  }
  throw rpError(
    400,
    'BadRequest',
    'The request body must be {"properties":{"resource":{"throughput":<RU/s>}}} or {"properties":{"resource":{"autoscaleSettings":{"maxThroughput":<RU/s>}}}}.'
  );
}

/** `POST .../throughputSettings/default/migrateToAutoscale` or `/migrateToManualThroughput`, a long-running operation. */
export function migrateContainerThroughput(to: 'autoscale' | 'manual') {
  return async (ctx: RequestContext): Promise<Reply> => {
    const { state } = ctx;
    const database = param(ctx, 'db');
    const container = param(ctx, 'container');
    await readContainerOrThrow(ctx, database, container);
    const current = state.throughputOf(database, container);
    if (!current) {
      throw rpError(
        400,
        'BadRequest',
        `Container '${container}' in database '${database}' has no dedicated throughput to migrate.`
      );
    }
    refuseWhileBusy(ctx, containerKey(database, container), `container '${container}' in database '${database}'`);
    const operation = ctx.operations.start(containerKey(database, container), state.operationDelayMs, async () => {
      const settings = migrated(current, to);
      state.setThroughput(database, container, settings);
      return { status: 200, body: throughputBody(state, database, container, settings) };
    });
    return accepted(ctx, operation, `${containerId(state, database, container)}/throughputSettings/default`);
  };
}

function migrated(current: ThroughputSettings, to: 'autoscale' | 'manual'): ThroughputSettings {
  if (to === 'autoscale') {
    if (current.autoscaleMaxThroughput !== undefined) return current;
    const max = Math.max(1000, Math.ceil(((current.throughput ?? 400) * 10) / 1000) * 1000);
    return { autoscaleMaxThroughput: max };
  }
  if (current.autoscaleMaxThroughput === undefined) return current;
  return { throughput: Math.max(400, Math.round(current.autoscaleMaxThroughput / 10 / 100) * 100) };
}

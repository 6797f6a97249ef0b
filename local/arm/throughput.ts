/**
 * Container throughput (`.../containers/{c}/throughputSettings/default`): GET, and PUT as a long-running operation.
 * The setting is handed to the emulator's RU model, so a migration really gets only the RU/s it was given.
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

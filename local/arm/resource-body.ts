/** Request-body reading and response bodies for SQL databases and containers (Microsoft.DocumentDB REST API). */
import { isRecord, rpError } from './http';
import type { AccountState, ThroughputSettings } from './state';

export interface ResourceRequest {
  resource: Record<string, unknown>;
  options: Record<string, unknown>;
}

/** `{properties: {resource: {id, ...}, options}}` with `resource.id` equal to the name in the URL. */
export function readResourceRequest(body: unknown, name: string, what: 'database' | 'container'): ResourceRequest {
  const properties = isRecord(body) ? body.properties : undefined;
  const resource = isRecord(properties) ? properties.resource : undefined;
  if (!isRecord(properties) || !isRecord(resource)) {
    throw rpError(400, 'BadRequest', `The request body must be {"properties":{"resource":{"id":"${name}",...}}}.`);
  }
  if (resource.id !== name) {
    throw rpError(
      400,
      'BadRequest',
      `resource.id '${String(resource.id)}' does not match the ${what} name '${name}' in the request URL.`
    );
  }
  return { resource, options: isRecord(properties.options) ? properties.options : {} };
}

/** Dedicated throughput from `options` (`throughput` or `autoscaleSettings.maxThroughput`), if any. */
export function throughputFromOptions(options: Record<string, unknown>): ThroughputSettings | undefined {
  if (typeof options.throughput === 'number') return validThroughput({ throughput: options.throughput });
  const autoscale = options.autoscaleSettings;
  if (isRecord(autoscale) && typeof autoscale.maxThroughput === 'number') {
    return validThroughput({ autoscaleMaxThroughput: autoscale.maxThroughput });
  }
  return undefined;
}

/** Azure's limits for dedicated throughput: manual ≥ 400 in steps of 100, autoscale max ≥ 1000 in steps of 1000. */
export function validThroughput(settings: ThroughputSettings): ThroughputSettings {
  const { throughput, autoscaleMaxThroughput } = settings;
  if (throughput !== undefined && (!Number.isInteger(throughput) || throughput < 400 || throughput % 100 !== 0)) {
    throw rpError(
      400,
      'BadRequest',
      `Throughput ${throughput} RU/s is invalid: it must be at least 400 and a multiple of 100.`
    );
  }
  if (
    autoscaleMaxThroughput !== undefined &&
    (!Number.isInteger(autoscaleMaxThroughput) || autoscaleMaxThroughput < 1000 || autoscaleMaxThroughput % 1000 !== 0)
  ) {
    throw rpError(
      400,
      'BadRequest',
      `Autoscale max throughput ${autoscaleMaxThroughput} RU/s is invalid: it must be at least 1000 and a multiple of 1000.`
    );
  }
  return settings;
}

export function optionsBody(settings: ThroughputSettings | undefined): Record<string, unknown> | undefined {
  if (!settings) return undefined;
  if (settings.autoscaleMaxThroughput !== undefined) {
    return { autoscaleSettings: { maxThroughput: settings.autoscaleMaxThroughput } };
  }
  return { throughput: settings.throughput };
}

export function databaseId(state: AccountState, database: string): string {
  return `${state.accountId}/sqlDatabases/${database}`;
}

export function containerId(state: AccountState, database: string, container: string): string {
  return `${databaseId(state, database)}/containers/${container}`;
}

export function databaseBody(state: AccountState, database: string, record: Record<string, unknown>) {
  const options = optionsBody(state.databaseThroughputOf(database));
  return {
    id: databaseId(state, database),
    name: database,
    type: 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases',
    properties: { resource: record, ...(options ? { options } : {}) },
  };
}

export function containerBody(state: AccountState, database: string, record: Record<string, unknown>) {
  const container = String(record.id);
  const options = optionsBody(state.throughputOf(database, container));
  const restore = state.restoreOf(database, container);
  const restoreParameters = restore
    ? {
        restoreSource: restore.restoreSource,
        restoreTimestampInUtc: restore.restoreTimestampInUtc,
        instanceId: restore.instanceId,
        ...(restore.restoreWithTtlDisabled !== undefined
          ? { restoreWithTtlDisabled: restore.restoreWithTtlDisabled }
          : {}),
      }
    : undefined;
  return {
    id: containerId(state, database, container),
    name: container,
    type: 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers',
    properties: {
      resource: { ...record, ...(restoreParameters ? { restoreParameters } : {}) },
      ...(options ? { options } : {}),
    },
  };
}

export function throughputBody(
  state: AccountState,
  database: string,
  container: string,
  settings: ThroughputSettings
): Record<string, unknown> {
  return throughputSettingsBody(
    `${containerId(state, database, container)}/throughputSettings/default`,
    'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/throughputSettings',
    settings
  );
}

export function databaseThroughputBody(
  state: AccountState,
  database: string,
  settings: ThroughputSettings
): Record<string, unknown> {
  return throughputSettingsBody(
    `${databaseId(state, database)}/throughputSettings/default`,
    'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/throughputSettings',
    settings
  );
}

function throughputSettingsBody(id: string, type: string, settings: ThroughputSettings): Record<string, unknown> {
  const autoscale = settings.autoscaleMaxThroughput;
  return {
    id,
    name: 'default',
    type,
    properties: {
      resource: {
        throughput: autoscale !== undefined ? autoscale / 10 : settings.throughput,
        ...(autoscale !== undefined ? { autoscaleSettings: { maxThroughput: autoscale } } : {}),
        minimumThroughput: autoscale !== undefined ? '1000' : '400',
        offerReplacePending: 'false',
      },
    },
  };
}

/** The container definition handed to the emulator: the request's `resource` without the RP-only fields. */
export function definitionOf(resource: Record<string, unknown>): Record<string, unknown> {
  return omit(resource, ['createMode', 'restoreParameters']);
}

export function omit(record: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([key]) => !keys.includes(key)));
}

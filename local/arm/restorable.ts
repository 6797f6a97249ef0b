/**
 * Restorable resources (Microsoft.DocumentDB REST API): the account, and the event feeds of its databases and containers built from
 * the emulator's backup log with the real event times. Errors here use the ARM envelope (these operations have a
 * default error mapper). Lists are `{value: [...]}` without nextLink, as the SDK reads only one page.
 */
import type { ContainerEvent, DatabaseEvent } from '../cosmos/types';
import { param, type RequestContext } from './context';
import { armError, type Reply } from './http';
import { eventTimestamp, regionCompact, stableGuid, stableRid } from './ids';
import { resourcesAt } from './events';
import { restorableAccountBody } from './account';
import type { AccountState } from './state';
import { requireRestoreRead } from './permission';

const TYPE = 'Microsoft.DocumentDB/locations/restorableDatabaseAccounts';

export async function listRestorableAccounts(ctx: RequestContext): Promise<Reply> {
  const { state } = ctx;
  requireRestoreRead(state, `/subscriptions/${state.subscriptionId}`);
  return { status: 200, body: { value: state.isContinuous() ? [restorableAccountBody(state)] : [] } };
}

export async function listRestorableAccountsByLocation(ctx: RequestContext): Promise<Reply> {
  const { state } = ctx;
  requireRestoreRead(
    state,
    `/subscriptions/${state.subscriptionId}/providers/Microsoft.DocumentDB/locations/${regionCompact(param(ctx, 'location'))}`
  );
  const here = regionCompact(param(ctx, 'location')) === state.region;
  return { status: 200, body: { value: here && state.isContinuous() ? [restorableAccountBody(state)] : [] } };
}

export async function getRestorableAccount(ctx: RequestContext): Promise<Reply> {
  requireRestorableAccount(ctx);
  return { status: 200, body: restorableAccountBody(ctx.state) };
}

export async function listRestorableSqlDatabases(ctx: RequestContext): Promise<Reply> {
  const { state } = ctx;
  const base = requireRestorableAccount(ctx);
  const events = sortedByTime(state.cosmos.backup.databaseEvents());
  await rememberLiveDatabaseRids(state, events);
  const value = events.map((event, index) => {
    const name = stableGuid(`database-event/${event.database}/${event.kind}/${event.at.toISOString()}/${index}`);
    const rid = databaseRidOf(state, event.database);
    return {
      id: `${base}/restorableSqlDatabases/${name}`,
      name,
      type: `${TYPE}/restorableSqlDatabases`,
      properties: {
        resource: {
          _rid: stableRid(name, 6),
          eventTimestamp: eventTimestamp(event.at),
          ownerId: event.database,
          ownerResourceId: rid,
          operationType: event.kind,
          database: { id: event.database, _rid: rid, _self: `dbs/${rid}/`, _colls: 'colls/', _users: 'users/' },
        },
      },
    };
  });
  return { status: 200, body: { value } };
}

export async function listRestorableSqlContainers(ctx: RequestContext): Promise<Reply> {
  const { state, query } = ctx;
  const base = requireRestorableAccount(ctx);
  const databaseRid = query.get('restorableSqlDatabaseRid');
  const startTime = optionalTime(query.get('startTime'), 'startTime');
  const endTime = optionalTime(query.get('endTime'), 'endTime');
  await rememberLiveDatabaseRids(state, state.cosmos.backup.databaseEvents());
  const events = sortedByTime(state.cosmos.backup.containerEvents())
    .map((event, index) => ({ event, index }))
    .filter(
      ({ event }) =>
        !databaseRid || databaseRid === databaseRidOf(state, event.database) || databaseRid === event.database
    )
    .filter(({ event }) => (!startTime || event.at >= startTime) && (!endTime || event.at <= endTime));
  const value = events.map(({ event, index }) => {
    const name = stableGuid(
      `container-event/${event.database}/${event.container}/${event.kind}/${event.at.toISOString()}/${index}`
    );
    const definition = definitionAround(state, event);
    const rid =
      typeof definition?._rid === 'string' ? definition._rid : stableRid(`${event.database}/${event.container}`, 8);
    return {
      id: `${base}/restorableSqlContainers/${name}`,
      name,
      type: `${TYPE}/restorableSqlContainers`,
      properties: {
        resource: {
          _rid: stableRid(name, 6),
          eventTimestamp: eventTimestamp(event.at),
          ownerId: event.container,
          ownerResourceId: rid,
          operationType: event.kind,
          ...(definition ? { container: definition } : {}),
        },
      },
    };
  });
  return { status: 200, body: { value } };
}

export async function listRestorableSqlResources(ctx: RequestContext): Promise<Reply> {
  const { state, query } = ctx;
  const base = requireRestorableAccount(ctx);
  const at = optionalTime(query.get('restoreTimestampInUtc'), 'restoreTimestampInUtc') ?? new Date();
  const restoreLocation = query.get('restoreLocation');
  if (restoreLocation && regionCompact(restoreLocation) !== state.region) {
    throw armError(
      400,
      'BadRequest',
      `restoreLocation '${restoreLocation}' is not a region of account '${state.account}' (${state.region}).`
    );
  }
  const value = [...resourcesAt(state.cosmos.backup, at)].map(([databaseName, collectionNames]) => ({
    id: `${base}/restorableSqlResources/${databaseName}`,
    name: databaseName,
    type: `${TYPE}/restorableSqlResources`,
    databaseName,
    collectionNames,
  }));
  return { status: 200, body: { value } };
}

/** The restorable account named in the URL; only this account, and only while it is in continuous mode. */
function requireRestorableAccount(ctx: RequestContext): string {
  const { state } = ctx;
  const location = param(ctx, 'location');
  const instanceId = param(ctx, 'instanceId');
  requireRestoreRead(
    state,
    `/subscriptions/${state.subscriptionId}/providers/Microsoft.DocumentDB/locations/${regionCompact(location)}/restorableDatabaseAccounts/${instanceId}`
  );
  if (
    regionCompact(location) !== state.region ||
    instanceId.toLowerCase() !== state.instanceId.toLowerCase() ||
    !state.isContinuous()
  ) {
    throw armError(
      404,
      'NotFound',
      `Restorable database account '${instanceId}' was not found in location '${location}'` +
        (state.isContinuous()
          ? '.'
          : ` (account '${state.account}' uses periodic backup, which is not restorable in place).`)
    );
  }
  return state.restorableAccountId;
}

function optionalTime(text: string | null, name: string): Date | undefined {
  if (!text) return undefined;
  const at = new Date(text);
  if (Number.isNaN(at.getTime())) throw armError(400, 'BadRequest', `${name} '${text}' is not a valid date-time.`);
  return at;
}

function sortedByTime<T extends { at: Date }>(events: T[]): T[] {
  return [...events].sort((a, b) => a.at.getTime() - b.at.getTime());
}

function databaseRidOf(state: AccountState, database: string): string {
  return state.databaseRid(database) ?? stableRid(`db/${database}`);
}

async function rememberLiveDatabaseRids(state: AccountState, events: DatabaseEvent[]): Promise<void> {
  for (const database of new Set(events.map((event) => event.database))) {
    if (state.databaseRid(database)) continue;
    const record = await state.cosmos.admin.readDatabase(database);
    if (record) state.rememberDatabaseRid(database, record._rid);
  }
}

/**
 * The container's definition after a Create/Replace, or just before a Delete. Rebuilding it replays the backup log,
 * so each event's answer is kept (events never change).
 */
const definitions = new WeakMap<AccountState, Map<string, Record<string, unknown> | null>>();

function definitionAround(state: AccountState, event: ContainerEvent): Record<string, unknown> | null {
  const cache = definitions.get(state) ?? new Map<string, Record<string, unknown> | null>();
  definitions.set(state, cache);
  const key = JSON.stringify([event.database, event.container, event.kind, event.at.getTime()]);
  if (!cache.has(key)) {
    const at = event.kind === 'Delete' ? new Date(event.at.getTime() - 1) : event.at;
    let definition: Record<string, unknown> | null = null;
    try {
      definition = state.cosmos.backup.containerAt(event.database, event.container, at).definition;
    } catch {
      definition = null;
    }
    cache.set(key, definition);
  }
  return cache.get(key) ?? null;
}

/**
 * A container's life as ARM's restorable event feed tells it (Microsoft.DocumentDB REST API): whether it lives now and when it
 * was last deleted. This needs nothing of the container itself, so it also answers for a container already deleted.
 */
import type { CosmosDBManagementClient, RestorableSqlContainerGetResult } from '@azure/arm-cosmosdb';

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

export interface ContainerLife {
  /** The feed has events for it. */
  known: boolean;
  /** Its last event is not a Delete. */
  alive: boolean;
  /** The time of its last Delete event (second precision), if any. */
  deletedAt?: string;
}

/** A restorable-feed time ("2024-11-22T21:16:42Z") as ms. */
function eventTime(event: RestorableSqlContainerGetResult): number {
  return Date.parse(event.resource?.eventTimestamp ?? '') || 0;
}

export function containerLife(events: RestorableSqlContainerGetResult[], container: string): ContainerLife {
  const own = events
    .filter((event) => event.resource?.ownerId === container)
    .sort((a, b) => eventTime(a) - eventTime(b));
  const last = own[own.length - 1];
  const deletions = own.filter((event) => event.resource?.operationType === 'Delete');
  const lastDeletion = deletions[deletions.length - 1];
  return {
    known: own.length > 0,
    alive: last !== undefined && last.resource?.operationType !== 'Delete',
    ...(lastDeletion?.resource?.eventTimestamp ? { deletedAt: lastDeletion.resource.eventTimestamp } : {}),
  };
}

/** The container's events, found through its database's _rid (the ownerResourceId of the database's events). */
export async function readContainerLife(
  arm: CosmosDBManagementClient,
  location: string,
  instanceId: string,
  database: string,
  container: string
): Promise<ContainerLife> {
  const databaseEvents = await collect(arm.restorableSqlDatabases.list(location, instanceId));
  const databaseRid = databaseEvents
    .filter((event) => event.resource?.ownerId === database)
    .map((event) => event.resource?.ownerResourceId)
    .filter((rid): rid is string => typeof rid === 'string')
    .pop();
  if (!databaseRid) return { known: false, alive: false };
  const events = await collect(
    arm.restorableSqlContainers.list(location, instanceId, { restorableSqlDatabaseRid: databaseRid })
  );
  return containerLife(events, container);
}

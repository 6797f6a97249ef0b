/** One change at a time per database or container, as the RP enforces. */
import type { RequestContext } from './context';
import { rpError } from './http';

/** Account names are case-insensitive on ARM. */
export function accountKey(name: string): string {
  return `account:${name.toLowerCase()}`;
}

export function databaseKey(database: string): string {
  return `db:${database}`;
}

export function containerKey(database: string, container: string): string {
  return `container:${database}/${container}`;
}

/** A second change while one is running on the same resource is refused with 409. */
export function refuseWhileBusy(ctx: RequestContext, resourceKey: string, what: string): void {
  const running = ctx.operations.inProgress(resourceKey);
  if (running) {
    throw rpError(
      409,
      'Conflict',
      `Another operation (${running.id}) is in progress on ${what}; retry after it completes.`
    );
  }
}

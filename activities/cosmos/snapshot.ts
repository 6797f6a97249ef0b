/**
 * takeSnapshot: the restore point T0 and what the container held, just before the first write.
 *
 * T0 comes from the server's clock, not the worker's: the `date` header of a Cosmos response (1 s resolution).
 * A response dated D was produced at a server time in [D, D + 1 s), so every write before this activity happened
 * before T0 = D + 1 s. The activity then waits until the server's clock shows T0, so every write after it is at
 * or after T0. A restore to T0 therefore holds exactly the pre-migration data.
 */
import type { Container } from '@azure/cosmos';
import type { ContainerRef, Snapshot } from '../../common/activities';
import type { ActivityDeps } from '../deps';
import { countByVersion } from './counts';
import { sleep } from './ru-budget';

async function serverDate(container: Container): Promise<number> {
  const response = await container.read();
  if (!response.resource) throw new Error(`container ${container.database.id}/${container.id} does not exist`);
  const date = Date.parse(String(response.headers['date'] ?? ''));
  if (Number.isNaN(date))
    throw new Error(`the Cosmos endpoint sent no usable date header (got ${response.headers['date']})`);
  return date;
}

/** A restore point after every write made so far, by the server's clock; returns once the server is past it. */
export async function restorePoint(container: Container): Promise<Date> {
  const t0 = (await serverDate(container)) + 1000;
  while ((await serverDate(container)) < t0) await sleep(200);
  return new Date(t0);
}

export async function takeSnapshot(
  deps: ActivityDeps,
  input: ContainerRef & { versionField: string }
): Promise<Snapshot> {
  const container = deps.cosmos.database(input.database).container(input.container);
  const t0 = await restorePoint(container);
  const { counts, total } = await countByVersion(container, input.versionField);
  return { t0: t0.toISOString(), documentCount: total, countsByVersion: counts };
}

/**
 * takeSnapshot: the restore point T0 and what the container held, just before the first write.
 *
 * T0 comes from the server's clock, not the worker's: the `date` header of a Cosmos response (1 s resolution).
 * A response dated D was produced at a server time in [D, D + 1 s), so every write before this activity happened
 * before T0 = D + 1 s. The activity then waits until the server's clock shows T0, so every write after it is at
 * or after T0. A restore to T0 therefore holds exactly the pre-migration data.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CosmosClient } from '@azure/cosmos';
import { exportContainer } from '../arm/export';
import type { ContainerRef, Snapshot } from '../../common/activities';
import type { ActivityDeps } from '../deps';
import { countByVersion } from './counts';
import { startDeletesFeed } from './deletes-since';

/** The server's clock, from the date header of an account read (works before the container exists, too). */
async function serverDate(client: CosmosClient): Promise<number> {
  const response = await client.getDatabaseAccount();
  const raw = response.headers['date'];
  const date = Date.parse(String(raw ?? ''));
  if (Number.isNaN(date)) throw new Error(`the Cosmos endpoint sent no usable date header (got ${String(raw)})`);
  return date;
}

/**
 * How often the server's clock is read while waiting for T0. The wait is the rest of the current second (0.5 s on
 * average) and holds up the first write of every run: polled finely, it ends within 50 ms of the second turning.
 * An account read is a metadata request (no RU).
 */
const RESTORE_POINT_POLL_MS = 50;

/**
 * How far past T0 the server's clock must be before the run's first write. The date header comes from one gateway and
 * a document's `_ts` from the replica that wrote it, whose clocks may differ by a little: with this margin, no write of
 * the migration can carry a time at or before T0 even if they differ by up to a second.
 */
export const RESTORE_POINT_MARGIN_MS = 1000;

/**
 * A restore point after every write made so far, by the server's clock; returns once the server is past it by
 * RESTORE_POINT_MARGIN_MS.
 */
export async function restorePoint(client: CosmosClient): Promise<Date> {
  const t0 = (await serverDate(client)) + 1000;
  while ((await serverDate(client)) < t0 + RESTORE_POINT_MARGIN_MS) await sleep(RESTORE_POINT_POLL_MS);
  return new Date(t0);
}

/**
 * The count runs after T0 while the application may still be writing, so it is the state at the count, not at T0.
 * The same scan counts the documents whose `_ts` is at or after T0's second (`changedSinceT0`): created or changed
 * between T0 and the count. The state at T0 then held between `documentCount − changedSinceT0` and `documentCount`
 * documents (plus any deleted in between, which no scan can see), and verifyRestore checks the restored container
 * (which is Azure's state at T0) against that range instead of a count that may include later writes.
 * (T0 is a whole second, see restorePoint, so `_ts ≥ T0/1000` is exactly "written at or after T0".)
 */
export async function takeSnapshot(
  deps: ActivityDeps,
  input: ContainerRef & { versionField: string }
): Promise<Snapshot> {
  // A migration that creates its container snapshots nothing yet: the restore point is still worth having.
  if (!(await exportContainer(deps, input))) {
    const t0 = await restorePoint(deps.cosmos);
    return { t0: t0.toISOString(), documentCount: 0, countsByVersion: {}, changedSinceT0: 0 };
  }
  const container = deps.cosmos.database(input.database).container(input.container);
  // Before T0, so no delete at or after T0 is missed (those before T0 are told apart by their time).
  const deletesFeed = await startDeletesFeed(container);
  const t0 = await restorePoint(deps.cosmos);
  const { counts, total, changedSince } = await countByVersion(container, input.versionField, {
    changedSinceTs: Math.floor(t0.getTime() / 1000),
  });
  return {
    t0: t0.toISOString(),
    documentCount: total,
    countsByVersion: counts,
    changedSinceT0: changedSince,
    countedAt: new Date().toISOString(),
    ...(deletesFeed !== undefined ? { deletesFeed } : {}),
  };
}

/**
 * A count a destructive step may act on. Under Session consistency (Azure's default,
 * https://learn.microsoft.com/azure/cosmos-db/consistency-levels) a read without the session token of the
 * application's writes may be served by a replica that has not applied them yet: a count taken right after the
 * application wrote can miss its documents, and a container "empty" on that count would be deleted with them. The
 * worker has no token for another client's writes, and a request may not ask for more than the account's level.
 *
 * So the count is taken again after `settleMs` until two consecutive counts agree, and the highest count seen is
 * returned (a lagging replica only ever shows fewer of the writes before it). This holds as long as replicas lag by
 * less than `settleMs`; Azure documents no bound for Session, so it narrows the window rather than closing it, as
 * does any count taken while the application may still write.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** Longer than the replica lag a healthy single-region account shows (the local chaos stack lags 200 ms). */
export const SETTLE_MS = 1_000;
const MAX_COUNTS = 8;

export async function settledCount(
  count: () => Promise<number>,
  options: { settleMs?: number; maxCounts?: number; wait?: (ms: number) => Promise<unknown> } = {}
): Promise<number> {
  const { settleMs = SETTLE_MS, maxCounts = MAX_COUNTS, wait = sleep } = options;
  let previous = await count();
  let highest = previous;
  for (let taken = 1; taken < maxCounts; taken++) {
    await wait(settleMs);
    const next = await count();
    highest = Math.max(highest, next);
    if (next === previous) break;
    previous = next;
  }
  return highest;
}

/**
 * countWritesSince: how many documents were written (created or changed) at or after a time, usually T0: the
 * application's writes that an in-place restore to T0 would discard, shown to the operator before consenting to it.
 *
 * One aggregate per feed range (`SELECT VALUE COUNT(1) FROM c WHERE c._ts >= @t`), heartbeating after each, so a
 * big container is counted range by range and a retry resumes after the ranges already counted. `_ts` has second
 * resolution: the bound is T0's second, so a write in the second of T0 but just before it is counted too (the count
 * errs towards more, never fewer). The migration's own writes are after T0 as well and are included. Documents deleted
 * since T0 are gone from every query: with the snapshot's change-feed continuation they are counted from the
 * all-versions-and-deletes feed (deletes-since.ts).
 */
import { ErrorType } from '../../common/errors';
import type { Container } from '@azure/cosmos';
import { ApplicationFailure } from '@temporalio/common';
import type { CountWritesSinceInput, WritesSince } from '../../common/activities';
import type { ActivityDeps } from '../deps';
import { FEED_RANGE_SPLIT, isPartitionGone, listFeedRanges, rangeQueryOptions } from './feed-ranges';
import { activityContext, heartbeat } from './requests';
import { countDeletedSince } from './deletes-since';

interface Progress {
  /** Feed ranges already counted, and their counts. */
  counted: Record<string, number>;
}

async function countRange(container: Container, range: string, sinceTs: number, progress: Progress): Promise<number> {
  const options = await rangeQueryOptions(container, range);
  const iterator = container.items.query<number>(
    { query: 'SELECT VALUE COUNT(1) FROM c WHERE c._ts >= @t', parameters: [{ name: '@t', value: sinceTs }] },
    options
  );
  let count = 0;
  // An aggregate may come back in several partial pages (one per partition the range covers): sum them.
  while (iterator.hasMoreResults()) {
    const page = await iterator.fetchNext();
    for (const n of page.resources ?? []) if (typeof n === 'number') count += n;
    // A long range keeps the activity alive between pages (the count restarts from the range's start on a retry).
    heartbeat({ counted: { ...progress.counted } });
  }
  return count;
}

export async function countWritesSince(
  deps: Pick<ActivityDeps, 'cosmos'>,
  input: CountWritesSinceInput
): Promise<WritesSince> {
  const since = Date.parse(input.since);
  if (Number.isNaN(since)) {
    throw ApplicationFailure.nonRetryable(
      `since ${JSON.stringify(input.since)} is not an ISO date-time`,
      ErrorType.InvalidInput
    );
  }
  const sinceTs = Math.floor(since / 1000);
  const container = deps.cosmos.database(input.database).container(input.container);
  const resumed = activityContext()?.info.heartbeatDetails as Progress | undefined;
  const progress: Progress = { counted: { ...(resumed?.counted ?? {}) } };
  let ranges: string[];
  for (let attempt = 1; ; attempt++) {
    ranges = await listFeedRanges(container);
    try {
      for (const range of ranges) {
        if (progress.counted[range] !== undefined) continue;
        progress.counted[range] = await countRange(container, range, sinceTs, progress);
        heartbeat({ counted: { ...progress.counted } });
      }
      break;
    } catch (err) {
      // A range split while we counted: list the ranges again and count its children.
      // (refused at its start as FeedRangeSplit, or answered 410/1002 while counted).
      if (((err as { type?: string }).type === FEED_RANGE_SPLIT || isPartitionGone(err)) && attempt < 10) continue;
      throw err;
    }
  }
  // A range counted by an earlier attempt that has split since is replaced by its children: count only current ones.
  const documents = ranges.reduce((sum, range) => sum + (progress.counted[range] ?? 0), 0);
  if (input.deletesFeed === undefined) return { documents, ranges: ranges.length };
  // Its progress beats with the counts', so a retry still skips the ranges already counted.
  const { deleted } = await countDeletedSince(container, input.deletesFeed, sinceTs, (deletes) =>
    heartbeat({ counted: { ...progress.counted }, deletes })
  );
  return { documents, ranges: ranges.length, deleted };
}

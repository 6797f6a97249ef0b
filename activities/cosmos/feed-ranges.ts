/**
 * Feed ranges: how the work on one container is split, one migrateRange activity per range (they can run on
 * different workers). The JS SDK 4.x cannot scope a query to a feed range, so a range is mapped to the physical
 * partition key range it covers and the query carries that range's id, as the SDK's own cross-partition queries do.
 */
import type { Container, FeedOptions } from '@azure/cosmos';
import { ApplicationFailure } from '@temporalio/common';

import { FEED_RANGE_SPLIT } from '../../common/activities';

export { FEED_RANGE_SPLIT };

export interface SerializedFeedRange {
  minInclusive: string;
  maxExclusive: string;
}

export async function listFeedRanges(container: Container): Promise<string[]> {
  const ranges = await container.getFeedRanges();
  return ranges.map((r) => JSON.stringify({ minInclusive: r.minInclusive, maxExclusive: r.maxExclusive }));
}

export function parseFeedRange(serialized: string): SerializedFeedRange {
  let parsed: unknown;
  try {
    parsed = JSON.parse(serialized);
  } catch {
    throw ApplicationFailure.nonRetryable(`feed range ${JSON.stringify(serialized)} is not JSON from listFeedRanges`);
  }
  const r = parsed as Partial<SerializedFeedRange>;
  if (typeof r?.minInclusive !== 'string' || typeof r.maxExclusive !== 'string') {
    throw ApplicationFailure.nonRetryable(`feed range ${serialized} lacks minInclusive/maxExclusive`);
  }
  return { minInclusive: r.minInclusive, maxExclusive: r.maxExclusive };
}

/**
 * Query options that keep a query inside one feed range. A range that spans the whole container needs nothing.
 * A range that has split since it was listed is refused (non-retryable, type FeedRangeSplit): retrying the same
 * range cannot help; the ranges must be listed again.
 */
export async function rangeQueryOptions(container: Container, serialized: string): Promise<FeedOptions> {
  const range = parseFeedRange(serialized);
  const { resources: pkRanges } = await container.readPartitionKeyRanges().fetchAll();
  if (pkRanges.length === 1 && range.minInclusive === '' && range.maxExclusive.toUpperCase() === 'FF') return {};
  const inside = pkRanges.filter(
    (p) => p.minInclusive >= range.minInclusive && (p.maxExclusive <= range.maxExclusive || range.maxExclusive === 'FF')
  );
  if (inside.length !== 1 || inside[0]?.minInclusive !== range.minInclusive) {
    throw ApplicationFailure.nonRetryable(
      `feed range [${range.minInclusive}, ${range.maxExclusive}) of ${container.id} now covers ${inside.length} partition key ranges (the container split?); list the feed ranges again`,
      FEED_RANGE_SPLIT
    );
  }
  return { initialHeaders: { 'x-ms-documentdb-partitionkeyrangeid': String(inside[0].id) } };
}

/** Substatus codes of a 410 that mean the partition key range is gone or moving: retrying the same range id fails. */
const RANGE_GONE_SUBSTATUS = new Set([
  1002, // PartitionKeyRangeGone: the range split (or merged); its id answers 410 from now on
  1007, // CompletingSplit
  1008, // CompletingPartitionMigration
]);

/**
 * A request scoped to a partition key range that no longer exists: 410 with substatus 1002 (what `fetchNext`
 * rethrows), or the 503 "Encountered partition split" that the SDK's `fetchAll` makes of it.
 */
export function isPartitionGone(err: unknown): boolean {
  const e = err as { code?: unknown; statusCode?: unknown; substatus?: unknown; message?: unknown };
  const status = typeof e?.code === 'number' ? e.code : e?.statusCode;
  if (status === 410) return typeof e.substatus === 'number' && RANGE_GONE_SUBSTATUS.has(e.substatus);
  if (status === 503) return typeof e.message === 'string' && /partition split/i.test(e.message);
  return false;
}

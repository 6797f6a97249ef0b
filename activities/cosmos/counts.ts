/**
 * Counting documents: in total, by candidates of a rule, and by version — one physical partition at a time.
 *
 * Every count is an aggregate (`SELECT VALUE COUNT(1)`) sent to one partition key range
 * (`x-ms-documentdb-partitionkeyrangeid`, as the SDK's own fan-out does), a few ranges at a time, with a
 * heartbeat after each: nothing holds a container's worth of ids or rows, a container of millions of documents costs
 * a few aggregate queries per range, and a range that splits while it is counted (410/1002) is counted again as its
 * children. The SDK's own cross-partition aggregate is not used: in @azure/cosmos 4.9.3 it never ends when a range
 * splits while it runs (local/README.md, "SDK limitation found here").
 */
import { versionKey } from '../../common/counters';
import type { Container, FeedOptions, SqlQuerySpec } from '@azure/cosmos';
import { isPartitionGone } from './feed-ranges';
import { heartbeat } from './requests';
import {
  candidateCondition,
  fieldRef,
  MISSING_VERSION_KEY,
  OTHER_VERSION_KEY,
  type Version,
  type VersionRule,
} from './versions';

export interface Counted {
  count: number;
  ruConsumed: number;
}

/** A live physical partition (partition key range) of a container. */
export interface LiveRange {
  id: string;
  minInclusive: string;
  maxExclusive: string;
}

/** Distinct versions counted one by one per range; past this many, the rest of the range is `(other)`. */
const MAX_VERSIONS_PER_RANGE = 20;

export async function liveRanges(container: Container): Promise<LiveRange[]> {
  const { resources } = await container.readPartitionKeyRanges().fetchAll();
  return resources.map((r) => ({ id: String(r.id), minInclusive: r.minInclusive, maxExclusive: r.maxExclusive }));
}

const end = (r: { maxExclusive: string }) => (r.maxExclusive.toUpperCase() === 'FF' ? '\uffff' : r.maxExclusive);

/** The query options that keep a request inside one partition key range. */
export function rangeOptions(range: LiveRange): FeedOptions {
  return { initialHeaders: { 'x-ms-documentdb-partitionkeyrangeid': range.id } };
}

/** Ranges counted at once: Azure answers each range's aggregate on its own partition, in parallel. */
export const RANGES_IN_PARALLEL = 4;

/** `fn` over `items`, at most `limit` at once; the results in the items' order. */
export async function mapLimit<I, O>(items: I[], limit: number, fn: (item: I) => Promise<O>): Promise<O[]> {
  const results: O[] = new Array<O>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/**
 * Runs `fn` once per live partition key range, RANGES_IN_PARALLEL ranges at a time (each range's queries one after
 * the other), and heartbeats `{ what, ranges, left }` after each range. A range that splits while `fn` runs
 * (410/1002) is done again as its children: `fn` must give the range's whole part or throw, so a part is kept only
 * once complete. The parts come back in the ranges' order.
 */
export async function perRange<T>(
  container: Container,
  what: string,
  fn: (options: FeedOptions, range: LiveRange) => Promise<T>
): Promise<T[]> {
  const ranges = await liveRanges(container);
  let done = 0;
  let left = ranges.length;
  const one = async (range: LiveRange): Promise<T[]> => {
    let parts: T[];
    try {
      parts = [await fn(rangeOptions(range), range)];
    } catch (err) {
      if (!isPartitionGone(err)) throw err;
      const children = (await liveRanges(container)).filter(
        (r) => r.minInclusive >= range.minInclusive && end(r) <= end(range)
      );
      // None inside: the range merged into a wider one (Azure merges only on request); the error stands.
      if (children.length === 0) throw err;
      left += children.length - 1;
      return (await mapLimit(children, 1, one)).flat();
    }
    done += 1;
    left -= 1;
    heartbeat({ what, ranges: done, left });
    return parts;
  };
  return (await mapLimit(ranges, RANGES_IN_PARALLEL, one)).flat();
}

/** One aggregate over one range. */
async function countInRange(container: Container, spec: SqlQuerySpec, options: FeedOptions): Promise<Counted> {
  // Page by page, heartbeating each: Azure answers an aggregate over a large partition in partial results, one page
  // per continuation (each within the request's time budget), so a 50 GB partition's count takes many pages and can
  // outlast the heartbeat timeout if only the whole range were heartbeated.
  const iterator = container.items.query<number>(spec, options);
  const counted: Counted = { count: 0, ruConsumed: 0 };
  let pages = 0;
  while (iterator.hasMoreResults()) {
    const page = await iterator.fetchNext();
    for (const n of page.resources ?? []) counted.count += typeof n === 'number' ? n : 0;
    counted.ruConsumed += page.requestCharge ?? 0;
    heartbeat({ counting: ++pages });
  }
  return counted;
}

function countSpec(where?: { where: string; parameters: SqlQuerySpec['parameters'] }): SqlQuerySpec {
  return where
    ? { query: `SELECT VALUE COUNT(1) FROM c WHERE ${where.where}`, parameters: where.parameters }
    : { query: 'SELECT VALUE COUNT(1) FROM c' };
}

function sum(parts: Counted[]): Counted {
  return parts.reduce((a, b) => ({ count: a.count + b.count, ruConsumed: a.ruConsumed + b.ruConsumed }), {
    count: 0,
    ruConsumed: 0,
  });
}

/** `SELECT VALUE COUNT(1)` per partition key range, added up. */
export async function countWhere(
  container: Container,
  where?: { where: string; parameters: SqlQuerySpec['parameters'] }
): Promise<Counted> {
  const spec = countSpec(where);
  return sum(await perRange(container, 'count', (options) => countInRange(container, spec, options)));
}

export async function countCandidates(container: Container, rule: VersionRule): Promise<Counted> {
  return countWhere(container, candidateCondition(rule));
}

interface RangeVersions {
  counts: Record<string, number>;
  total: number;
  changedSince: number;
  ruConsumed: number;
}

/**
 * One range's documents by version, with aggregates only: the total, the documents without the field, then each
 * version present (found with `TOP 1`, excluding those already counted) counted with `COUNT(1)`. A handful of
 * queries per range, whatever its size; the counts are taken one after the other while the application may write,
 * so the versions add up to the total only when nothing changed in between.
 */
async function versionsInRange(
  container: Container,
  versionField: string,
  since: number | undefined,
  options: FeedOptions
): Promise<RangeVersions> {
  const f = fieldRef(versionField);
  const part: RangeVersions = { counts: {}, total: 0, changedSince: 0, ruConsumed: 0 };
  const count = async (where?: { where: string; parameters: SqlQuerySpec['parameters'] }) => {
    const c = await countInRange(container, countSpec(where), options);
    part.ruConsumed += c.ruConsumed;
    return c.count;
  };
  // Three independent aggregates, asked at once.
  const [total, changedSince, missing] = await Promise.all([
    count(),
    since !== undefined
      ? count({ where: 'c._ts >= @since', parameters: [{ name: '@since', value: since }] })
      : Promise.resolve(0),
    count({ where: `NOT IS_DEFINED(${f})`, parameters: [] }),
  ]);
  part.total = total;
  if (part.total === 0) return part;
  part.changedSince = changedSince;
  if (missing > 0) part.counts[MISSING_VERSION_KEY] = missing;
  let counted = missing;
  const known: Version[] = [];
  while (counted < part.total && known.length < MAX_VERSIONS_PER_RANGE) {
    const next = await container.items
      .query<Version>(
        {
          query: `SELECT TOP 1 VALUE ${f} FROM c WHERE IS_DEFINED(${f}) AND NOT ARRAY_CONTAINS(@known, ${f})`,
          parameters: [{ name: '@known', value: known }],
        },
        options
      )
      .fetchAll();
    part.ruConsumed += next.requestCharge ?? 0;
    const value = next.resources[0];
    if (value === undefined || known.includes(value)) break;
    known.push(value);
    const n = await count({ where: `${f} = @v`, parameters: [{ name: '@v', value }] });
    if (n > 0) part.counts[versionKey(value)] = (part.counts[versionKey(value)] ?? 0) + n;
    counted += n;
  }
  // Versions that are not plain values (objects, null), or more than MAX_VERSIONS_PER_RANGE of them.
  if (counted < part.total) part.counts[OTHER_VERSION_KEY] = part.total - counted;
  return part;
}

/**
 * Documents per value of the version field ("(missing)" for documents without it, "(other)" for values that are
 * not strings or numbers), per range with aggregates (GROUP BY is not available on the emulator, and the projection
 * scan this replaced read every document). With `changedSinceTs` (seconds), also the documents whose `_ts` is at or
 * after it.
 */
export async function countByVersion(
  container: Container,
  versionField: string,
  options: { changedSinceTs?: number } = {}
): Promise<{ counts: Record<string, number>; total: number; changedSince: number; ruConsumed: number }> {
  const parts = await perRange(container, 'countByVersion', (feedOptions) =>
    versionsInRange(container, versionField, options.changedSinceTs, feedOptions)
  );
  const counts: Record<string, number> = {};
  let total = 0;
  let changedSince = 0;
  let ruConsumed = 0;
  for (const part of parts) {
    for (const [k, n] of Object.entries(part.counts)) counts[k] = (counts[k] ?? 0) + n;
    total += part.total;
    changedSince += part.changedSince;
    ruConsumed += part.ruConsumed;
  }
  return { counts, total, changedSince, ruConsumed };
}

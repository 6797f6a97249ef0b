/**
 * Where a change feed goes on after its feed range split (or merged): from the point the replaced ranges had reached,
 * never "from now", so no change written between their last page and the split is missed (a change applied twice is
 * harmless: the sync applies the feed in order, the last change wins).
 *
 * A continuation of an EPK-range change feed is @azure/cosmos 4.9's CompositeContinuationToken
 * (client/ChangeFeed/CompositeContinuationToken.js, written by FeedRangeQueue.js `returnSnapshot`):
 * `{ rid, Continuation: [{ minInclusive, maxExclusive, continuationToken }] }`, one entry per EPK range with the
 * etag (log sequence number) to continue after. Given back (ChangeFeedStartFrom.Continuation), the iterator resolves
 * each entry to the physical ranges that overlap it now and reads each from the entry's etag
 * (ChangeFeedForEpkRange.js `fetchContinuationTokenFeedRanges`); a child range resumes from its parent's etag, as the
 * SDK itself does on a 410/1002 (`shouldRetryOnFailure` → `handleSplitOrMerge` enqueues the children with the
 * parent's continuationToken). So a child's continuation is the parent's, clipped to the child's EPK range.
 *
 * Pure and deterministic: workflow code (workflows/copy/catch-up.ts, monitor.ts, rollback/copy.ts).
 */

interface Entry {
  minInclusive: string;
  maxExclusive: string;
  continuationToken: string;
}

interface Composite {
  rid: string;
  Continuation: Entry[];
}

interface EpkRange {
  minInclusive: string;
  maxExclusive: string;
}

/** "FF" is the end of the hash space (as workflows/range-loop.ts childRanges reads it). */
const end = (max: string) => (max.toUpperCase() === 'FF' ? '\uffff' : max);

function composite(continuation: string | undefined): Composite | undefined {
  if (continuation === undefined) return undefined;
  try {
    const parsed = JSON.parse(continuation) as Partial<Composite>;
    if (typeof parsed?.rid !== 'string' || !Array.isArray(parsed.Continuation)) return undefined;
    const ok = parsed.Continuation.every(
      (e) =>
        typeof e?.minInclusive === 'string' &&
        typeof e.maxExclusive === 'string' &&
        typeof e.continuationToken === 'string'
    );
    return ok ? (parsed as Composite) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The continuation for `range` (a split's child, or a merge's union) from the continuations of the ranges it replaces:
 * every entry of theirs that overlaps `range`, clipped to it. Undefined only when none of them had a continuation.
 * A continuation that is not an SDK composite token (another SDK version, a test's fake) is handed on whole: the
 * feed then reads more than `range`, twice at worst, never less.
 */
export function continuationWithin(replaced: (string | undefined)[], range: string): string | undefined {
  const known = replaced.filter((c): c is string => c !== undefined);
  if (known.length === 0) return undefined;
  const tokens = known.map(composite);
  if (tokens.some((t) => t === undefined)) return known[0];
  const { minInclusive: lo, maxExclusive: hi } = JSON.parse(range) as EpkRange;
  const entries: Entry[] = [];
  for (const token of tokens as Composite[]) {
    for (const e of token.Continuation) {
      const min = e.minInclusive > lo ? e.minInclusive : lo;
      const max = end(e.maxExclusive) < end(hi) ? e.maxExclusive : hi;
      if (min < end(max))
        entries.push({ minInclusive: min, maxExclusive: max, continuationToken: e.continuationToken });
    }
  }
  if (entries.length === 0) return known[0];
  entries.sort((a, b) => (a.minInclusive < b.minInclusive ? -1 : a.minInclusive > b.minInclusive ? 1 : 0));
  return JSON.stringify({ rid: (tokens[0] as Composite).rid, Continuation: entries } satisfies Composite);
}

/**
 * The range a split's child (or a merge's union) takes in a change-feed loop: it goes on from where the ranges it
 * replaces had got to, cut to it, so no change made between their last page and the split is missed.
 */
export function feedRangeFrom(feedRange: string, replaced: { continuation?: string }[]) {
  return {
    feedRange,
    done: false,
    continuation: continuationWithin(
      replaced.map((r) => r.continuation),
      feedRange
    ),
  };
}

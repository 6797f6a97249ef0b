/**
 * The container in memory: documents at a version, each in the feed range its effective partition key falls in, and
 * the feed ranges as Cosmos serialises them (`{"minInclusive","maxExclusive"}`, hex bounds, "FF" the end), so the
 * workflow's childRanges (workflows/ranges.ts) finds a split range's children exactly as it does on Azure.
 */
export interface FakeDocument {
  id: string;
  /** Where the document lives in the hash space, 0 … 0xFFFF. */
  epk: number;
  version: number | string | undefined;
  /** How often `up` was applied to it: more than 1 means it was migrated twice. */
  ups: number;
  /** How often it was put back (down or revert). */
  downs: number;
}

interface Bounds {
  min: number;
  max: number;
}

const END = 0x10000;

const hex = (n: number) => (n === 0 ? '' : n >= END ? 'FF' : n.toString(16).toUpperCase().padStart(4, '0'));
export const serialise = (b: Bounds) => JSON.stringify({ minInclusive: hex(b.min), maxExclusive: hex(b.max) });

export class FakeContainer {
  readonly documents: FakeDocument[];
  private bounds: Bounds[];

  /** `perRange[i]` documents in the i-th of `perRange.length` ranges of equal width. */
  constructor(perRange: number[], version: number | string | undefined) {
    const ranges = perRange.length;
    this.bounds = Array.from({ length: ranges }, (_, i) => ({
      min: Math.floor((i * END) / ranges),
      max: Math.floor(((i + 1) * END) / ranges),
    }));
    this.documents = perRange
      .flatMap((count, r) => {
        const { min, max } = this.bounds[r]!;
        return Array.from({ length: count }, (_, i) => ({ epk: min + Math.floor(((i + 0.5) * (max - min)) / count) }));
      })
      .map(({ epk }, i) => ({ id: `d-${String(i).padStart(4, '0')}`, epk, version, ups: 0, downs: 0 }));
  }

  /** The current feed ranges, serialised as listFeedRanges answers them. */
  feedRanges(): string[] {
    return this.bounds.map(serialise);
  }

  /** The documents of a feed range, by id. Throws when the range is no longer a current one (it split or merged). */
  documentsIn(feedRange: string): FakeDocument[] {
    const b = this.bounds.find((x) => serialise(x) === feedRange);
    if (!b) throw new RangeGone(feedRange);
    return this.documents.filter((d) => d.epk >= b.min && d.epk < b.max).sort((x, y) => x.id.localeCompare(y.id));
  }

  isCurrent(feedRange: string): boolean {
    return this.bounds.some((x) => serialise(x) === feedRange);
  }

  /** The range is replaced by `into` children of equal width. */
  split(feedRange: string, into = 2): void {
    const at = this.bounds.findIndex((x) => serialise(x) === feedRange);
    const { min, max } = this.bounds[at]!;
    const children = Array.from({ length: into }, (_, i) => ({
      min: min + Math.floor((i * (max - min)) / into),
      max: min + Math.floor(((i + 1) * (max - min)) / into),
    }));
    this.bounds.splice(at, 1, ...children);
  }

  /** The range and the next one become one range (no current range lies inside either). */
  mergeWithNext(feedRange: string): void {
    const at = this.bounds.findIndex((x) => serialise(x) === feedRange);
    const first = at + 1 < this.bounds.length ? at : at - 1;
    if (first < 0) return;
    const [a, b] = [this.bounds[first]!, this.bounds[first + 1]!];
    this.bounds.splice(first, 2, { min: a.min, max: b.max });
  }

  /** By version, of every document (or of `documents`, those a lagging replica shows). */
  countsByVersion(documents: FakeDocument[] = this.documents): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const d of documents) counts[String(d.version)] = (counts[String(d.version)] ?? 0) + 1;
    return counts;
  }
}

/** The Cosmos "partition gone" of a range that is no longer a physical partition. */
export class RangeGone extends Error {
  constructor(feedRange: string) {
    super(`feed range ${feedRange} is gone (split or merged)`);
  }
}

/**
 * Sampling over every page of a scan, not its first page (which holds the oldest documents only): the restore drill
 * (activities/drill/cosmos.ts) and the copy's verification (activities/copy/verify.ts) draw their samples with it,
 * scanning ids and partition keys only (`sampleKeysSelect`) and point-reading the documents drawn (`sampledKey`).
 */

/**
 * A uniform random sample of `size` items of a stream of unknown length (Algorithm R, Vitter 1985): every item seen has
 * the same chance to be kept, whatever its position. `random` returns [0, 1).
 */
export class Reservoir<T> {
  readonly items: T[] = [];
  seen = 0;
  constructor(
    private readonly size: number,
    private readonly random: () => number = Math.random
  ) {}
  offer(item: T): void {
    this.seen += 1;
    if (this.items.length < this.size) {
      this.items.push(item);
      return;
    }
    const j = Math.floor(this.random() * this.seen);
    if (j < this.size) this.items[j] = item;
  }
}

/** `SELECT c.id, c["a"]["b"] AS k0, …`: a document's id and its partition key values, one alias per path. */
export function sampleKeysSelect(paths: string[], where = ''): string {
  const keys = paths.map(
    (p, i) =>
      `c${p
        .split('/')
        .filter(Boolean)
        .map((k) => `[${JSON.stringify(k)}]`)
        .join('')} AS k${i}`
  );
  return `SELECT ${['c.id', ...keys].join(', ')} FROM c${where ? ` WHERE ${where}` : ''}`;
}

/** The partition key of a row of `sampleKeysSelect`: the value for one path, the values for a hierarchical key. */
export function sampledKey(row: Record<string, unknown>, paths: string[]): unknown {
  const values = paths.map((_, i) => row[`k${i}`]);
  return paths.length === 1 ? values[0] : values;
}

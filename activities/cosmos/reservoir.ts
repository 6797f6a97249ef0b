/**
 * Sampling over every page of a scan, not its first page (which holds the oldest documents only): the restore drill
 * (activities/drill/cosmos.ts) and the copy's verification (activities/copy/verify.ts) draw their samples with it.
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

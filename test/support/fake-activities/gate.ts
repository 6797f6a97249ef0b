/**
 * The pages of every range activity pass through this gate: a test holds them (to catch a run migrating), lets a few
 * through (so an interrupt finds pages written by the attempt it cancels) and lets them all go, whatever the machine's
 * load, instead of racing a slow transform against a fixed sleep.
 */
export class RangeGate {
  private permits = Infinity;
  private waiters = new Set<() => void>();
  /** Pages written (and heartbeated) by every range activity so far. */
  written = 0;

  hold(): void {
    this.permits = 0;
  }

  /** `pages` more pages may pass, then the ranges are held again. */
  allow(pages: number): void {
    this.permits += pages;
    this.wake();
  }

  release(): void {
    this.permits = Infinity;
    this.wake();
  }

  /** Resolves once `pages` pages in all have been written. */
  async writtenAtLeast(pages: number): Promise<void> {
    while (this.written < pages) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  /** Takes a page's permit; an activity cancelled while it waits gives up its place (and takes no permit). */
  async pass(signal: AbortSignal): Promise<void> {
    while (this.permits <= 0) {
      if (signal.aborted) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          this.waiters.delete(done);
          signal.removeEventListener('abort', done);
          resolve();
        };
        this.waiters.add(done);
        signal.addEventListener('abort', done);
      });
    }
    if (signal.aborted) return;
    this.permits -= 1;
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

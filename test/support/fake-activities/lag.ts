/**
 * A replica that lags (Session consistency): the documents of `script.lagging` are hidden from the first `scans` scans
 * of a rollback that read them (a range scan of the revert or of down(), a verification of down()), as a replica that
 * has not applied the application's last writes hides them; countVersions (settled) always counts them.
 */
import type { FakeContainer } from './container';
import type { FakeScript } from './script';

export class Lag {
  /** Scans each document is still hidden from. */
  private readonly unseen: Map<string, number>;
  /** What the scan of each range in progress hides (decided when it starts, kept for its continuations). */
  private readonly inScan = new Map<string, Set<string>>();

  constructor(script: FakeScript) {
    const { ids = [], scans = 1 } = script.lagging ?? {};
    this.unseen = new Map(ids.map((id) => [id, scans]));
  }

  /** The documents a scan of `feedRange` hides; `fresh`: the scan starts now (not a continuation or a retry). */
  hiddenInRange(container: FakeContainer, feedRange: string, fresh: boolean): Set<string> {
    if (fresh && container.isCurrent(feedRange)) {
      this.inScan.set(feedRange, this.take(container.documentsIn(feedRange).map((d) => d.id)));
    }
    return this.inScan.get(feedRange) ?? new Set();
  }

  /** The documents a scan of the whole container (a verification) hides. */
  hiddenInContainer(container: FakeContainer): Set<string> {
    return this.take(container.documents.map((d) => d.id));
  }

  private take(ids: string[]): Set<string> {
    const hidden = new Set<string>();
    for (const id of ids) {
      const left = this.unseen.get(id) ?? 0;
      if (left <= 0) continue;
      hidden.add(id);
      this.unseen.set(id, left - 1);
    }
    return hidden;
  }
}

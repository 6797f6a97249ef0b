/**
 * Index transformation: after an indexing-policy change (a container replace) or a restore, Azure rebuilds the
 * container's index in the background, and a container read with `x-ms-documentdb-populatequotainfo: true` reports
 * the progress in `x-ms-documentdb-collection-index-transformation-progress` (0–100; 100 once done)
 * (https://learn.microsoft.com/azure/cosmos-db/index-policy#tracking-the-progress-of-index-transformation; the SDK
 * sends the header for `container.read({ populateQuotaInfo: true })`, @azure/cosmos
 * dist/commonjs/request/request.js). The stock server rebuilds nothing and reports nothing, so the product's wait for
 * the rebuild (activities/cosmos/index-progress.ts) was never exercised. Here a rebuild takes a time proportional to
 * the container's documents: `msPerDocument` each (LOCAL_INDEX_MS_PER_DOCUMENT; default 0.05 ms: 20,000 documents take
 * a second, enough to be seen in progress without slowing the tests; chaos sets minutes' worth), at least
 * `MIN_REBUILD_MS`. Queries are not made incomplete meanwhile (a known gap: Azure may serve them from the partial
 * index). `LOCAL_COSMOS_UNFIXED=indexprogress` switches it off: no header, as before.
 */
import { fixEnabled } from './fix-flags';

/** The shortest rebuild: a policy change on an empty container is still seen in progress once. */
export const MIN_REBUILD_MS = 200;
export const DEFAULT_MS_PER_DOCUMENT = 0.05;

export const INDEX_PROGRESS_HEADER = 'x-ms-documentdb-collection-index-transformation-progress';
export const POPULATE_QUOTA_HEADER = 'x-ms-documentdb-populatequotainfo';

function msPerDocumentFromEnv(): number {
  const raw = process.env.LOCAL_INDEX_MS_PER_DOCUMENT;
  if (raw === undefined || raw === '') return DEFAULT_MS_PER_DOCUMENT;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    throw new Error(`LOCAL_INDEX_MS_PER_DOCUMENT must be a number of ms ≥ 0, not ${JSON.stringify(raw)}`);
  }
  return value;
}

interface Rebuild {
  startedAt: number;
  durationMs: number;
}

export class IndexTransformations {
  private readonly rebuilds = new Map<string, Rebuild>();
  msPerDocument = msPerDocumentFromEnv();

  private static key(database: string, container: string): string {
    return `${database}\u0000${container}`;
  }

  /** A rebuild of `documents` documents begins now (a new policy, or a restored container). */
  start(database: string, container: string, documents: number, now = Date.now()): void {
    if (!fixEnabled('indexprogress')) return;
    const durationMs = Math.max(MIN_REBUILD_MS, Math.round(documents * this.msPerDocument));
    this.rebuilds.set(IndexTransformations.key(database, container), { startedAt: now, durationMs });
  }

  /** 0–100, whole percent as Azure reports it; 100 when no rebuild runs. */
  progress(database: string, container: string, now = Date.now()): number {
    const key = IndexTransformations.key(database, container);
    const rebuild = this.rebuilds.get(key);
    if (!rebuild) return 100;
    const done = Math.floor(((now - rebuild.startedAt) / rebuild.durationMs) * 100);
    if (done >= 100) {
      this.rebuilds.delete(key);
      return 100;
    }
    return Math.max(0, done);
  }

  forget(database: string, container?: string): void {
    for (const key of [...this.rebuilds.keys()]) {
      const [db, coll] = key.split('\u0000');
      if (db === database && (container === undefined || coll === container)) this.rebuilds.delete(key);
    }
  }

  /** The headers of a container read: the progress only when the client asked for quota information. */
  headersFor(database: string, container: string, request: Record<string, string>): Record<string, string> {
    if (!fixEnabled('indexprogress') || String(request[POPULATE_QUOTA_HEADER]).toLowerCase() !== 'true') return {};
    return { [INDEX_PROGRESS_HEADER]: String(this.progress(database, container)) };
  }
}

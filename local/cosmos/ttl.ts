/**
 * Time to live (https://learn.microsoft.com/azure/cosmos-db/nosql/time-to-live): in a container with `defaultTtl`
 * (-1 or n seconds), an item expires `ttl` seconds (its own, else the container's; -1: never) after its last write
 * (`_ts`). Without `defaultTtl` on the container, item `ttl`s are ignored. The stock server stores both and never
 * expires anything.
 *
 * A sweep every SWEEP_INTERVAL_MS (less often when a sweep is slow: 20× its own duration apart) deletes expired items
 * through the engine, so a TTL delete is in the continuous-backup log (a restore at T sees what T saw) and leaves the
 * change feed, as any delete. Between expiry and the next sweep an expired item is still readable (Azure hides it at
 * once; its own deletion also runs in the background).
 */
import type { Engine } from './engine';
import { partitionKeyOf } from './backup-log';
import { fixEnabled } from './fix-flags';
import { classify } from './routes';
import { documentScope } from './scan';

export const SWEEP_INTERVAL_MS = 250;
const SWEEP_COST_FACTOR = 20;

type Json = Record<string, unknown>;

/** When the item expires (ms since the epoch), or undefined if it does not. */
export function expiresAt(container: Json, doc: Json): number | undefined {
  const defaultTtl = container.defaultTtl;
  if (typeof defaultTtl !== 'number') return undefined;
  const ttl = typeof doc.ttl === 'number' ? doc.ttl : defaultTtl;
  if (ttl <= 0 || typeof doc._ts !== 'number') return undefined;
  return (doc._ts + ttl) * 1000;
}

export class TtlSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private notBefore = 0;

  constructor(private readonly engine: Engine) {}

  start(): void {
    if (!fixEnabled('ttl') || this.timer) return;
    this.timer = setInterval(() => {
      if (this.running || Date.now() < this.notBefore) return;
      this.running = true;
      const started = Date.now();
      this.sweep()
        .catch(() => undefined) // a container deleted while swept: the next sweep sees the new state
        .finally(() => {
          this.running = false;
          // A sweep reads every document of the TTL containers: on big ones, sweep less often (at most ~5 % of a core).
          this.notBefore = Date.now() + (Date.now() - started) * SWEEP_COST_FACTOR;
        });
    }, SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async get(url: string): Promise<Json | undefined> {
    const res = await this.engine.dispatch({ method: 'GET', url, headers: {}, body: '' });
    return res.status === 200 ? (JSON.parse(res.body) as Json) : undefined;
  }

  /** Deletes every expired item of every container with a defaultTtl. */
  async sweep(now = Date.now()): Promise<number> {
    let deleted = 0;
    const dbs = ((await this.get('/dbs'))?.Databases ?? []) as Json[];
    for (const db of dbs) {
      const dbUrl = `/dbs/${encodeURIComponent(String(db.id))}`;
      const colls = ((await this.get(`${dbUrl}/colls`))?.DocumentCollections ?? []) as Json[];
      for (const coll of colls) {
        if (typeof coll.defaultTtl !== 'number') continue;
        const docsUrl = `${dbUrl}/colls/${encodeURIComponent(String(coll.id))}/docs`;
        const docs = ((await this.get(docsUrl))?.Documents ?? []) as Json[];
        for (const doc of docs) {
          const at = expiresAt(coll, doc);
          if (at === undefined || at > now) continue;
          const url = `${docsUrl}/${encodeURIComponent(String(doc.id))}`;
          const headers = { 'x-ms-documentdb-partitionkey': JSON.stringify([partitionKeyOf(coll, doc) ?? {}]) };
          const expiry = { minInclusive: '', maxExclusive: 'FF', ttlExpired: true };
          const { response } = await documentScope.run(expiry, () =>
            this.engine.execute({ method: 'DELETE', url, headers, body: '' }, classify('DELETE', url, headers), {
              log: true,
            })
          );
          if (response.status === 204) deleted++;
        }
      }
    }
    return deleted;
  }
}

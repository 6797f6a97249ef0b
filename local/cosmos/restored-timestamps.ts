/**
 * A restore keeps each document's `_ts`. Azure restores the data as it was stored at the restore point, system
 * properties included: why `restoreWithTtlDisabled` exists, since "items already past their TTL can expire right after
 * the restore" (https://learn.microsoft.com/azure/cosmos-db/restore-in-account-continuous-backup-introduction), which
 * only happens when the restored `_ts` is the old one. The stock server stamps `_ts` with the time of every create
 * (@vercel/cosmosdb-server/lib/account/items.js `create`), so a rebuild through its API would make every restored
 * document look written at the restore, and a drill could not tell a copy of T from a copy of a later state.
 *
 * writeDocuments (admin.ts) runs a restore's creates inside `restoring`, with the `_ts` each document had; the
 * wrapped `create` sets it back on the stored document (the object the server keeps and answers with, so the backup
 * log and the change feed see it too). Outside a restore nothing changes. `LOCAL_COSMOS_UNFIXED=restorets` switches it
 * off.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { fixEnabled } from './fix-flags';
import { serverRequire } from './server-require';

type Json = Record<string, unknown>;

/** The `_ts` of each document being restored, by `restoredKey`. */
const restoring = new AsyncLocalStorage<Map<string, number>>();

/** The key of a document as the server partitions it (items.js `_getPartition`: the first path, else the id). */
function restoredKey(partitionPath: string[], doc: Json): string {
  let value: unknown = doc;
  for (const part of partitionPath) value = value && typeof value === 'object' ? (value as Json)[part] : undefined;
  return `${JSON.stringify(value ?? null)}\u0000${String(doc.id)}`;
}

/** items.js `_getPartitionKeyPath`: the first path split, or ["id"] without one. */
function serverPartitionPath(definition: Json | undefined): string[] {
  const first = (definition?.partitionKey as { paths?: string[] } | undefined)?.paths?.[0];
  if (!first) return ['id'];
  const path = first.slice(1).split('/');
  return path.length === 1 && path[0] === '_partitionKey' ? ['id'] : path;
}

/** Runs `write` with the documents' stored `_ts` kept by every create it makes. */
export function keepingTimestamps<T>(
  definition: Json | undefined,
  documents: Json[],
  write: () => Promise<T>
): Promise<T> {
  if (!fixEnabled('restorets')) return write();
  const path = serverPartitionPath(definition);
  const stamps = new Map<string, number>();
  for (const doc of documents) if (typeof doc._ts === 'number') stamps.set(restoredKey(path, doc), doc._ts);
  return restoring.run(stamps, write);
}

interface ItemsLike {
  _getPartitionKeyPath(): string[];
}

let applied = false;

export function patchRestoredTimestamps(): void {
  if (applied) return;
  applied = true;
  // Documents' own create (scan.ts wraps it to keep the scan order): wrapped again, around that.
  const Documents = serverRequire<{ default: { prototype: Record<string, unknown> } }>(
    '@vercel/cosmosdb-server/lib/account/documents'
  ).default;
  const create = Documents.prototype.create as (this: ItemsLike, data: Json) => Json;
  Documents.prototype.create = function createKeepingTimestamp(this: ItemsLike, data: Json): Json {
    const stored = create.call(this, data);
    const stamps = restoring.getStore();
    const ts = stamps?.get(restoredKey(this._getPartitionKeyPath(), stored));
    if (ts !== undefined) stored._ts = ts;
    return stored;
  };
}

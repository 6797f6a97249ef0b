/**
 * Documents deleted since T0 that an in-place restore to T0 brings back, for the restore's consent (the operator sees
 * what the restore discards and what it resurrects).
 *
 * Counted from the change feed in all-versions-and-deletes mode
 * (https://learn.microsoft.com/azure/cosmos-db/nosql/change-feed-modes#all-versions-and-deletes-change-feed-mode),
 * the only record of a delete Azure keeps: no query sees a deleted document, and comparing ids with a list taken at
 * T0 would mean reading and keeping every id of the container. The mode needs continuous backup, which a restore
 * needs anyway, and starts only "now" or from a continuation, so the snapshot takes its continuation just before T0
 * (`startDeletesFeed`) and the consent reads from there (`countDeletedSince`).
 *
 * A document is counted when it existed at T0 (its first change at or after T0 is not a create) and its last change is
 * a delete: created after T0 and deleted, or deleted and created again, it is not what the restore brings back (the
 * latter is among the writes it discards). `crts` has second resolution and T0 is a whole second after every
 * earlier write (snapshot.ts restorePoint), so `crts >= T0` is exactly "at or after T0".
 */
import { ChangeFeedMode, ChangeFeedStartFrom, StatusCodes, type Container } from '@azure/cosmos';
import { readPartitionKeyPaths } from './transform';
import { heartbeat } from './requests';

interface FeedChange {
  current?: Record<string, unknown>;
  metadata?: { operationType?: string; crts?: number; id?: string; partitionKey?: Record<string, unknown> };
}

function feedOf(container: Container, from: ReturnType<typeof ChangeFeedStartFrom.Now>) {
  return container.items.getChangeFeedIterator<FeedChange>({
    changeFeedStartFrom: from,
    changeFeedMode: ChangeFeedMode.AllVersionsAndDeletes,
  });
}

/**
 * A continuation of the container's all-versions-and-deletes feed at this moment (read until Azure answers 304, so it
 * covers every feed range), or undefined when the account does not offer the mode (no continuous backup: Azure
 * answers 400), in which case deletions since T0 are reported as not known.
 */
export async function startDeletesFeed(container: Container): Promise<string | undefined> {
  const feed = feedOf(container, ChangeFeedStartFrom.Now());
  try {
    for (;;) {
      const page = await feed.readNext();
      if (page.statusCode === StatusCodes.NotModified) return page.continuationToken;
    }
  } catch (err) {
    if ((err as { code?: number }).code === 400) return undefined;
    throw err;
  }
}

/** The id and partition key of a change, as one string. */
function keyOf(change: FeedChange, pkPaths: string[]): string | undefined {
  if (change.current) {
    const doc = change.current;
    const values = pkPaths.map((path) =>
      path
        .slice(1)
        .split('/')
        .reduce<unknown>(
          (v, part) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined),
          doc
        )
    );
    return JSON.stringify([doc.id, values]);
  }
  const { id, partitionKey } = change.metadata ?? {};
  if (id === undefined) return undefined;
  return JSON.stringify([id, Object.values(partitionKey ?? {})]);
}

/**
 * Documents that existed at `sinceTs` (seconds) and are deleted now, from the continuation `startDeletesFeed` took
 * before it. Read to the end of the feed, heartbeating per page; a retry reads again from the continuation. Keeps one
 * entry per document changed since, never a document's contents.
 */
export async function countDeletedSince(
  container: Container,
  continuation: string,
  sinceTs: number
): Promise<{ deleted: number; changed: number }> {
  const pkPaths = await readPartitionKeyPaths(container);
  const feed = feedOf(container, ChangeFeedStartFrom.Continuation(continuation));
  /** Per document changed since: did it exist then (its first change was not a create), is it deleted now. */
  const seen = new Map<string, { existed: boolean; deleted: boolean }>();
  for (;;) {
    const page = await feed.readNext();
    if (page.statusCode === StatusCodes.NotModified) break;
    for (const change of page.result ?? []) {
      const operation = change.metadata?.operationType;
      if ((change.metadata?.crts ?? 0) < sinceTs) continue;
      const key = keyOf(change, pkPaths);
      if (key === undefined) continue;
      const entry = seen.get(key) ?? { existed: operation !== 'create', deleted: false };
      entry.deleted = operation === 'delete';
      seen.set(key, entry);
    }
    heartbeat({ changed: seen.size });
  }
  let deleted = 0;
  for (const entry of seen.values()) if (entry.existed && entry.deleted) deleted += 1;
  return { deleted, changed: seen.size };
}

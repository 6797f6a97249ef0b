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
import { LOW } from './bulk-writer';
import { feedPageCharge, inRequestSpan } from './page-spans';

interface FeedChange {
  current?: Record<string, unknown>;
  metadata?: { operationType?: string; crts?: number; id?: string; partitionKey?: Record<string, unknown> };
}

/** The next page of the feed, in a span with its charge (page-spans.ts), like every Low-priority request of the engine. */
function nextPage(container: Container, feed: ReturnType<typeof feedOf>) {
  return inRequestSpan(
    container,
    'ReadFeed',
    {},
    () => feed.readNext(),
    (page) => ({ charge: feedPageCharge(page), statusCode: page.statusCode, count: page.result?.length ?? 0 })
  );
}

function feedOf(container: Container, from: ReturnType<typeof ChangeFeedStartFrom.Now>) {
  return container.items.getChangeFeedIterator<FeedChange>({
    changeFeedStartFrom: from,
    changeFeedMode: ChangeFeedMode.AllVersionsAndDeletes,
    // Beside the application, which is still up when its consent is asked: Azure throttles Low first
    // (ChangeFeedIteratorOptions.priorityLevel, client/ChangeFeed/ChangeFeedIteratorOptions.d.ts).
    priorityLevel: LOW.priorityLevel,
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
      const page = await nextPage(container, feed);
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
 * before it. Read to the end of the feed, reporting each page to `onPage`; a retry reads again from the continuation.
 * Replaces are passed over (they neither make nor unmake a document that existed at T0, and the migration's own
 * rewrites are all replaces), so the memory is one key per document created or deleted since, never its contents.
 */
export async function countDeletedSince(
  container: Container,
  continuation: string,
  sinceTs: number,
  onPage: (progress: { pages: number; deleted: number }) => void = () => undefined
): Promise<{ deleted: number }> {
  const pkPaths = await readPartitionKeyPaths(container);
  const feed = feedOf(container, ChangeFeedStartFrom.Continuation(continuation));
  /** Created since T0 (whatever happens to them after, the restore does not bring them back). */
  const bornAfter = new Set<string>();
  /** Existed at T0 and deleted by their last create-or-delete: what the restore brings back. */
  const deleted = new Set<string>();
  let pages = 0;
  for (;;) {
    const page = await nextPage(container, feed);
    if (page.statusCode === StatusCodes.NotModified) break;
    for (const change of page.result ?? []) {
      const operation = change.metadata?.operationType;
      if (operation !== 'create' && operation !== 'delete') continue;
      if ((change.metadata?.crts ?? 0) < sinceTs) continue;
      const key = keyOf(change, pkPaths);
      if (key === undefined) continue;
      if (operation === 'delete') {
        if (!bornAfter.has(key)) deleted.add(key);
      } else if (deleted.has(key)) {
        deleted.delete(key); // existed at T0, deleted, created again: among the writes the restore discards
      } else {
        bornAfter.add(key);
      }
    }
    pages += 1;
    onPage({ pages, deleted: deleted.size });
  }
  return { deleted: deleted.size };
}

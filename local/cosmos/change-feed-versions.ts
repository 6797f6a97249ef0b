/**
 * The change feed in all-versions-and-deletes mode (`A-IM: Full-Fidelity Feed`, wire format
 * `x-ms-cosmos-changefeed-wire-format-version: 2021-09-15`, as `@azure/cosmos` 4.9 sends it: request/request.js),
 * from the versions change-feed.ts records: every create, replace (upserts and patches included) and delete after the
 * continuation, in `lsn` order, each as Azure's wire format has it
 * (https://learn.microsoft.com/azure/cosmos-db/nosql/change-feed-modes#all-versions-and-deletes-change-feed-mode):
 * `{"current": <document>, "metadata": {"operationType": "create"|"replace", "lsn", "crts", "previousImageLSN"?}}`, and
 * for a delete `{"metadata": {"operationType": "delete", "lsn", "crts", "previousImageLSN", "timeToLiveExpired",
 * "id", "partitionKey": {"<path>": value}}}`. Only "now" and continuations, as on Azure.
 */
import type { ChangeFeedRequest, Version } from './change-feed';
import { MAX_FEED_ENTRIES_PER_PAGE } from './change-feed';
import { documentEpk, scopeFilter, type DocumentScope } from './scan';

type Doc = Record<string, unknown>;

interface VersionLog {
  versions: Version[];
  last: number;
}

function firstAfter(versions: Version[], after: number): number {
  let lo = 0;
  let hi = versions.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (versions[mid]!.lsn <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** `{"pk": value}` for the container's partition key path (its last segment as the property name). */
function partitionKeyOf(definition: Doc, doc: Doc): Doc {
  const path = ((definition.partitionKey as { paths?: string[] } | undefined)?.paths ?? [])[0];
  if (!path) return {};
  let value: unknown = doc;
  const parts = path.slice(1).split('/');
  for (const part of parts) value = value && typeof value === 'object' ? (value as Doc)[part] : undefined;
  return { [parts[parts.length - 1]!]: value };
}

function wireItem(definition: Doc, version: Version): Doc {
  const metadata: Doc = {
    operationType: version.operationType,
    lsn: version.lsn,
    crts: Math.floor(version.time / 1000),
    ...(version.previousLsn !== undefined ? { previousImageLSN: version.previousLsn } : {}),
  };
  if (version.operationType !== 'delete') return { current: { ...version.doc, _lsn: version.lsn }, metadata };
  return {
    metadata: {
      ...metadata,
      timeToLiveExpired: version.timeToLiveExpired === true,
      id: version.doc.id,
      partitionKey: partitionKeyOf(definition, version.doc),
    },
  };
}

/** One page of all versions and deletes after the continuation, scoped as the request is. */
export function versionsPage(
  log: VersionLog,
  definition: Doc,
  scope: DocumentScope,
  feed: ChangeFeedRequest,
  maxItemCount: number | null | undefined
): Doc[] {
  const after = feed.after === 'now' ? log.last : feed.after;
  const inRange = scopeFilter(scope, definition);
  const limit = maxItemCount && maxItemCount > 0 ? maxItemCount : Infinity;
  const items: Doc[] = [];
  let etag = after;
  let examined = 0;
  let i = firstAfter(log.versions, after);
  for (; i < log.versions.length && items.length < limit && examined < MAX_FEED_ENTRIES_PER_PAGE; i++) {
    const version = log.versions[i]!;
    etag = version.lsn;
    examined++;
    if (inRange && !inRange(version.doc)) continue;
    if (feed.partitionKeyEpk !== undefined && documentEpk(definition, version.doc) !== feed.partitionKeyEpk) continue;
    items.push(wireItem(definition, version));
  }
  if (i >= log.versions.length) etag = Math.max(etag, log.last);
  feed.page = { etag, count: items.length, more: i < log.versions.length };
  return items;
}

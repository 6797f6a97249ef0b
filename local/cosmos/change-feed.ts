/**
 * The change feed in latest-version mode, as Azure serves it to `@azure/cosmos` 4.9
 * (`client/ChangeFeed/ChangeFeedForEpkRange.js`, `ChangeFeedForPartitionKey.js`, `changeFeedUtils.js`
 * `buildFeedOptions`, `request/request.js`): a GET of the documents feed with `A-IM: Incremental feed`, and
 * - `If-None-Match: *` to start from now, `If-None-Match: "<lsn>"` (the etag of the previous page) to continue,
 *   neither to start from the beginning; `If-Modified-Since: <HTTP date>` to start from a time;
 * - `x-ms-documentdb-partitionkeyrangeid` (+ `x-ms-start-epk`/`x-ms-end-epk`) for a feed range, or
 *   `x-ms-documentdb-partitionkey` for one partition key (partition-routing.ts puts either into the DocumentScope);
 * - `x-ms-max-item-count` for the page size.
 *
 * The stock server (@vercel/cosmosdb-server 1.0.1, lib/index.js) answers every `If-None-Match` with 304 and etag "1"
 * and everything else with the whole container. Here every document write (`Items._set`: create, replace, upsert,
 * patch, batch and bulk operations) takes the container's next log sequence number (`_lsn`); a page returns the
 * latest version of each document changed after the continuation, in `_lsn` order, with `_lsn` on each document, and
 * its etag is the `_lsn` to continue after. No change: 304 with the etag. The sequence is per container, so a range's
 * continuation is valid on the ranges it splits into (the SDK carries a parent's token to its children on 410/1002).
 * Deletes are not in this mode (as on Azure): a deleted document is simply absent.
 */
import type { Dispatch, RawRequest, RawResponse } from './dispatch';
import { fixEnabled } from './fix-flags';
import { serverRequire } from './server-require';
import { documentEpk, documentScope, scopeFilter, type DocumentScope } from './scan';
import { versionsPage } from './change-feed-versions';

type Doc = Record<string, unknown>;

/** What a change-feed request asks for; put into the request's DocumentScope by the engine. */
export interface ChangeFeedRequest {
  /** `latest`: `A-IM: Incremental feed`; `all`: `A-IM: Full-Fidelity Feed` (all versions and deletes). */
  mode: 'latest' | 'all';
  /** Continue after this `_lsn`; 'now': from the container's current position; 0: from the beginning. */
  after: number | 'now';
  /** If-Modified-Since, ms: only documents last written at or after it. */
  sinceMs?: number;
  /** The effective partition key of `x-ms-documentdb-partitionkey`: that key's documents only. */
  partitionKeyEpk?: string;
  /**
   * Filled by the read: the page's etag (the `_lsn` to continue after), how many documents it returned, and whether
   * it stopped before the end of the log (a page full, or MAX_FEED_ENTRIES_PER_PAGE examined).
   */
  page?: { etag: number; count: number; more: boolean };
  /** Filled by the read when the request cannot be answered (a 400). */
  error?: string;
}

/** A page examines at most this many log entries; a sparse feed (one key of a big container) pages emptily on. */
export const MAX_FEED_ENTRIES_PER_PAGE = 10_000;

interface FeedLog {
  /** One entry per write, ascending `_lsn`; an entry is stale once its document is written again or deleted. */
  lsns: number[];
  rids: string[];
  times: number[];
  /** The `_lsn` of each live document's latest write. */
  latest: Map<string, number>;
  /** The container's last `_lsn`. */
  last: number;
  stale: number;
  /** All versions and deletes, ascending `lsn`, the last MAX_VERSIONS (change-feed-versions.ts). */
  versions: Version[];
  /**
   * Versions are recorded from the first all-versions-and-deletes request on the container on (that mode starts
   * from now), so containers nobody reads that way keep no history; changes after this `lsn` are all there.
   */
  versionsAfter?: number;
}

/** One change for the all-versions-and-deletes feed: the document as written, or as it was when deleted. */
export interface Version {
  lsn: number;
  time: number;
  operationType: 'create' | 'replace' | 'delete';
  doc: Doc;
  previousLsn?: number;
  timeToLiveExpired?: boolean;
}

/** Versions kept per container (Azure keeps them for the continuous-backup retention period). */
export const MAX_VERSIONS = 100_000;

interface Store {
  _data: Map<string, { read(): Doc }>;
  _parent: { read(): Doc | undefined | null };
  _item(keyPath: string, value: unknown, partition: unknown): { read(): Doc | undefined | null };
}

const logs = new WeakMap<Store, FeedLog>();

function logOf(store: Store): FeedLog {
  let log = logs.get(store);
  if (!log) {
    // Documents written before the patch (none in practice: it is applied at start) count as written at start.
    // The sequence starts at the time in µs: a continuation from before a restart of the stack (whose replay
    // writes every document again) then re-delivers documents instead of skipping writes made after it.
    const rids = [...store._data.keys()];
    const now = Date.now();
    const base = now * 1000;
    log = {
      lsns: rids.map((_, i) => base + i + 1),
      rids,
      times: rids.map(() => now),
      latest: new Map(rids.map((rid, i) => [rid, base + i + 1])),
      last: base + rids.length,
      stale: 0,
      versions: [],
    };
    logs.set(store, log);
  }
  return log;
}

function addVersion(log: FeedLog, version: Version): void {
  if (log.versionsAfter === undefined) return;
  log.versions.push(version);
  if (log.versions.length > MAX_VERSIONS * 1.1) {
    log.versions = log.versions.slice(-MAX_VERSIONS);
    log.versionsAfter = log.versions[0]!.lsn - 1;
  }
}

/** A write: `replaced` is the lsn of the version it replaces (a replace, upsert or patch), else a create. */
function record(store: Store, rid: string, doc: Doc, replaced: number | undefined): void {
  const log = logOf(store);
  if (log.latest.has(rid)) log.stale++;
  compact(log);
  const lsn = ++log.last;
  const time = Date.now();
  log.lsns.push(lsn);
  log.rids.push(rid);
  log.times.push(time);
  log.latest.set(rid, lsn);
  addVersion(log, {
    lsn,
    time,
    operationType: replaced === undefined ? 'create' : 'replace',
    doc,
    ...(replaced ? { previousLsn: replaced } : {}),
  });
}

/** A document was deleted (not as part of a replace): a delete version, with the document as it was. */
function forget(store: Store, rid: string, doc: Doc): void {
  const log = logOf(store);
  const previousLsn = log.latest.get(rid);
  if (log.latest.delete(rid)) log.stale++;
  const lsn = ++log.last;
  addVersion(log, {
    lsn,
    time: Date.now(),
    operationType: 'delete',
    doc,
    ...(previousLsn !== undefined ? { previousLsn } : {}),
    ...(documentScope.getStore()?.ttlExpired ? { timeToLiveExpired: true } : {}),
  });
}

/** Drops entries superseded by a later write or whose document is gone, once they are most of the log. */
function compact(log: FeedLog): void {
  if (log.stale < 1000 || log.stale < log.lsns.length / 2) return;
  const keep = log.lsns.map((lsn, i) => log.latest.get(log.rids[i]!) === lsn);
  log.lsns = log.lsns.filter((_, i) => keep[i]);
  log.rids = log.rids.filter((_, i) => keep[i]);
  log.times = log.times.filter((_, i) => keep[i]);
  log.stale = 0;
}

function firstAfter(lsns: number[], after: number): number {
  let lo = 0;
  let hi = lsns.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (lsns[mid]! <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** One page of the feed: documents with `_lsn`, and the etag to continue after. */
function feedPage(
  store: Store,
  scope: DocumentScope,
  feed: ChangeFeedRequest,
  maxItemCount: number | null | undefined
): Doc[] {
  const log = logOf(store);
  const definition = store._parent.read() ?? {};
  if (feed.mode === 'all') log.versionsAfter ??= log.last;
  if (feed.after === 'now') {
    feed.page = { etag: log.last, count: 0, more: false };
    return [];
  }
  if (feed.mode === 'all') {
    if (feed.after < (log.versionsAfter ?? log.last)) {
      feed.error =
        'The continuation is older than the versions the emulator kept (from the first all versions and deletes request on the container in this process, the last 100 000): start again from now.';
      return [];
    }
    return versionsPage(log, definition, scope, feed, maxItemCount);
  }
  const inRange = scopeFilter(scope, definition);
  const limit = maxItemCount && maxItemCount > 0 ? maxItemCount : Infinity;
  const docs: Doc[] = [];
  let etag = feed.after;
  let examined = 0;
  let i = firstAfter(log.lsns, feed.after);
  for (; i < log.lsns.length && docs.length < limit && examined < MAX_FEED_ENTRIES_PER_PAGE; i++) {
    const lsn = log.lsns[i]!;
    const rid = log.rids[i]!;
    etag = lsn;
    examined++;
    if (log.latest.get(rid) !== lsn) continue;
    const item = store._data.get(rid);
    if (!item) continue;
    if (feed.sinceMs !== undefined && log.times[i]! < feed.sinceMs) continue;
    const doc = item.read();
    if (inRange && !inRange(doc)) continue;
    if (feed.partitionKeyEpk !== undefined && documentEpk(definition, doc) !== feed.partitionKeyEpk) continue;
    docs.push({ ...doc, _lsn: lsn });
  }
  // Everything examined: continue after the container's last write, not just this range's.
  if (i >= log.lsns.length) etag = Math.max(etag, log.last);
  feed.page = { etag, count: docs.length, more: i < log.lsns.length };
  return docs;
}

const CHANGE_FEED_HEADERS = ['a-im', 'if-none-match', 'if-modified-since'];

/** Whether a request is a latest-version change-feed read (and the fix is on). */
export function isChangeFeedRequest(method: string, headers: Record<string, string>): boolean {
  const aim = (headers['a-im'] ?? '').toLowerCase();
  return (
    fixEnabled('changefeed') &&
    method.toUpperCase() === 'GET' &&
    (aim === 'incremental feed' || aim === 'full-fidelity feed')
  );
}

/** Parses the request's change-feed headers; a string is a 400 message. */
export function parseChangeFeedRequest(headers: Record<string, string>): ChangeFeedRequest | string {
  const ifNoneMatch = headers['if-none-match']?.trim();
  let after: ChangeFeedRequest['after'] = 0;
  if (ifNoneMatch === '*') after = 'now';
  else if (ifNoneMatch !== undefined && ifNoneMatch !== '') {
    const lsn = Number(ifNoneMatch.replace(/^W\//, '').replace(/^"|"$/g, ''));
    if (!Number.isSafeInteger(lsn) || lsn < 0) return `The change feed continuation ${ifNoneMatch} is not valid.`;
    after = lsn;
  }
  const mode = (headers['a-im'] ?? '').toLowerCase() === 'full-fidelity feed' ? 'all' : 'latest';
  if (
    mode === 'all' &&
    (ifNoneMatch === undefined || ifNoneMatch === '' || headers['if-modified-since'] !== undefined)
  ) {
    return 'The all versions and deletes change feed starts from now or from a continuation only.';
  }
  const request: ChangeFeedRequest = { mode, after };
  const since = headers['if-modified-since'];
  if (since !== undefined) {
    const ms = Date.parse(since);
    if (Number.isNaN(ms)) return `If-Modified-Since ${since} is not an HTTP date.`;
    // From a time: changes at or after it (ChangeFeedStartFrom.Time); a continuation still wins over it.
    if (after !== 'now') request.sinceMs = ms;
  }
  return request;
}

/**
 * Runs a change-feed read through the stock server's read feed (without the headers it mishandles: it would answer
 * 304 with etag "1"), then answers as Azure: etag = the `_lsn` to continue after, 304 with no body when nothing
 * changed.
 */
export async function serveChangeFeed(
  dispatch: Dispatch,
  request: RawRequest,
  feed: ChangeFeedRequest
): Promise<RawResponse> {
  const headers = { ...request.headers };
  for (const name of CHANGE_FEED_HEADERS) delete headers[name];
  const response = await dispatch({ ...request, headers });
  if (feed.error !== undefined) {
    return {
      status: 400,
      headers: { 'content-type': 'application/json', 'x-ms-request-charge': '1' },
      body: JSON.stringify({ code: 'BadRequest', message: feed.error }),
    };
  }
  const page = feed.page;
  if (response.status !== 200 || !page) return response;
  response.headers.etag = `"${page.etag}"`;
  delete response.headers['x-ms-continuation'];
  if (page.count === 0 && !page.more) {
    return { status: 304, headers: { ...response.headers, 'x-ms-item-count': '0' }, body: '' };
  }
  return response;
}

let patched = false;

/**
 * Gives every document write an `_lsn` and serves the read feed as a change-feed page when the request's scope
 * carries a ChangeFeedRequest. Apply after scan.ts's patch (it wraps the read that one installs).
 */
export function patchChangeFeed(): void {
  if (patched || !fixEnabled('changefeed')) return;
  patched = true;
  const Documents = serverRequire<{ default: { prototype: Record<string, unknown> } }>(
    '@vercel/cosmosdb-server/lib/account/documents'
  ).default;
  const proto = Documents.prototype;
  const baseSet = proto._set as (this: Store, data: Doc) => Doc;
  const baseDelete = proto.delete as (this: Store, id: string, partition: unknown) => void;
  const baseRead = proto.read as (this: Store, page?: { maxItemCount?: number | null }) => unknown;
  const baseReplace = proto.replace as (this: Store, data: Doc, original: Doc) => Doc;
  // Items.replace (lib/account/items.js) deletes the old document, then sets the new one under the same rid: a
  // replace, not a delete and a create. The lsn of the version it replaces, while one runs.
  const replacing = new WeakMap<Store, number | undefined>();
  proto.replace = function replace(this: Store, data: Doc, original: Doc): Doc {
    const rid = original?._rid;
    replacing.set(this, typeof rid === 'string' ? (logOf(this).latest.get(rid) ?? 0) : 0);
    try {
      return baseReplace.call(this, data, original);
    } finally {
      replacing.delete(this);
    }
  };
  proto._set = function set(this: Store, data: Doc): Doc {
    const result = baseSet.call(this, data);
    record(this, String(data._rid), data, replacing.get(this));
    return result;
  };
  proto.delete = function remove(this: Store, id: string, partition: unknown): void {
    const doc = this._item('/id', id, partition).read();
    baseDelete.call(this, id, partition);
    if (!doc || typeof doc._rid !== 'string') return;
    if (replacing.has(this)) {
      const log = logOf(this);
      if (log.latest.delete(doc._rid)) log.stale++;
    } else forget(this, doc._rid, doc);
  };
  proto.read = function read(this: Store, page: { maxItemCount?: number | null } = {}) {
    const scope = documentScope.getStore();
    if (!scope?.changeFeed || !this._parent.read()) return baseRead.call(this, page);
    return { result: feedPage(this, scope, scope.changeFeed, page.maxItemCount), continuation: null };
  };
}

/**
 * Document queries and read feeds scoped to a partition key range, paged by a cursor.
 *
 * The stock server (@vercel/cosmosdb-server 1.0.1, lib/account/items.js `query`/`read`) runs every page over the
 * whole container: it filters and sorts all documents and then skips to the continuation, so a page costs O(N) and
 * a full scan O(N²). Here a request from a client runs inside a `DocumentScope` (AsyncLocalStorage, set by front.ts
 * around the engine): only documents whose effective partition key lies in the scope's range are visible, and a
 * query made of filters and projections only (query-plan.ts `streamable`) resumes from a cursor: documents are kept
 * in creation order (a replace keeps its place), each range's own order kept in step with the container's (scopeOrder),
 * the continuation is the position of the last document examined, and a page examines at most `maxItemCount`
 * matches' worth of the range's documents, at most MAX_EXAMINED_PER_PAGE, from there. Other queries (ORDER BY,
 * aggregates, TOP, JOIN) run as the stock server runs them, over the range's documents (and only those).
 *
 * Requests without a scope (the admin operations, the replay on start) see the stock behaviour.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ChangeFeedRequest } from './change-feed';
import { effectivePartitionKey, epkInRange, MAX_EPK, MIN_EPK, versionOf } from './epk';
import { fixEnabled } from './fix-flags';
import { partialAggregateDocument, queryShape, type AggregateKind } from './query-plan';
import { withoutRidOrder } from './rid-order';
import { serverRequire } from './server-require';
import { knownDocument, retainedForReplicas, sessionView } from './session-consistency';

export interface DocumentScope {
  /** The partition key range, as EPK strings ("" and "FF" for the whole container). */
  minInclusive: string;
  maxExclusive: string;
  /** x-ms-start-epk / x-ms-end-epk: a narrower EPK range inside it (the SDK sends them after a merge). */
  startEpk?: string;
  endEpk?: string;
  /** The SDK's fan-out of an aggregate plan: answer the partial aggregate (query-plan.ts). */
  partialAggregate?: AggregateKind;
  /** Only this partition key's documents (a stored procedure runs within one partition key: scripts.ts). */
  partitionKeyEpk?: string;
  /** Deletes in this scope are TTL expiries (ttl.ts), for the all-versions-and-deletes feed. */
  ttlExpired?: boolean;
  /** A change-feed read (change-feed.ts), set by the engine. */
  changeFeed?: ChangeFeedRequest;
  /**
   * A short page (fault rule `shortPageProbability`): a page paged by the cursor examines only this share (0 ≤ share
   * < 1) of what it would, so it comes back short or empty, with a continuation while documents remain.
   */
  shortPage?: number;
  /** Filled by the query: documents examined (index-metrics.ts charges a scan per document) and the container definition. */
  examined?: { documents: number; definition?: Doc };
}

export const documentScope = new AsyncLocalStorage<DocumentScope>();

/** A page examines at most this many documents; a sparse filter returns a short page with a continuation. */
export const MAX_EXAMINED_PER_PAGE = 10_000;
/**
 * Azure's maximum response size: a query page holds at most 4 MB of results, then ends with a continuation
 * (https://learn.microsoft.com/azure/cosmos-db/concepts-limits, "Per-request limits"). `LOCAL_COSMOS_UNFIXED=limits`
 * lifts it with the other limits.
 */
export const MAX_PAGE_BYTES = 4 * 1024 * 1024;

const bytesOf = (rows: unknown[]) =>
  rows.reduce<number>((sum, row) => sum + Buffer.byteLength(JSON.stringify(row) ?? ''), 0);

type Doc = Record<string, unknown>;

interface QueryResult {
  result: unknown[];
  continuation: unknown;
}

interface CompiledQuery {
  exec(docs: Doc[], options: Record<string, unknown>): QueryResult;
}

interface DocumentStore {
  _data: Map<string, { read(): Doc }>;
  _parent: { read(): Doc | undefined | null };
  _userDefinedFunctions(): unknown;
  _getQuery(sql: string): CompiledQuery;
  /** Creation order: rids and their sequence numbers (ascending). Deleted rids stay until compaction. */
  _order?: { rids: string[]; seqs: number[]; next: number; stale: number };
}

interface PageOptions {
  maxItemCount?: number | null;
  continuation?: unknown;
}

interface QueryParams {
  query: string;
  parameters?: unknown[];
}

const epkCache = new WeakMap<Doc, string>();
/** EPKs by partition key value (documents share values; hashing v1 is not cheap). */
const epkByValue = new Map<string, string>();

function partitionKeyValue(definition: Doc, doc: Doc): unknown {
  const paths = (definition.partitionKey as { paths?: string[] } | undefined)?.paths ?? [];
  const first = paths[0];
  if (!first) return undefined;
  let value: unknown = doc;
  for (const part of first.slice(1).split('/')) {
    value = value && typeof value === 'object' ? (value as Doc)[part] : undefined;
  }
  return value;
}

/** A document's EPK under the container's definition, as the SDK computes it for the document's partition key. */
export function documentEpk(definition: Doc, doc: Doc): string {
  let epk = epkCache.get(doc);
  if (epk === undefined) {
    const value = partitionKeyValue(definition, doc);
    const version = versionOf(definition);
    const valueKey = `${version}${typeof value}:${JSON.stringify(value) ?? ''}`;
    epk = epkByValue.get(valueKey);
    if (epk === undefined) {
      epk = effectivePartitionKey([value], version);
      if (epkByValue.size >= 100_000) epkByValue.clear();
      epkByValue.set(valueKey, epk);
    }
    epkCache.set(doc, epk);
  }
  return epk;
}

export function scopeFilter(scope: DocumentScope, definition: Doc): ((doc: Doc) => boolean) | undefined {
  const whole = scope.minInclusive === MIN_EPK && scope.maxExclusive === MAX_EPK;
  if (whole && scope.startEpk === undefined && scope.endEpk === undefined && scope.partitionKeyEpk === undefined) {
    return undefined;
  }
  return (doc) => {
    const epk = documentEpk(definition, doc);
    if (scope.partitionKeyEpk !== undefined && epk !== scope.partitionKeyEpk) return false;
    if (!epkInRange(epk, scope.minInclusive, scope.maxExclusive)) return false;
    if (scope.startEpk !== undefined && epk < scope.startEpk) return false;
    if (scope.endEpk !== undefined && scope.endEpk !== MAX_EPK && epk >= scope.endEpk) return false;
    return true;
  };
}

function order(store: DocumentStore): NonNullable<DocumentStore['_order']> {
  if (!store._order) {
    const rids = [...store._data.keys()];
    store._order = { rids, seqs: rids.map((_, i) => i + 1), next: rids.length + 1, stale: 0 };
  }
  return store._order;
}

function compact(store: DocumentStore): void {
  const o = order(store);
  if (o.stale < 1000 || o.stale < o.rids.length / 2) return;
  const rids: string[] = [];
  const seqs: number[] = [];
  o.rids.forEach((rid, i) => {
    // A document deleted within the replica lag stays in order: a lagging read still sees it (session-consistency.ts).
    if (store._data.has(rid) || retainedForReplicas(store, rid)) {
      rids.push(rid);
      seqs.push(o.seqs[i]!);
    }
  });
  // A replace is counted as a delete too (it deletes, then sets the same rid): when nothing was really deleted, the
  // order stays the same object, so the ranges' orders built from it stay valid instead of being rebuilt.
  if (rids.length === o.rids.length) {
    o.stale = 0;
    return;
  }
  store._order = { rids, seqs, next: o.next, stale: 0 };
}

/**
 * The creation order of one scope's documents (a partition key range, or a narrower EPK range inside it), kept in
 * step with the container's order: entries created since `syncedSeq` are added on the next use. A range-scoped page
 * then examines only its own range's documents, so its cost does not grow with the number of ranges, and an
 * aggregate over a range visits that range only. Deleted entries stay (skipped, as in the container's order) until
 * the container's order is compacted, which drops every scope's order to be rebuilt on its next use.
 */
interface ScopeOrder {
  rids: string[];
  seqs: number[];
  syncedSeq: number;
  /** The container's order this was built from (a compaction replaces it). */
  of: NonNullable<DocumentStore['_order']>;
}

/** Scope orders by store and scope; a handful per container (its ranges, and children after a split). */
const scopeOrders = new WeakMap<DocumentStore, Map<string, ScopeOrder>>();
const MAX_SCOPES_PER_STORE = 64;

function scopeOrder(store: DocumentStore, scope: DocumentScope, accept: (doc: Doc) => boolean): ScopeOrder {
  const o = order(store);
  let byScope = scopeOrders.get(store);
  if (!byScope) scopeOrders.set(store, (byScope = new Map<string, ScopeOrder>()));
  const key = `${scope.minInclusive}|${scope.maxExclusive}|${scope.startEpk ?? ''}|${scope.endEpk ?? ''}|${scope.partitionKeyEpk ?? ''}`;
  let s = byScope.get(key);
  if (!s || s.of !== o) {
    if (byScope.size >= MAX_SCOPES_PER_STORE) byScope.clear();
    s = { rids: [], seqs: [], syncedSeq: 0, of: o };
    byScope.set(key, s);
  }
  const last = o.seqs.length > 0 ? o.seqs[o.seqs.length - 1]! : 0;
  if (last > s.syncedSeq) {
    for (let i = firstAfter(o.seqs, s.syncedSeq); i < o.rids.length; i++) {
      // A document deleted before it was ever seen here is not in scope (unless a lagging replica may still see
      // it); a replace keeps its rid and partition key.
      const doc = knownDocument(store, o.rids[i]!);
      if (doc && accept(doc)) {
        s.rids.push(o.rids[i]!);
        s.seqs.push(o.seqs[i]!);
      }
    }
    s.syncedSeq = last;
  }
  return s;
}

/** Index of the first entry with seq > after. */
function firstAfter(seqs: number[], after: number): number {
  let lo = 0;
  let hi = seqs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (seqs[mid]! <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface Cursor {
  cursor: number;
}

const isCursor = (c: unknown): c is Cursor => !!c && typeof c === 'object' && typeof (c as Cursor).cursor === 'number';

/** One page from a cursor: documents in creation order, `run` applied to chunks of at most the missing count. */
function streamPage(
  view: (rid: string) => Doc | undefined,
  o: { rids: string[]; seqs: number[] },
  run: (docs: Doc[]) => unknown[],
  maxItemCount: number | null | undefined,
  continuation: Cursor | null,
  counted?: { documents: number },
  shortPage?: number
): QueryResult {
  const limit = maxItemCount && maxItemCount > 0 ? maxItemCount : Infinity;
  let i = continuation ? firstAfter(o.seqs, continuation.cursor) : 0;
  let budget = limit === Infinity ? Infinity : MAX_EXAMINED_PER_PAGE;
  // A short page examines a share of what it could: of its page size, or of what is left when it has none.
  if (shortPage !== undefined) budget = Math.floor(shortPage * Math.min(limit, o.rids.length - i));
  let examined = 0;
  let lastSeq = continuation?.cursor ?? 0;
  const result: unknown[] = [];
  const maxBytes = fixEnabled('limits') ? MAX_PAGE_BYTES : Infinity;
  let bytes = 0;
  let full = false;
  while (i < o.rids.length && result.length < limit && examined < budget && !full) {
    const before = { i, lastSeq, examined, counted: counted?.documents ?? 0 };
    const chunk: Doc[] = [];
    const want = limit - result.length;
    while (i < o.rids.length && chunk.length < want && examined < budget) {
      const item = view(o.rids[i]!);
      lastSeq = o.seqs[i]!;
      i++;
      examined++;
      if (!item) continue;
      chunk.push(item);
      if (counted) counted.documents++;
    }
    if (chunk.length === 0) continue;
    const rows = run(chunk);
    const size = bytesOf(rows);
    if (bytes + size <= maxBytes) {
      result.push(...rows);
      bytes += size;
      continue;
    }
    // The chunk would take the page over 4 MB: through it again one document at a time, up to the last whose rows
    // fit, so the continuation points right after it (a page holds at least one row, as on Azure).
    ({ i, lastSeq, examined } = before);
    if (counted) counted.documents = before.counted;
    while (i < o.rids.length && result.length < limit && examined < budget) {
      const item = view(o.rids[i]!);
      const one = item ? run([item]) : [];
      const oneSize = bytesOf(one);
      if (result.length > 0 && bytes + oneSize > maxBytes) {
        full = true;
        break;
      }
      lastSeq = o.seqs[i]!;
      i++;
      examined++;
      if (item && counted) counted.documents++;
      result.push(...one);
      bytes += oneSize;
    }
  }
  return { result, continuation: i < o.rids.length ? { cursor: lastSeq } : null };
}

let patched = false;

export function patchDocumentScans(): void {
  if (patched) return;
  patched = true;
  const Documents = serverRequire<{ default: { prototype: Record<string, unknown> } }>(
    '@vercel/cosmosdb-server/lib/account/documents'
  ).default;
  const proto = Documents.prototype;
  const baseCreate = proto.create as (this: DocumentStore, data: Doc) => Doc;
  const baseDelete = proto.delete as (this: DocumentStore, id: string, partition: unknown) => void;
  const baseQuery = proto.query as (this: DocumentStore, params: QueryParams, page: PageOptions) => QueryResult | null;
  const baseRead = proto.read as (this: DocumentStore, page?: PageOptions) => QueryResult | null;

  proto.create = function create(this: DocumentStore, data: Doc): Doc {
    const o = order(this);
    const created = baseCreate.call(this, data);
    o.rids.push(String(created._rid));
    o.seqs.push(o.next++);
    return created;
  };
  proto.delete = function remove(this: DocumentStore, id: string, partition: unknown): void {
    baseDelete.call(this, id, partition);
    // A replace is a delete then a set of the same rid: the rid keeps its place. Compaction drops only absent rids.
    order(this).stale++;
  };

  const scoped = function (
    this: DocumentStore,
    scope: DocumentScope,
    params: QueryParams,
    page: PageOptions
  ): QueryResult | null {
    const definition = this._parent.read();
    if (!definition) return null;
    compact(this);
    const accept = scopeFilter(scope, definition);
    // The scope's documents in creation order: the container's own order, or the range's (kept in step with it).
    const inScope = accept ? scopeOrder(this, scope, accept) : order(this);
    const options = { parameters: params.parameters, udf: this._userDefinedFunctions() };
    const q = this._getQuery(params.query);
    const counted = { documents: 0, definition };
    scope.examined = counted;
    // What this client may see: current data, or a lagging replica's (session-consistency.ts).
    const view = sessionView(this);
    const all = () => {
      const docs: Doc[] = [];
      for (const rid of inScope.rids) {
        const doc = view(rid);
        if (doc) docs.push(doc);
      }
      counted.documents += docs.length;
      return docs;
    };
    try {
      if (scope.partialAggregate) {
        const kind = scope.partialAggregate;
        const docs = all();
        const run = (sql: string) => withoutRidOrder(() => this._getQuery(sql).exec(docs, options).result);
        return { result: [partialAggregateDocument(kind, params.query, run)], continuation: null };
      }
      const shape = queryShape(params.query);
      // A whole-range aggregate (a count sent to one range): its value does not depend on the documents' order.
      if (shape?.aggregate && !shape.orderBy && shape.top === undefined && !page.continuation) {
        const docs = all();
        return withoutRidOrder(() => q.exec(docs, { ...options, maxItemCount: page.maxItemCount }));
      }
      const continuation = page.continuation ?? null;
      if (shape?.streamable && (continuation === null || isCursor(continuation)) && fixEnabled('cursor')) {
        return streamPage(
          view,
          inScope,
          (docs) => q.exec(docs, options).result,
          page.maxItemCount,
          continuation,
          counted,
          scope.shortPage
        );
      }
      return q.exec(all(), { ...options, maxItemCount: page.maxItemCount, continuation: page.continuation });
    } catch (err) {
      (err as { badRequest?: boolean }).badRequest = true;
      throw err;
    }
  };

  proto.query = function query(this: DocumentStore, params: QueryParams, page: PageOptions): QueryResult | null {
    const scope = documentScope.getStore();
    return scope ? scoped.call(this, scope, params, page) : baseQuery.call(this, params, page);
  };
  proto.read = function read(this: DocumentStore, page: PageOptions = {}): QueryResult | null {
    const scope = documentScope.getStore();
    return scope ? scoped.call(this, scope, { query: 'SELECT * FROM c' }, page) : baseRead.call(this, page);
  };
}

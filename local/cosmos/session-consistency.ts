/**
 * Session consistency, Azure's default (https://learn.microsoft.com/azure/cosmos-db/consistency-levels, "Session
 * consistency"): writes go to the primary, reads may be served by a replica that has not applied the latest writes.
 * A read that carries the session token of a write sees that write (and everything before it); a read without a
 * sufficient token may see the replica's older state, which is always a consistent prefix of the writes.
 *
 * Model: every document container has a log sequence number (LSN) that each write raises. While the replica lag is
 * above 0, each write keeps the document's previous version (by `_rid`) for the lag window. A client read or query
 * (not a write: preconditions, 409 and 412 are evaluated on current data) sees the state at a cut LSN: the larger of
 * the LSN in its `x-ms-session-token` and the last LSN written at least `lagMs` ago. A document changed after the cut
 * is seen as it was before its first such change: absent if created later, present if deleted later, older if
 * replaced later. Every document response carries `x-ms-session-token: <range>:-1#<lsn>` and the container's `_rid`
 * in `x-ms-content-path`, which @azure/cosmos 4.9 needs to keep the token (session/sessionContainer.js `set`).
 *
 * Point reads (the stock server's `collection.document`), queries and read feeds (scan.ts) see the lagging state; the
 * change feed, the admin operations and the replay on start see current data. The LSN is the container's, not one
 * per partition key range as on Azure: a token from any range covers writes to every range (kinder across ranges).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { serverRequire } from './server-require';

type Doc = Record<string, unknown>;

/** `LOCAL_COSMOS_SESSION_LAG_MS`: how far (ms) a replica read without the session token may lag; default 0. */
export const SESSION_LAG_ENV = 'LOCAL_COSMOS_SESSION_LAG_MS';

export function envSessionLag(env: NodeJS.ProcessEnv = process.env): number {
  const raw = (env[SESSION_LAG_ENV] ?? '').trim();
  if (raw === '') return 0;
  const ms = Number(raw);
  if (!Number.isFinite(ms) || ms < 0) {
    throw new Error(`${SESSION_LAG_ENV} must be a number of milliseconds ≥ 0, got "${env[SESSION_LAG_ENV]}"`);
  }
  return ms;
}

/** The account's replica lag (one per emulator; changed at run time by `PUT /_local/session`). */
export class SessionReplicas {
  constructor(public lagMs: number) {}
}

/** A change to one document: its LSN, when it was applied, and the version it replaced (undefined: none). */
interface Change {
  rid: string;
  lsn: number;
  at: number;
  before: Doc | undefined;
}

/** One container's LSN and the changes kept for the lag window, in LSN order overall and per document. */
interface History {
  lsn: number;
  log: Change[];
  byRid: Map<string, Change[]>;
}

interface Store {
  _data: Map<string, { read(): Doc | undefined }>;
  _parent: { read(): Doc | undefined | null };
}

/** What one client request may see, and what its answer reports (set by front.ts around the engine). */
export interface SessionRequest {
  replicas: SessionReplicas;
  /** Reads and queries only: the LSN the client's session token asks for (undefined: no token). */
  read?: { tokenLsn: number | undefined; now: number };
  /** The container the request touched: its `_rid` and the LSN its answer reports. */
  answered?: { ownerRid: string; lsn: number };
}

const requestScope = new AsyncLocalStorage<SessionRequest>();
const histories = new WeakMap<Store, History>();

function historyOf(store: Store): History {
  let h = histories.get(store);
  if (!h) histories.set(store, (h = { lsn: 0, log: [], byRid: new Map() }));
  return h;
}

function answer(store: Store, request: SessionRequest, lsn: number): void {
  const rid = store._parent.read()?._rid;
  if (typeof rid === 'string') request.answered = { ownerRid: rid, lsn };
}

/** A write changed `rid` (whose previous version was `before`): raise the LSN, keep the version for the window. */
function recordWrite(store: Store, rid: string, before: Doc | undefined): void {
  const h = historyOf(store);
  h.lsn++;
  const request = requestScope.getStore();
  if (request) answer(store, request, h.lsn);
  const lagMs = request?.replicas.lagMs ?? 0;
  const now = Date.now();
  if (lagMs > 0) {
    const change: Change = { rid, lsn: h.lsn, at: now, before };
    h.log.push(change);
    const forRid = h.byRid.get(rid);
    if (forRid) forRid.push(change);
    else h.byRid.set(rid, [change]);
  }
  // A write outside a client request (admin, TTL sweep, replay) keeps the window as the last client request left it.
  if (request) prune(h, now - lagMs);
}

/** Forget changes no replica can lag behind any more (applied before `horizon`). */
function prune(h: History, horizon: number): void {
  let dropped = 0;
  while (dropped < h.log.length && h.log[dropped]!.at < horizon) {
    const change = h.log[dropped]!;
    const forRid = h.byRid.get(change.rid);
    forRid?.shift();
    if (forRid?.length === 0) h.byRid.delete(change.rid);
    dropped++;
  }
  if (dropped > 0) h.log.splice(0, dropped);
}

/** The LSN a lagging replica has applied at `now`: the last change at least `lagMs` old. */
function replicaLsn(h: History, now: number, lagMs: number): number {
  const horizon = now - lagMs;
  let lo = 0;
  let hi = h.log.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (h.log[mid]!.at <= horizon) lo = mid + 1;
    else hi = mid;
  }
  // The first change the replica has not applied; everything before it was.
  const first = h.log[lo];
  return first === undefined ? h.lsn : first.lsn - 1;
}

/**
 * How a client read sees `store`: a function from `_rid` to the document as visible (undefined: absent). Outside
 * a client read (admin operations, replay, writes), or with no lag, the current documents.
 */
export function sessionView(store: Store): (rid: string) => Doc | undefined {
  const current = (rid: string) => store._data.get(rid)?.read();
  const request = requestScope.getStore();
  const h = historyOf(store);
  if (!request?.read) {
    if (request) answer(store, request, h.lsn);
    return current;
  }
  const { tokenLsn, now } = request.read;
  const cut = Math.max(tokenLsn ?? -1, replicaLsn(h, now, request.replicas.lagMs));
  answer(store, request, cut);
  if (cut >= h.lsn) return current;
  return (rid) => {
    const later = h.byRid.get(rid)?.find((c) => c.lsn > cut);
    return later ? later.before : current(rid);
  };
}

/** The document's last version still known here (current, or kept for the window after a delete). */
export function knownDocument(store: Store, rid: string): Doc | undefined {
  const current = store._data.get(rid)?.read();
  if (current) return current;
  const forRid = histories.get(store)?.byRid.get(rid);
  return forRid?.[forRid.length - 1]?.before;
}

/** Whether a lagging replica may still see `rid` (it was deleted within the window): scan.ts keeps it in order. */
export function retainedForReplicas(store: Store, rid: string): boolean {
  return (histories.get(store)?.byRid.get(rid)?.length ?? 0) > 0;
}

/** Runs one client request with what it may see (front.ts). */
export function runSessionRequest<T>(request: SessionRequest, fn: () => Promise<T>): Promise<T> {
  return requestScope.run(request, fn);
}

/**
 * The highest LSN in a request's `x-ms-session-token` (`range:version#globalLsn[#region=lsn...]`, comma-separated
 * per range, as session/VectorSessionToken.js writes it), or undefined without one. See the module comment: the LSN
 * is the container's, so the highest of the ranges' tokens is the session's.
 */
export function tokenLsn(header: string | undefined): number | undefined {
  if (!header) return undefined;
  let max: number | undefined;
  for (const part of header.split(',')) {
    const token = part.split(':')[1];
    const lsn = Number(token?.split('#')[1]);
    if (Number.isFinite(lsn)) max = Math.max(max ?? -1, lsn);
  }
  return max;
}

/** The session headers of a document answer: the token per range the request touched, and the owner's `_rid`. */
export function sessionHeaders(request: SessionRequest, ranges: string[]): Record<string, string> {
  if (!request.answered || ranges.length === 0) return {};
  const { ownerRid, lsn } = request.answered;
  return {
    'x-ms-session-token': ranges.map((range) => `${range}:-1#${lsn}`).join(','),
    'x-ms-content-path': ownerRid,
  };
}

let patched = false;

/**
 * Records every document change of the stock store (@vercel/cosmosdb-server 1.0.1 lib/account/items.js: `create`,
 * `replace` (a delete then a set of the same `_rid`), `delete`; `upsert` calls one of the first two), and makes the
 * point read (`Collection.document`) of a client read see the session's view. Applied after scan.ts's patches.
 */
export function patchSessionConsistency(): void {
  if (patched) return;
  patched = true;
  type Items = Store & {
    _item(keyPath: string, value: unknown, partition: unknown): { read(): Doc | undefined };
    _getPartition(data: Doc): unknown;
    _replacing?: boolean;
  };
  const Documents = serverRequire<{ default: { prototype: Record<string, unknown> } }>(
    '@vercel/cosmosdb-server/lib/account/documents'
  ).default;
  const proto = Documents.prototype;
  const baseCreate = proto.create as (this: Items, data: Doc) => Doc;
  const baseReplace = proto.replace as (this: Items, data: Doc, original: Doc) => Doc;
  const baseDelete = proto.delete as (this: Items, id: string, partition: unknown) => void;
  proto.create = function create(this: Items, data: Doc): Doc {
    const created = baseCreate.call(this, data);
    recordWrite(this, String(created._rid), undefined);
    return created;
  };
  proto.replace = function replace(this: Items, data: Doc, original: Doc): Doc {
    const before = this._item('/id', data.id, this._getPartition(data)).read();
    this._replacing = true;
    try {
      const replaced = baseReplace.call(this, data, original);
      recordWrite(this, String(replaced._rid), before);
      return replaced;
    } finally {
      this._replacing = false;
    }
  };
  proto.delete = function remove(this: Items, id: string, partition: unknown): void {
    const before = this._replacing ? undefined : this._item('/id', id, partition).read();
    baseDelete.call(this, id, partition);
    if (before) recordWrite(this, String(before._rid), before);
  };

  const Collection = serverRequire<{ default: { prototype: Record<string, unknown> } }>(
    '@vercel/cosmosdb-server/lib/account/collection'
  ).default;
  const baseDocument = Collection.prototype.document as (
    this: { documents: Items },
    idOrRid: string,
    partition: unknown
  ) => { read(): Doc | undefined };
  Collection.prototype.document = function document(this: { documents: Items }, idOrRid: string, partition: unknown) {
    const item = baseDocument.call(this, idOrRid, partition);
    const request = requestScope.getStore();
    if (!request) return item;
    const view = sessionView(this.documents);
    // A write checks its preconditions against the primary's current data.
    if (!request.read) return item;
    const rid = item.read()?._rid ?? ridOf(this.documents, idOrRid, partition);
    if (typeof rid !== 'string') return item;
    return { read: () => view(rid) };
  };
}

/** The `_rid` an id had (a document deleted within the window is no longer in the stock index). */
function ridOf(store: Store, id: string, partition: unknown): string | undefined {
  const h = histories.get(store);
  if (!h) return undefined;
  for (let i = h.log.length - 1; i >= 0; i--) {
    const before = h.log[i]!.before;
    if (before && before.id === id && samePartition(store, before, partition)) return h.log[i]!.rid;
  }
  return undefined;
}

/** Same document key as the stock index builds it (items.js `_getId`). */
function samePartition(store: Store, doc: Doc, partition: unknown): boolean {
  const items = store as unknown as {
    _getPartition(d: Doc): unknown;
    _getId(keyPath: string, id: unknown, partition: unknown): string;
  };
  return items._getId('/id', doc.id, partition) === items._getId('/id', doc.id, items._getPartition(doc));
}

/**
 * `SELECT DISTINCT [VALUE] ...` and `... OFFSET n LIMIT m`, which the query library the stock server wraps
 * (@zeit/cosmosdb-query 0.7.2, a PEG grammar without these keywords) refuses with a parse error. Its grammar is
 * compiled into the package and cannot be extended without forking it, so the emulator rewrites around it: the query
 * without DISTINCT and without the trailing OFFSET/LIMIT runs as the library runs it, over the request's documents,
 * in one go; then duplicates are dropped (values compared as JSON with sorted keys, first occurrence kept, as
 * https://learn.microsoft.com/azure/cosmos-db/nosql/query/keywords#distinct describes), the OFFSET/LIMIT window is
 * cut, and the result is paged by `maxItemCount` with a `{"row": n}` continuation. Each page re-runs the query (O(N) a
 * page, as the stock server does for every query it cannot stream). OFFSET/LIMIT only at the end of the outer query.
 */
import { fixEnabled } from './fix-flags';
import { serverRequire } from './server-require';

export interface QueryExtensions {
  /** The query the library can run. */
  query: string;
  distinct: boolean;
  offset?: number;
  limit?: number;
}

const DISTINCT = /^(\s*SELECT\s+)DISTINCT\s+/i;
const OFFSET_LIMIT = /\s+OFFSET\s+(\d+|@\w+)\s+LIMIT\s+(\d+|@\w+)\s*$/i;

function numberOf(token: string, parameters: { name: string; value: unknown }[] | undefined): number {
  if (!token.startsWith('@')) return Number(token);
  const value = parameters?.find((p) => p.name === token)?.value;
  return typeof value === 'number' ? value : NaN;
}

/** What the query uses of DISTINCT and OFFSET/LIMIT, or undefined when it uses neither. */
export function queryExtensions(
  sql: string,
  parameters?: { name: string; value: unknown }[]
): QueryExtensions | undefined | string {
  const distinct = DISTINCT.test(sql);
  const window = OFFSET_LIMIT.exec(sql);
  if (!distinct && !window) return undefined;
  let query = distinct ? sql.replace(DISTINCT, '$1') : sql;
  const result: QueryExtensions = { query, distinct };
  if (window) {
    query = query.replace(OFFSET_LIMIT, '');
    const offset = numberOf(window[1]!, parameters);
    const limit = numberOf(window[2]!, parameters);
    if (!Number.isInteger(offset) || offset < 0 || !Number.isInteger(limit) || limit < 0) {
      return 'OFFSET and LIMIT take non-negative integers.';
    }
    Object.assign(result, { query, offset, limit });
  }
  return result;
}

/** JSON with object keys sorted: equal values, equal strings. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return value === undefined ? 'undefined' : JSON.stringify(value);
}

interface QueryResult {
  result: unknown[];
  continuation: unknown;
}

interface PageOptions {
  maxItemCount?: number | null;
  continuation?: unknown;
}

type QueryFn = (
  this: unknown,
  params: { query: string; parameters?: unknown[] },
  page: PageOptions
) => QueryResult | null;

let patched = false;

/** Wraps the document store's query (after scan.ts's patch, so the request's scope still applies). */
export function patchQueryExtensions(): void {
  if (patched || !fixEnabled('queryext')) return;
  patched = true;
  const Documents = serverRequire<{ default: { prototype: Record<string, unknown> } }>(
    '@vercel/cosmosdb-server/lib/account/documents'
  ).default;
  const base = Documents.prototype.query as QueryFn;
  Documents.prototype.query = function query(
    this: unknown,
    params: { query: string; parameters?: { name: string; value: unknown }[] },
    page: PageOptions
  ): QueryResult | null {
    const ext = queryExtensions(params.query, params.parameters);
    if (ext === undefined) return base.call(this, params, page);
    if (typeof ext === 'string') throw Object.assign(new Error(ext), { badRequest: true });
    const all = base.call(this, { ...params, query: ext.query }, { maxItemCount: null, continuation: null });
    if (!all) return all;
    let rows = all.result;
    if (ext.distinct) {
      const seen = new Set<string>();
      rows = rows.filter((row) => {
        const key = canonical(row);
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
    }
    if (ext.offset !== undefined && ext.limit !== undefined) rows = rows.slice(ext.offset, ext.offset + ext.limit);
    const cursor = page.continuation as { row?: unknown } | null | undefined;
    const start = typeof cursor?.row === 'number' ? cursor.row : 0;
    const size = page.maxItemCount && page.maxItemCount > 0 ? page.maxItemCount : Infinity;
    const end = Math.min(rows.length, start + size);
    return { result: rows.slice(start, end), continuation: end < rows.length ? { row: end } : null };
  };
}

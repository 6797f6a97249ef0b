/**
 * Monkeypatches of @vercel/cosmosdb-server 1.0.1 internals, for the two bugs that cannot be fixed in front of the
 * server (docs/architecture.md §6). The package is pinned; the tests of container replace
 * and of the 20k-document query are the self-checks that these still hold after an upgrade.
 *
 * LOCAL_COSMOS_UNFIXED (comma list of replace, query, batch, patch, cursor) switches fixes off, only to show that the tests
 * fail without them.
 */
import { fixEnabled } from './fix-flags';
import { serverRequire } from './server-require';
import { patchRidSort } from './rid-order';
import { patchDocumentScans } from './scan';
import { patchChangeFeed } from './change-feed';
import { patchBatchPatchOperations } from './batch-patch';
import { patchQueryExtensions } from './query-extensions';
import { patchRestoredTimestamps } from './restored-timestamps';
import { patchSessionConsistency } from './session-consistency';

export { fixEnabled, type Fix } from './fix-flags';

interface Holder {
  _data: Map<string, { documents?: { _parent: unknown }; userDefinedFunctions?: { _parent: unknown } }>;
  _toRid(keyPath: string, value: unknown, partition: unknown): string;
}

let applied = false;

/** Applies both patches once per process (they change shared prototypes). */
export function applyServerPatches(): void {
  if (applied) return;
  applied = true;
  if (fixEnabled('replace')) patchCollectionReplace();
  if (fixEnabled('query')) patchLinearQueries();
  patchCompiledQueryCache();
  patchRidSort();
  patchDocumentScans();
  patchChangeFeed();
  patchBatchPatchOperations();
  patchQueryExtensions();
  patchRestoredTimestamps(); // after patchDocumentScans: it wraps the create that one defines
  patchSessionConsistency(); // last: it records the writes of the stores as the others leave them
}

/**
 * Container replace builds a new Collection object, with an empty document store, and drops the old one (§3.1).
 * Move the old stores (documents, UDFs) into the new object so a replace keeps `_etag`/`_ts` of every document.
 */
function patchCollectionReplace(): void {
  const Collections = serverRequire<{ default: { prototype: Record<string, unknown> } }>(
    '@vercel/cosmosdb-server/lib/account/collections'
  ).default;
  const original = Collections.prototype.replace as (this: Holder, data: { id: string }, old: unknown) => unknown;
  Collections.prototype.replace = function replace(this: Holder, data: { id: string }, old: unknown) {
    const rid = this._toRid('/id', data.id, data.id);
    const before = this._data.get(rid);
    const result = original.call(this, data, old);
    const after = this._data.get(rid);
    if (before && after && before !== after) {
      for (const store of ['documents', 'userDefinedFunctions'] as const) {
        const moved = before[store];
        if (moved) {
          moved._parent = after;
          after[store] = moved;
        }
      }
    }
    return result;
  };
}

interface JsNode {
  type: string;
  [key: string]: unknown;
}

/**
 * Queries are O(N²): `FROM c` compiles to `reduce(($, c) => [...$, {c}], [])`, which copies the accumulator for every
 * document (§2.4). Rewrite `[...$, x]` in the generated JS AST to `$h.appendTo($, x)`, a push into the reduce's own
 * fresh array, and make `stripUndefined` linear.
 */
function patchLinearQueries(): void {
  const transformer = serverRequire<{ default: (ast: unknown) => JsNode }>('@zeit/cosmosdb-query/lib/transformer');
  const helpers = serverRequire<Record<string, unknown>>('@zeit/cosmosdb-query/lib/helpers');

  helpers.appendTo = (acc: unknown[], ...items: unknown[]) => {
    for (const item of items) acc.push(item);
    return acc;
  };
  const stripUndefined = (obj: unknown): unknown => {
    if (Array.isArray(obj)) {
      const out: unknown[] = [];
      for (const v of obj) if (typeof v !== 'undefined') out.push(stripUndefined(v));
      return out;
    }
    if (obj && typeof obj === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(obj)) if (typeof v !== 'undefined') out[k] = stripUndefined(v);
      return out;
    }
    return obj;
  };
  helpers.stripUndefined = stripUndefined;

  const original = transformer.default;
  transformer.default = (ast: unknown) => rewriteSpreads(original(ast));
}

function isSpreadOfAccumulator(node: unknown): boolean {
  const n = node as JsNode | null;
  return (
    !!n &&
    n.type === 'SpreadElement' &&
    (n.argument as JsNode).type === 'Identifier' &&
    (n.argument as { name: string }).name === '$'
  );
}

function rewriteSpreads(node: JsNode): JsNode {
  const visit = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(visit);
    if (!value || typeof value !== 'object') return value;
    const n = value as JsNode;
    for (const key of Object.keys(n)) n[key] = visit(n[key]);
    const elements = n.elements as unknown[] | undefined;
    if (n.type === 'ArrayExpression' && elements && elements.length > 0 && isSpreadOfAccumulator(elements[0])) {
      return {
        type: 'CallExpression',
        callee: {
          type: 'MemberExpression',
          object: { type: 'Identifier', name: '$h' },
          property: { type: 'Identifier', name: 'appendTo' },
          computed: false,
        },
        arguments: [{ type: 'Identifier', name: '$' }, ...elements.slice(1)],
      };
    }
    return n;
  };
  return visit(node) as JsNode;
}

/**
 * The query library compiles a query's generated code with `new Function` on every execution
 * (@zeit/cosmosdb-query 0.7.2 lib/executor.js), so every page and every aggregate runs fresh, never-optimized code: a
 * `COUNT(1)` over 5 000 documents took 5–25 ms in-process. The compiled function depends only on the code (parameters,
 * UDFs and paging are its arguments), so it is compiled once per distinct query and kept (bounded).
 */
function patchCompiledQueryCache(): void {
  const executor = serverRequire<{ default: (collection: unknown, options: ExecutorOptions) => unknown }>(
    '@zeit/cosmosdb-query/lib/executor'
  );
  const aggregateFunctions = serverRequire<unknown>('@zeit/cosmosdb-query/lib/aggregate-functions');
  const builtinFunctions = serverRequire<unknown>('@zeit/cosmosdb-query/lib/builtin-functions');
  const helpers = serverRequire<unknown>('@zeit/cosmosdb-query/lib/helpers');
  const compiled = new Map<string, (...args: unknown[]) => unknown>();
  executor.default = (collection, { code, parameters, udf = {}, maxItemCount, continuation, compositeIndexes }) => {
    let execute = compiled.get(code);
    if (!execute) {
      // The library's own compile step, unchanged.
      // eslint-disable-next-line @typescript-eslint/no-implied-eval
      const compile = new Function(`"use strict";return (${code})`) as () => (...args: unknown[]) => unknown;
      execute = compile();
      if (compiled.size >= 500) compiled.clear();
      compiled.set(code, execute);
    }
    const params: Record<string, unknown> = {};
    for (const { name, value } of parameters ?? []) params[name.slice(1)] = value;
    return execute(
      aggregateFunctions,
      builtinFunctions,
      collection,
      helpers,
      udf,
      params,
      maxItemCount,
      continuation,
      compositeIndexes
    );
  };
}

interface ExecutorOptions {
  code: string;
  parameters?: { name: string; value: unknown }[];
  udf?: unknown;
  maxItemCount?: unknown;
  continuation?: unknown;
  compositeIndexes?: unknown;
}

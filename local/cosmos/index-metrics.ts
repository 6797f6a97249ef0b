/**
 * Index use of a query, as Azure reports it: which paths a query filters on, whether the container's indexing policy
 * indexes each of them, and the `x-ms-cosmos-index-utilization` answer to `populateIndexMetrics`.
 *
 * What `@azure/cosmos` 4.9.3 does with it: `populateIndexMetrics: true` sends `x-ms-cosmos-populateindexmetrics-V2:
 * true` (dist/commonjs/request/request.js, header name in common/constants.js `PopulateIndexMetrics`), and
 * `FeedResponse.indexMetrics` (dist/commonjs/request/FeedResponse.js) is `decodeAndParseJSONString` of the
 * `x-ms-cosmos-index-utilization` header (dist/commonjs/queryExecutionContext/headerUtils.js): `decodeURIComponent`,
 * `JSON.parse`, then `JSON.stringify` again: a JSON string, not an object. The V2 answer is URI-encoded JSON; the V1
 * answer (header `x-ms-cosmos-populateindexmetrics`, older SDKs) is base64 JSON. This 4.9.3 build has no
 * `indexMetrics/` folder; the V2 entity shapes are those of Azure/azure-sdk-for-js
 * `sdk/cosmosdb/cosmos/src/indexMetrics/*` and the .NET SDK's `Query.Core.Metrics` (`SingleIndexIndexMetrics`:
 * `IndexSpec`, `IndexImpactScore`; `CompositeIndexIndexMetrics`: `IndexSpecs`, `IndexImpactScore`).
 *
 * The model: a path filtered in the WHERE clause (`c.a.b = …`, `IS_DEFINED(c.z)`, ...) is "utilized" when the
 * container's policy indexes it (consistent mode, and the most specific of includedPaths/excludedPaths that matches
 * it is an included one), else "potential". An ORDER BY on two or more paths is a composite: utilized when a
 * composite index lists those paths in that order with those directions, else potential. A query with a potential
 * single index is a scan: front.ts charges it per document examined.
 */
import { serverRequire } from './server-require';

export interface IndexUse {
  /** Paths filtered in the WHERE clause, as `/a/b`. */
  filteredPaths: string[];
  utilizedSingle: string[];
  potentialSingle: string[];
  /** Each composite as its specs, e.g. ["/n ASC", "/a/b DESC"]. */
  utilizedComposite: string[][];
  potentialComposite: string[][];
}

interface AstNode {
  type?: string;
  [key: string]: unknown;
}

type QueryFactory = (sql: string) => { ast: AstNode };
let factory: QueryFactory | undefined;

/** A member chain rooted at the FROM alias (`c.a.b`, `c["a"].b`) as path segments; undefined otherwise. */
function memberPath(node: AstNode, alias: string): string[] | undefined {
  if (node.type === 'identifier') return node.name === alias ? [] : undefined;
  if (node.type !== 'scalar_member_expression') return undefined;
  const base = memberPath(node.object as AstNode, alias);
  if (!base) return undefined;
  const property = node.property as AstNode;
  if (property.type === 'identifier' && !node.computed) return [...base, String(property.name)];
  if (property.type === 'string_constant') return [...base, String(property.value)];
  return undefined; // c.tags[0], c[@p]: not a fixed path
}

function collectPaths(node: unknown, alias: string, into: Set<string>): void {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    node.forEach((n) => collectPaths(n, alias, into));
    return;
  }
  const n = node as AstNode;
  if (n.type === 'scalar_member_expression') {
    const path = memberPath(n, alias);
    if (path && path.length > 0) {
      into.add(`/${path.join('/')}`);
      return;
    }
  }
  for (const value of Object.values(n)) collectPaths(value, alias, into);
}

type QueryPaths = { filtered: string[]; orderBy: { path: string; order: 'ASC' | 'DESC' }[] };

/**
 * Parsed queries' paths by query text. The library's parser is slow (a PEG parser: tens of ms for a query of a few
 * conditions on a busy machine) and every document query asks for its paths, so each distinct text is parsed once.
 */
const pathsCache = new Map<string, QueryPaths | undefined>();

/** The filtered paths and ORDER BY of a query; undefined when it does not parse. */
export function queryPaths(sql: string): QueryPaths | undefined {
  if (pathsCache.has(sql)) return pathsCache.get(sql);
  const paths = parseQueryPaths(sql);
  if (pathsCache.size >= 500) pathsCache.clear();
  pathsCache.set(sql, paths);
  return paths;
}

function parseQueryPaths(sql: string): QueryPaths | undefined {
  factory ??= serverRequire<{ default: QueryFactory }>('@zeit/cosmosdb-query').default;
  let ast: AstNode;
  try {
    ast = factory(sql).ast;
  } catch {
    return undefined;
  }
  const body = ast.body as AstNode | undefined;
  if (!body || body.type !== 'select_query') return { filtered: [], orderBy: [] };
  const source = (body.from as AstNode | null)?.source as AstNode | undefined;
  const alias =
    ((source?.alias as AstNode | null)?.name as string | undefined) ??
    (((source?.expression as AstNode | undefined)?.expression as AstNode | undefined)?.name as string | undefined) ??
    'root';
  const filtered = new Set<string>();
  collectPaths((body.where as AstNode | null)?.condition, alias, filtered);
  const orderBy: { path: string; order: 'ASC' | 'DESC' }[] = [];
  for (const e of ((body.orderBy as AstNode | null)?.expressions as AstNode[] | undefined) ?? []) {
    const path = memberPath(e.expression as AstNode, alias);
    if (path && path.length > 0)
      orderBy.push({ path: `/${path.join('/')}`, order: e.order === 'DESC' ? 'DESC' : 'ASC' });
  }
  return { filtered: [...filtered], orderBy };
}

interface Policy {
  indexingMode?: string;
  includedPaths?: { path: string }[];
  excludedPaths?: { path: string }[];
  compositeIndexes?: { path: string; order?: string }[][];
}

const segmentsOf = (path: string) =>
  path
    .split('/')
    .filter((s) => s.length > 0)
    .map((s) => s.replace(/^"(.*)"$/, '$1'));

/**
 * How precisely a policy path matches a document path: -1 when it does not; otherwise a score where more matched
 * segments win and, for the same segments, `/?` (this scalar) beats `/*` (everything below). `[]` matches any array
 * position (never a named segment here).
 */
function matchScore(pattern: string, path: string[]): number {
  const parts = segmentsOf(pattern);
  const last = parts[parts.length - 1];
  const prefix = last === '*' || last === '?' ? parts.slice(0, -1) : parts;
  if (last === '?' && prefix.length !== path.length) return -1;
  if (last === '*' && prefix.length > path.length) return -1;
  if (last !== '*' && last !== '?' && prefix.length !== path.length) return -1;
  for (let i = 0; i < prefix.length; i++) {
    if (prefix[i] !== path[i] && prefix[i] !== '[]') return -1;
  }
  return prefix.length * 2 + (last === '?' ? 1 : 0);
}

/** Whether the policy indexes the scalar at `path` (`/a/b`): consistent mode and the most precise match is included. */
export function isIndexed(policy: Policy | undefined, path: string): boolean {
  if (!policy) return true; // Cosmos's default policy: consistent, `/*` included
  if ((policy.indexingMode ?? 'consistent').toLowerCase() === 'none') return false;
  const segments = segmentsOf(path);
  let best = -1;
  let included = false;
  for (const p of policy.includedPaths ?? [{ path: '/*' }]) {
    const score = matchScore(p.path, segments);
    if (score > best) {
      best = score;
      included = true;
    }
  }
  for (const p of policy.excludedPaths ?? []) {
    const score = matchScore(p.path, segments);
    // the same precision both ways: excluded wins
    if (score >= best && score >= 0) {
      best = score;
      included = false;
    }
  }
  return included;
}

/** The index use of `sql` on a container of `definition` (its `indexingPolicy`); undefined when it does not parse. */
export function indexUse(sql: string, definition: Record<string, unknown> | undefined): IndexUse | undefined {
  const paths = queryPaths(sql);
  if (!paths) return undefined;
  const policy = definition?.indexingPolicy as Policy | undefined;
  const use: IndexUse = {
    filteredPaths: [...paths.filtered],
    utilizedSingle: [],
    potentialSingle: [],
    utilizedComposite: [],
    potentialComposite: [],
  };
  for (const path of paths.filtered) {
    (isIndexed(policy, path) ? use.utilizedSingle : use.potentialSingle).push(`${path}/?`);
  }
  if (paths.orderBy.length >= 2) {
    const specs = paths.orderBy.map((o) => `${o.path} ${o.order}`);
    const wanted = specs.join(',');
    const have = (policy?.compositeIndexes ?? []).some(
      (composite) =>
        composite.map((c) => `${c.path} ${(c.order ?? 'ascending') === 'descending' ? 'DESC' : 'ASC'}`).join(',') ===
        wanted
    );
    (have ? use.utilizedComposite : use.potentialComposite).push(specs);
  }
  return use;
}

/** The header's JSON in Azure's V2 shape. */
export function utilizationJson(use: IndexUse): Record<string, unknown> {
  const single = (spec: string) => ({ IndexSpec: spec, IndexImpactScore: 'High' });
  const composite = (specs: string[]) => ({ IndexSpecs: specs, IndexImpactScore: 'High' });
  return {
    UtilizedSingleIndexes: use.utilizedSingle.map(single),
    PotentialSingleIndexes: use.potentialSingle.map(single),
    UtilizedCompositeIndexes: use.utilizedComposite.map(composite),
    PotentialCompositeIndexes: use.potentialComposite.map(composite),
  };
}

/** `x-ms-cosmos-index-utilization` as Azure encodes it: URI-encoded JSON for V2, base64 JSON for V1. */
export function encodeUtilization(use: IndexUse, version: 1 | 2): string {
  const json = JSON.stringify(utilizationJson(use));
  return version === 2 ? encodeURIComponent(json) : Buffer.from(json, 'utf8').toString('base64');
}

/** RU per document a scan examines (a filter on a path the policy does not index loads every document it looks at). */
export const SCAN_RU_PER_DOCUMENT = 0.1;

/**
 * What the gateway knows about a query: its shape (aggregate, TOP, ORDER BY, JOIN), the query plan the SDK asks for,
 * and the partial aggregates each partition key range answers when the SDK fans an aggregate out.
 *
 * The SDK (node_modules/@azure/cosmos/dist/commonjs/queryIterator.js) first runs a query directly and asks for the
 * plan alongside; only when the gateway refuses the query with 400 (`needsQueryPlan`: `additionalErrorInfo` in the
 * body or "Cross partition query only supports" in the message) does it use the plan: PipelinedQueryExecutionContext
 * sends `queryInfo.rewrittenQuery` to every range (x-ms-documentdb-partitionkeyrangeid, documentProducer.js) and
 * combines the answers (EndpointComponent/GroupByValueEndpointComponent.js, Aggregators/*).
 */
import { serverRequire } from './server-require';

export type AggregateKind = 'Count' | 'Sum' | 'Min' | 'Max' | 'Average';

const AGGREGATES: Record<string, AggregateKind> = {
  COUNT: 'Count',
  SUM: 'Sum',
  MIN: 'Min',
  MAX: 'Max',
  AVG: 'Average',
};

/**
 * Marks the rewritten query of an aggregate plan. A range answering it returns the partial aggregate in the form the
 * SDK's aggregators combine (`[{"item": ...}]`, as Azure's rewritten `SELECT VALUE [{"item": COUNT(1)}]` does). The
 * SDK treats rewrittenQuery as opaque text.
 */
export const PARTIAL_AGGREGATE_MARKER = '-- local emulator: partial aggregate per partition key range\n';

const VALUE_AGGREGATE = /^(\s*SELECT\s+VALUE\s+)(COUNT|SUM|MIN|MAX|AVG)(\s*\()/i;

export interface QueryShape {
  /** Only filters and projections over one document at a time: pages can resume a cursor (scan.ts). */
  streamable: boolean;
  /** `SELECT VALUE <aggregate>(...)`: across several ranges, it needs the query plan. */
  aggregate?: AggregateKind;
  /** `TOP n` with a number (not a parameter). */
  top?: number;
  orderBy: boolean;
}

interface AstNode {
  type?: string;
  [key: string]: unknown;
}

type QueryFactory = (sql: string) => { ast: AstNode };

let factory: QueryFactory | undefined;
const cache = new Map<string, QueryShape>();

/** The shape of a query, or undefined when it does not parse (the server answers the syntax error). */
export function queryShape(sql: string): QueryShape | undefined {
  const cached = cache.get(sql);
  if (cached) return cached;
  factory ??= serverRequire<{ default: QueryFactory }>('@zeit/cosmosdb-query').default;
  let ast: AstNode;
  try {
    ast = factory(sql).ast;
  } catch {
    return undefined;
  }
  const body = ast.body as AstNode | undefined;
  if (!body || body.type !== 'select_query') return { streamable: false, orderBy: false };
  const from = body.from as AstNode | null;
  const source = (from?.source as AstNode | undefined)?.expression as AstNode | undefined;
  const joins = (from?.joins as unknown[] | undefined) ?? [];
  const select = body.select as AstNode;
  const hasAggregate = containsAggregate(select);
  const topNode = body.top as AstNode | null;
  const topValue = (topNode?.value as AstNode | undefined)?.value;
  const shape: QueryShape = {
    streamable:
      !hasAggregate &&
      !topNode &&
      !body.orderBy &&
      joins.length === 0 &&
      (!source || source.type === 'collection_expression'),
    ...(typeof topValue === 'number' ? { top: topValue } : {}),
    orderBy: !!body.orderBy,
  };
  const value = select.value as AstNode | undefined;
  const name = ((value?.name as AstNode | undefined)?.name as string | undefined)?.toUpperCase();
  if (value?.type === 'scalar_function_expression' && name && AGGREGATES[name] && VALUE_AGGREGATE.test(sql)) {
    shape.aggregate = AGGREGATES[name];
  }
  if (cache.size > 500) cache.clear();
  cache.set(sql, shape);
  return shape;
}

function containsAggregate(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(containsAggregate);
  if (!node || typeof node !== 'object') return false;
  const n = node as AstNode;
  if (n.type === 'select_query') return false; // a subquery aggregates on its own
  if (n.type === 'scalar_function_expression') {
    const name = ((n.name as AstNode | undefined)?.name as string | undefined)?.toUpperCase();
    if (name && AGGREGATES[name]) return true;
  }
  return Object.values(n).some(containsAggregate);
}

/**
 * Whether Azure's gateway refuses the query across several ranges and the SDK must run it with the plan: aggregates
 * and TOP (the gateway serves only filters and projections across partitions). ORDER BY is served directly here: its
 * per-range answers would need Azure's orderByItems form (not implemented).
 */
export function needsPlanAcrossRanges(shape: QueryShape | undefined): boolean {
  return !!shape && (!!shape.aggregate || (shape.top !== undefined && !shape.orderBy));
}

/** The query with its top-level aggregate replaced (e.g. MAX(c.n) -> COUNT(c.n)). */
export function withAggregate(sql: string, fn: 'COUNT' | 'SUM'): string {
  return sql.replace(VALUE_AGGREGATE, `$1${fn}$3`);
}

/** The PartitionedQueryExecutionInfo Azure's gateway answers a query-plan request with (the parts the SDK reads). */
export function queryPlan(sql: string, shape: QueryShape | undefined): Record<string, unknown> {
  const aggregate = shape?.aggregate;
  return {
    partitionedQueryExecutionInfoVersion: 2,
    queryInfo: {
      distinctType: 'None',
      top: shape?.top ?? null,
      offset: null,
      limit: null,
      orderBy: [],
      orderByExpressions: [],
      groupByExpressions: [],
      groupByAliases: [],
      aggregates: aggregate ? [aggregate] : [],
      groupByAliasToAggregateType: {},
      rewrittenQuery: aggregate ? `${PARTIAL_AGGREGATE_MARKER}${sql}` : '',
      hasSelectValue: !!aggregate,
      hasNonStreamingOrderBy: false,
    },
    queryRanges: [{ min: '', max: 'FF', isMinInclusive: true, isMaxInclusive: false }],
  };
}

/**
 * One range's partial aggregate, as the SDK's aggregators take it (Aggregators/*.js): COUNT and SUM a number, MIN
 * and MAX `{min|max, count}`, AVG `{sum, count}`, each inside the `[{"item": ...}]` document the SDK unwraps.
 * `run(sql)` runs a query over the range's documents.
 */
export function partialAggregateDocument(kind: AggregateKind, sql: string, run: (sql: string) => unknown[]): unknown {
  return [{ item: partialAggregate(kind, sql, run) }];
}

/** @see partialAggregateDocument */
function partialAggregate(kind: AggregateKind, sql: string, run: (sql: string) => unknown[]): unknown {
  const value = run(sql)[0];
  switch (kind) {
    case 'Count':
      return value ?? 0;
    case 'Sum':
      // An empty object would end the SDK's aggregation (emptyGroup.js extractAggregateResult -> null).
      return value ?? 0;
    case 'Min':
    case 'Max': {
      const count = run(withAggregate(sql, 'COUNT'))[0] ?? 0;
      return value === undefined ? { count } : { [kind === 'Min' ? 'min' : 'max']: value, count };
    }
    case 'Average': {
      const count = run(withAggregate(sql, 'COUNT'))[0] ?? 0;
      return count ? { sum: run(withAggregate(sql, 'SUM'))[0], count } : { count: 0 };
    }
  }
}

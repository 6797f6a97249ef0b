/**
 * Knowing that it worked, data plane: the module's declared queries measured (RU, latency, rows, index
 * use), one monitoring probe interval, and a spread sample of document ids for the probe's point reads.
 *
 * Index use comes from `populateIndexMetrics: true`. In @azure/cosmos 4.9.3 that sends
 * `x-ms-cosmos-populateindexmetrics-V2: true` (dist/commonjs/request/request.js), and the answer is the
 * `x-ms-cosmos-index-utilization` response header, which `FeedResponse.indexMetrics` (dist/commonjs/request/
 * FeedResponse.js → queryExecutionContext/headerUtils.js `decodeAndParseJSONString`) returns as a JSON *string*
 * after `decodeURIComponent` (V2 is URI-encoded JSON; it logs and returns undefined on anything else). The raw header
 * is read here instead, so a base64 (V1) answer is understood too, and both entity shapes: V2 `IndexSpec` /
 * `IndexSpecs`, V1 `IndexDocumentExpression` / `FilterExpression`.
 */
import type { Container, FeedResponse } from '@azure/cosmos';
import type {
  DeclaredQueriesInput,
  DeclaredQueriesResult,
  DocumentKey,
  IndexUsage,
  ProbeInput,
  ProbeResult,
  QueryMeasurement,
  SampleIdsInput,
} from '../../common/activities';
import { DEFAULT_MAX_RU_GROWTH, type DeclaredQuery } from '../../common/migration';
import type { ActivityDeps } from '../deps';
import { listFeedRanges, rangeQueryOptions } from './feed-ranges';
import { heartbeat, statusOf } from './requests';
import { resolveTarget } from './target';
import { readPartitionKeyPaths } from './transform';
import { failureMessage } from '../../common/failure-message';

const INDEX_HEADER = 'x-ms-cosmos-index-utilization';

type Entity = Record<string, unknown>;

function decodeHeader(raw: unknown): Entity | undefined {
  if (typeof raw !== 'string' || raw === '') return undefined;
  const attempts = [
    () => JSON.parse(decodeURIComponent(raw)) as unknown,
    () => JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as unknown,
  ];
  for (const attempt of attempts) {
    try {
      const value = attempt();
      if (value && typeof value === 'object') return value as Entity;
    } catch {
      // the other encoding
    }
  }
  return undefined;
}

function singleSpec(e: Entity): string | undefined {
  const spec = e.IndexSpec ?? e.IndexDocumentExpression ?? e.FilterExpression;
  return typeof spec === 'string' ? spec : undefined;
}

function compositeSpec(e: Entity): string | undefined {
  const specs = e.IndexSpecs ?? e.IndexDocumentExpressions;
  return Array.isArray(specs) ? specs.map(String).join(', ') : undefined;
}

const list = (value: unknown): Entity[] =>
  Array.isArray(value) ? value.filter((v): v is Entity => !!v && typeof v === 'object') : [];

/** The index use named in one `x-ms-cosmos-index-utilization` header (empty lists when absent or unreadable). */
export function parseIndexUtilization(raw: unknown): IndexUsage {
  const json = decodeHeader(raw) ?? {};
  const pick = (key: string, spec: (e: Entity) => string | undefined) =>
    list(json[key])
      .map(spec)
      .filter((s): s is string => s !== undefined);
  return {
    utilizedSingle: pick('UtilizedSingleIndexes', singleSpec),
    utilizedComposite: pick('UtilizedCompositeIndexes', compositeSpec),
    potentialSingle: pick('PotentialSingleIndexes', singleSpec),
    potentialComposite: pick('PotentialCompositeIndexes', compositeSpec),
  };
}

/** `FeedResponse.indexMetrics` is a JSON string (or "{}" / undefined): URI-encode it again for parseIndexUtilization. */
function indexMetricsOf(page: FeedResponse<unknown>): string | undefined {
  const text = page.indexMetrics as unknown;
  return typeof text === 'string' && text !== '{}' ? encodeURIComponent(text) : undefined;
}

const emptyUsage = (): IndexUsage => ({
  utilizedSingle: [],
  utilizedComposite: [],
  potentialSingle: [],
  potentialComposite: [],
});

function mergeUsage(into: IndexUsage, more: IndexUsage): void {
  for (const key of Object.keys(into) as (keyof IndexUsage)[]) {
    for (const spec of more[key]) if (!into[key].includes(spec)) into[key].push(spec);
  }
}

/** `/tenantId/?` → `/tenantId`. */
const pathOf = (spec: string) => spec.replace(/\/(\?|\*)$/, '');

/** Requests answered 429 and 5xx on the way to this response (the SDK retries some of them transparently). */
function failedAttempts(response: { diagnostics?: unknown } | undefined): { throttled: number; serverErrors: number } {
  const attempts =
    (
      response?.diagnostics as
        | { clientSideRequestStatistics?: { retryDiagnostics?: { failedAttempts?: { statusCode: number }[] } } }
        | undefined
    )?.clientSideRequestStatistics?.retryDiagnostics?.failedAttempts ?? [];
  return {
    throttled: attempts.filter((a) => a.statusCode === 429).length,
    serverErrors: attempts.filter((a) => a.statusCode >= 500).length,
  };
}

interface Tally {
  throttled: number;
  serverErrors: number;
  requests: number;
}

/** Attempts the SDK retried before a success: each was a request answered 429 or 5xx. */
function addAttempts(tally: Tally, seen: { throttled: number; serverErrors: number }): void {
  tally.throttled += seen.throttled;
  tally.serverErrors += seen.serverErrors;
  tally.requests += seen.throttled + seen.serverErrors;
}

/** A failure of a probe request: 429 and 5xx (and no status: a transport failure) are counted; others rethrown. */
function countFailure(err: unknown, tally: Tally): void {
  const status = statusOf(err);
  const seen = failedAttempts(err as { diagnostics?: unknown });
  tally.throttled += seen.throttled;
  tally.serverErrors += seen.serverErrors;
  // the last failed attempt is the request already counted; the ones before it were requests too
  tally.requests += Math.max(0, seen.throttled + seen.serverErrors - 1);
  // the final answer, when the diagnostics did not already list it as a failed attempt
  if (status === 429 && seen.throttled === 0) tally.throttled += 1;
  else if ((status === undefined || status >= 500) && seen.serverErrors === 0) tally.serverErrors += 1;
}

/** Runs one declared query over every page with index metrics. A failing query is reported, not thrown. */
export async function measureQuery(container: Container, q: DeclaredQuery, tally?: Tally): Promise<QueryMeasurement> {
  const measurement: QueryMeasurement = {
    name: q.name,
    ruCharge: 0,
    latencyMs: 0,
    rows: 0,
    indexes: emptyUsage(),
    filteredPaths: [],
    maxRuGrowth: q.maxRuGrowth ?? DEFAULT_MAX_RU_GROWTH,
  };
  const started = performance.now();
  try {
    const iterator = container.items.query(
      { query: q.query, parameters: (q.parameters ?? []) as { name: string; value: never }[] },
      { populateIndexMetrics: true }
    );
    while (iterator.hasMoreResults()) {
      let page: FeedResponse<unknown>;
      try {
        page = await iterator.fetchNext();
      } finally {
        if (tally) tally.requests += 1;
      }
      if (tally) addAttempts(tally, failedAttempts(page));
      measurement.ruCharge += page.requestCharge ?? 0;
      measurement.rows += page.resources?.length ?? 0;
      // `headers` is private in the typings but set on every FeedResponse; `indexMetrics` is its decoded V2 form.
      const raw = (page as unknown as { headers?: Record<string, unknown> }).headers?.[INDEX_HEADER];
      mergeUsage(measurement.indexes, parseIndexUtilization(raw ?? indexMetricsOf(page)));
    }
  } catch (err) {
    if (tally) countFailure(err, tally);
    measurement.error = `${statusOf(err) ?? 'error'}: ${failureMessage(err)}`;
  }
  measurement.latencyMs = Math.round((performance.now() - started) * 10) / 10;
  measurement.ruCharge = Math.round(measurement.ruCharge * 100) / 100;
  const single = [...measurement.indexes.utilizedSingle, ...measurement.indexes.potentialSingle];
  measurement.filteredPaths = [...new Set(single.map(pathOf))].sort();
  return measurement;
}

function target(deps: ActivityDeps, input: DeclaredQueriesInput) {
  const loaded = deps.registry.get(input.migration);
  // The direction does not matter here; pick one the module has so resolveTarget checks the checksum and names.
  const direction = typeof loaded.definition.down === 'function' && !loaded.definition.up ? 'down' : 'up';
  return resolveTarget(deps.registry, { ...input, direction });
}

export async function runDeclaredQueries(
  deps: ActivityDeps,
  input: DeclaredQueriesInput
): Promise<DeclaredQueriesResult> {
  const t = target(deps, input);
  const container = deps.cosmos.database(t.database).container(t.container);
  const queries: QueryMeasurement[] = [];
  for (const q of t.definition.queries ?? []) {
    heartbeat({ query: q.name });
    queries.push(await measureQuery(container, q));
  }
  return { queries };
}

/** One monitoring interval. Never throws for 429 or 5xx: they are the figures. */
export async function probeContainer(deps: ActivityDeps, input: ProbeInput): Promise<ProbeResult> {
  const t = target(deps, input);
  const container = deps.cosmos.database(t.database).container(t.container);
  const at = new Date().toISOString();
  const tally: Tally = { throttled: 0, serverErrors: 0, requests: 0 };
  const queries: ProbeResult['queries'] = [];
  for (const q of t.definition.queries ?? []) {
    const m = await measureQuery(container, q, tally);
    queries.push({
      name: m.name,
      ruCharge: m.ruCharge,
      latencyMs: m.latencyMs,
      ...(m.error ? { error: m.error } : {}),
    });
  }
  const reads = { count: 0, totalMs: 0, ruCharge: 0 };
  for (const key of input.sampleIds ?? []) {
    const started = performance.now();
    tally.requests += 1;
    try {
      const response = await container.item(key.id, key.partitionKey as never).read();
      addAttempts(tally, failedAttempts(response));
      reads.ruCharge += response.requestCharge ?? 0;
      reads.count += 1;
      reads.totalMs += performance.now() - started;
    } catch (err) {
      const status = statusOf(err);
      if (status !== undefined && status < 500 && status !== 429) throw err;
      countFailure(err, tally);
    }
  }
  return {
    at,
    queries,
    pointReads: {
      count: reads.count,
      avgLatencyMs: reads.count > 0 ? Math.round((reads.totalMs / reads.count) * 10) / 10 : 0,
      ruCharge: Math.round(reads.ruCharge * 100) / 100,
    },
    throttled: tally.throttled,
    serverErrors: tally.serverErrors,
    requests: tally.requests,
  };
}

/**
 * `count` document keys spread over the container: the count is shared evenly among the feed ranges and each range
 * gives its first documents (following the continuation past short or empty pages) (ids and partition keys only: the query projects nothing else). A 404 item read later
 * (the document was deleted) is the probe's to see; ids are not contents.
 */
export async function sampleDocumentIds(deps: ActivityDeps, input: SampleIdsInput): Promise<DocumentKey[]> {
  const container = deps.cosmos.database(input.database).container(input.container);
  const pkPaths = await readPartitionKeyPaths(container);
  const ranges = await listFeedRanges(container);
  const perRange = Math.max(1, Math.ceil(input.count / Math.max(1, ranges.length)));
  // The projection keeps contents out of the activity's result: the id and each partition key path, aliased.
  const accessor = (p: string) =>
    `c${p
      .split('/')
      .filter(Boolean)
      .map((s) => `[${JSON.stringify(s)}]`)
      .join('')}`;
  const sql = `SELECT c.id${pkPaths.map((p, i) => `, ${accessor(p)} AS pk${i}`).join('')} FROM c`;
  const keys: DocumentKey[] = [];
  for (const range of ranges) {
    const options = await rangeQueryOptions(container, range);
    // Pages until the range's share: Azure may answer any page short or empty with a continuation.
    const iterator = container.items.query<Record<string, unknown>>(sql, { ...options, maxItemCount: perRange });
    let taken = 0;
    while (taken < perRange && iterator.hasMoreResults()) {
      const page = await iterator.fetchNext();
      for (const doc of (page.resources ?? []).slice(0, perRange - taken)) {
        const values = pkPaths.map((_, i) => doc[`pk${i}`] ?? null);
        keys.push({ id: String(doc.id), partitionKey: pkPaths.length === 1 ? values[0] : values });
        taken += 1;
      }
    }
  }
  return keys.slice(0, input.count);
}

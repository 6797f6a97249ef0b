/**
 * What the gateway does with partitions, in front of the engine: answers the pkranges feed with the container's live
 * ranges; answers 410/1002 (PartitionKeyRangeGone) to a request naming a range that split; refuses, with 400 and the
 * plan, an aggregate across several ranges (the SDK then fans it out per range, query-plan.ts); and says which ranges
 * a request touches (for the RU model) and which documents it may see (scan.ts DocumentScope).
 */
import type { RawRequest, RawResponse } from './dispatch';
import { effectivePartitionKey, MAX_EPK, MIN_EPK } from './epk';
import { partitionKeyRangeResources, rangeOfEpk, type ContainerPartitions, type PartitionTable } from './partitions';
import { needsPlanAcrossRanges, PARTIAL_AGGREGATE_MARKER, queryPlan, queryShape } from './query-plan';
import { pathSegments, type Route } from './routes';
import type { DocumentScope } from './scan';
import { isChangeFeedRequest, parseChangeFeedRequest } from './change-feed';

export interface PartitionRouting {
  /** Answer this instead of running the request. */
  response?: RawResponse;
  /** The request body to run instead (the partial-aggregate marker removed). */
  body?: string;
  /** Range ids the request is charged to, and the container's range count. */
  ranges: string[];
  partitionCount: number;
  scope?: DocumentScope;
}

const RANGE_HEADER = 'x-ms-documentdb-partitionkeyrangeid';

const json = (status: number, headers: Record<string, string>, body: unknown): RawResponse => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

/** Azure's answer to a request for a range that split: the SDK refreshes its routing map on 410 + substatus 1002. */
function gone(container: string, rangeId: string): RawResponse {
  return json(
    410,
    { 'x-ms-substatus': '1002', 'x-ms-request-charge': '0' },
    {
      code: 'Gone',
      message: `PartitionKeyRangeGone: partition key range ${rangeId} of ${container} is gone (it split); refresh the routing map.`,
    }
  );
}

/** The partition key header (`["a"]`, `[5]`, `[{}]` for none) in the SDK's internal array form. */
function partitionKeyOf(header: string): unknown[] {
  try {
    const parsed = JSON.parse(header) as unknown;
    return Array.isArray(parsed) ? parsed : [parsed];
  } catch {
    return [header];
  }
}

export async function routePartitions(
  table: PartitionTable,
  request: RawRequest,
  route: Route
): Promise<PartitionRouting> {
  const whole: PartitionRouting = { ranges: ['0'], partitionCount: 1 };
  const { database, container } = route;
  if (!database || !container) return whole;
  const segments = pathSegments(request.url);
  const pkRanges = segments.length === 5 && segments[4] === 'pkranges' && request.method.toUpperCase() === 'GET';
  const documents = route.resource === 'documents' || route.resource === 'document';
  if (!pkRanges && !documents) return whole;
  const state = await table.get(database, container);
  if (!state) return whole; // the server answers 404
  if (pkRanges) return { ...whole, response: pkRangesResponse(state) };

  const all = state.ranges.map((r) => r.id);
  const routing: PartitionRouting = { ranges: all, partitionCount: all.length };
  const headers = request.headers;
  const name = `${database}/${container}`;
  let scope: DocumentScope = { minInclusive: MIN_EPK, maxExclusive: MAX_EPK };

  const rangeHeader = headers[RANGE_HEADER];
  const pkHeader = headers['x-ms-documentdb-partitionkey'];
  if (rangeHeader !== undefined) {
    // Some SDKs send "<collection rid>,<range id>".
    const id = rangeHeader.slice(rangeHeader.lastIndexOf(',') + 1).trim();
    const range = state.ranges.find((r) => r.id === id);
    if (!range) return { ...routing, response: gone(name, id) };
    routing.ranges = [range.id];
    scope = { minInclusive: range.minInclusive, maxExclusive: range.maxExclusive };
  }
  const pkEpk = pkHeader === undefined ? undefined : effectivePartitionKey(partitionKeyOf(pkHeader), state.version);
  if (rangeHeader === undefined && pkEpk !== undefined) routing.ranges = [rangeOfEpk(state, pkEpk).id];
  if (headers['x-ms-start-epk'] !== undefined) scope.startEpk = headers['x-ms-start-epk'];
  if (headers['x-ms-end-epk'] !== undefined) scope.endEpk = headers['x-ms-end-epk'];

  if (route.resource === 'documents' && isChangeFeedRequest(request.method, headers)) {
    const feed = parseChangeFeedRequest(headers);
    if (typeof feed === 'string') {
      return { ...routing, response: json(400, { 'x-ms-request-charge': '1' }, { code: 'BadRequest', message: feed }) };
    }
    if (pkEpk !== undefined) feed.partitionKeyEpk = pkEpk;
    scope.changeFeed = feed;
  }

  if (route.action === 'query') {
    let body: { query?: unknown } | undefined;
    try {
      body = JSON.parse(request.body) as { query?: unknown };
    } catch {
      body = undefined;
    }
    if (body && typeof body.query === 'string') {
      if (body.query.startsWith(PARTIAL_AGGREGATE_MARKER)) {
        const query = body.query.slice(PARTIAL_AGGREGATE_MARKER.length);
        const aggregate = queryShape(query)?.aggregate;
        routing.body = JSON.stringify({ ...body, query });
        if (aggregate) scope.partialAggregate = aggregate;
      } else if (rangeHeader === undefined && pkHeader === undefined && state.ranges.length > 1) {
        const shape = queryShape(body.query);
        if (needsPlanAcrossRanges(shape)) {
          // As Azure's gateway: an aggregate or TOP over several partitions is the SDK's job, with the plan.
          return {
            ...routing,
            response: json(
              400,
              { 'x-ms-request-charge': '1' },
              {
                code: 'BadRequest',
                message:
                  "Cross partition query only supports 'VALUE <AggregateFunc>' for aggregates: this query spans several partition key ranges; run it with the query plan.",
                additionalErrorInfo: JSON.stringify(queryPlan(body.query, shape)),
              }
            ),
          };
        }
      }
    }
  }
  routing.scope = scope;
  return routing;
}

function pkRangesResponse(state: ContainerPartitions): RawResponse {
  const resources = partitionKeyRangeResources(state);
  return json(
    200,
    {
      'x-ms-request-charge': '1',
      'x-ms-item-count': String(resources.length),
      etag: `"${state.nextId}"`,
    },
    { _rid: state.definition._rid, PartitionKeyRanges: resources, _count: resources.length }
  );
}

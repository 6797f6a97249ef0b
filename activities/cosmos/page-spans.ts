/**
 * A span per Cosmos DB request of the engine (a page of a scan, a point read, a bulk request): started in the
 * activity's context, so it is the child of the activity's span (worker/tracing.ts). Without tracing configured,
 * @opentelemetry/api hands out its no-op tracer (api/build/src/trace/NoopTracer.js): nothing is recorded.
 *
 * Attributes name the request, never its content (no document values, ids or keys): the database and container, the
 * operation, the RU charge, the number of operations or documents, the status code and the partition key range. The
 * Cosmos DB semantic conventions renamed their attributes (https://opentelemetry.io/docs/specs/semconv/database/cosmosdb/:
 * `db.cosmosdb.request_charge` is now `azure.cosmosdb.operation.request_charge`, `db.system` is `db.system.name`);
 * both names are set so dashboards of either generation read them.
 */
import { SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import type { Container, FeedOptions } from '@azure/cosmos';
import { statusOf } from './requests';

const tracer = trace.getTracer('cosmos-runbook');

export type CosmosOperation = 'Query' | 'ReadFeed' | 'Read' | 'Batch';

export interface RequestOutcome {
  charge: number;
  statusCode: number;
  /** Documents returned (reads) or operations sent (bulk). */
  count: number;
}

/**
 * A change-feed page's charge as the service answered it. @azure/cosmos 4.9 ChangeFeedIteratorResponse.requestCharge
 * truncates it to an integer (dist/commonjs/client/ChangeFeed/ChangeFeedIteratorResponse.js: `parseInt(rus, 10)`:
 * 3.99 RU read as 3), so the header is read instead.
 */
export function feedPageCharge(page: { headers: Record<string, unknown>; requestCharge: number }): number {
  const charge = Number(page.headers['x-ms-request-charge']);
  if (Number.isFinite(charge)) return charge;
  return Number.isFinite(page.requestCharge) ? page.requestCharge : 0;
}

/** The partition key range a range's scan is pinned to (feed-ranges.ts rangeQueryOptions), if any. */
export function partitionKeyRangeOf(options: FeedOptions): string | undefined {
  const header: unknown = options.initialHeaders?.['x-ms-documentdb-partitionkeyrangeid'];
  return typeof header === 'string' || typeof header === 'number' ? String(header) : undefined;
}

/**
 * Runs one request inside its span; `outcome` reads the answer's charge, status and count. A failure marks the span
 * with its status code only (an SDK message can quote a document id).
 */
export async function inRequestSpan<R>(
  container: Container,
  operation: CosmosOperation,
  extra: { partitionKeyRangeId?: string | undefined; operations?: number },
  send: () => Promise<R>,
  outcome: (answer: R) => RequestOutcome
): Promise<R> {
  const attributes: Attributes = {
    'db.system': 'cosmosdb',
    'db.system.name': 'azure.cosmosdb',
    'db.namespace': container.database.id,
    'db.cosmosdb.container': container.id,
    'db.collection.name': container.id,
    'db.cosmosdb.operation_type': operation,
    'db.operation.name': operation,
    ...(extra.operations !== undefined ? { 'db.operation.batch.size': extra.operations } : {}),
    ...(extra.partitionKeyRangeId !== undefined
      ? { 'cosmos_runbook.partition_key_range_id': extra.partitionKeyRangeId }
      : {}),
  };
  return tracer.startActiveSpan(
    `cosmosdb ${operation} ${container.id}`,
    { kind: SpanKind.CLIENT, attributes },
    async (span: Span) => {
      try {
        const answer = await send();
        const { charge, statusCode, count } = outcome(answer);
        span.setAttributes({
          'db.cosmosdb.request_charge': charge,
          'azure.cosmosdb.operation.request_charge': charge,
          'db.cosmosdb.status_code': statusCode,
          'db.response.status_code': String(statusCode),
          'cosmos_runbook.count': count,
        });
        return answer;
      } catch (err) {
        const status = statusOf(err);
        if (status !== undefined) {
          span.setAttributes({ 'db.cosmosdb.status_code': status, 'db.response.status_code': String(status) });
        }
        // A refused request is charged too (a 404 read, a 412): @azure/cosmos ErrorResponse carries its headers.
        const charge = Number((err as { headers?: Record<string, unknown> }).headers?.['x-ms-request-charge']);
        if (Number.isFinite(charge)) {
          span.setAttributes({
            'db.cosmosdb.request_charge': charge,
            'azure.cosmosdb.operation.request_charge': charge,
          });
        }
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw err;
      } finally {
        span.end();
      }
    }
  );
}

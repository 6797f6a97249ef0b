/**
 * Request validation Azure does and the stock server (@vercel/cosmosdb-server 1.0.1) does not
 * (https://learn.microsoft.com/azure/cosmos-db/concurrency-limits-and-quotas ("Per-item limits"),
 * https://learn.microsoft.com/azure/cosmos-db/nosql/time-to-live):
 * - an item, and a request, of at most 2 MB: larger answers 413 RequestEntityTooLarge;
 * - a batch or bulk request of 1 to 100 operations: more, or none, answers 400 (the texts the service answers, as
 *   Microsoft's Python SDK asserts them against a live account: Azure/azure-sdk-for-python
 *   sdk/cosmos/azure-cosmos/tests/test_transactional_batch.py; @azure/cosmos 4.9 refuses more than 100 itself before
 *   sending, client/Item/Items.js `bulk`/`batch`, so only other clients reach this);
 * - a container's `defaultTtl` is absent, -1 or a positive integer (0, null, other negatives: 400);
 * - an item's `ttl` is absent, -1 or a positive integer (0, null, other negatives: 400).
 */
import type { RawRequest, RawResponse } from './dispatch';
import { fixEnabled } from './fix-flags';
import type { Route } from './routes';

/** 2 MB, Azure's maximum item size and request payload. */
export const MAX_REQUEST_BYTES = 2 * 1024 * 1024;
/** Azure's maximum operations in one batch or bulk request. */
export const MAX_BATCH_OPERATIONS = 100;

const MAX_TTL = 2_147_483_647;

const answer = (status: number, code: string, message: string): RawResponse => ({
  status,
  headers: { 'content-type': 'application/json', 'x-ms-request-charge': '1' },
  body: JSON.stringify({ code, message }),
});

const validTtl = (value: unknown) =>
  value === -1 || (typeof value === 'number' && Number.isInteger(value) && value > 0 && value <= MAX_TTL);

/** Azure's answer to a request it refuses before running it, or undefined. */
export function refuseRequest(request: RawRequest, route: Route): RawResponse | undefined {
  if (route.resource !== 'documents' && route.resource !== 'document' && route.resource !== 'container')
    return undefined;
  if (fixEnabled('limits') && Buffer.byteLength(request.body) > MAX_REQUEST_BYTES) {
    return answer(413, 'RequestEntityTooLarge', 'Request size is too large.');
  }
  if (fixEnabled('limits') && route.action === 'batch' && route.resource === 'documents') {
    const count = operationCount(request.body);
    if (count === 0) return answer(400, 'BadRequest', 'Batch request has no operations.');
    if (count !== undefined && count > MAX_BATCH_OPERATIONS) {
      return answer(400, 'BadRequest', 'Batch request has more operations than what is supported.');
    }
    return undefined;
  }
  if (!fixEnabled('ttl')) return undefined;
  const writes = ['create', 'upsert', 'replace'];
  if (!writes.includes(route.action)) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(request.body);
  } catch {
    return undefined;
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const field = route.resource === 'container' ? 'defaultTtl' : 'ttl';
  if (field in body && !validTtl((body as Record<string, unknown>)[field])) {
    return answer(
      400,
      'BadRequest',
      `The value of '${field}' must be -1 or a positive 32-bit integer (seconds); it was ${JSON.stringify((body as Record<string, unknown>)[field])}.`
    );
  }
  return undefined;
}

/** Whether a bulk of these operations passes the limits above (it then runs; else `refuseRequest` answers it). */
export function withinBatchLimits(body: string, operations: unknown[]): boolean {
  if (!fixEnabled('limits')) return true;
  return (
    operations.length > 0 && operations.length <= MAX_BATCH_OPERATIONS && Buffer.byteLength(body) <= MAX_REQUEST_BYTES
  );
}

function operationCount(body: string): number | undefined {
  try {
    const ops: unknown = JSON.parse(body);
    return Array.isArray(ops) ? ops.length : undefined;
  } catch {
    return undefined;
  }
}

/** Small helpers around @azure/cosmos responses and errors that every data-plane activity needs. */
import { Context } from '@temporalio/activity';

/** The activity context, or undefined when the function runs outside an activity (scripts, the demo seed). */
export function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

export function heartbeat(details: unknown): void {
  activityContext()?.heartbeat(details);
}

export function statusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown; statusCode?: unknown }).code ?? (err as { statusCode?: unknown }).statusCode;
  return typeof code === 'number' ? code : undefined;
}

/**
 * How long a 429 asks us to wait, with a floor so a missing value still backs off: an error's
 * `x-ms-retry-after-ms` (or the SDK's `retryAfterInMs`), or one bulk operation's `retryAfterMilliseconds` (the field
 * of the service's per-operation answer, which `items.bulk` returns as it came and @azure/cosmos 4.9 reads in
 * bulk/BulkResponse.js `populateFromResponse`).
 */
export function retryAfterMs(err: unknown, fallback = 100): number {
  const e = err as {
    retryAfterInMs?: number;
    retryAfterInMilliseconds?: number;
    retryAfterMilliseconds?: number;
    headers?: Record<string, unknown>;
  };
  const header = e?.headers?.['x-ms-retry-after-ms'];
  const value =
    e?.retryAfterInMs ??
    e?.retryAfterInMilliseconds ??
    e?.retryAfterMilliseconds ??
    (header !== undefined ? Number(header) : undefined);
  return value !== undefined && Number.isFinite(value) && value >= 0 ? Math.max(value, 1) : fallback;
}

/** The request charge of a response's headers. */
export function chargeOf(headers: Record<string, unknown> | undefined): number {
  const value = Number(headers?.['x-ms-request-charge'] ?? 0);
  return Number.isFinite(value) ? value : 0;
}

/**
 * A 429. items.bulk rethrows a throttled request as a plain Error("Bulk request errored with: Request rate is
 * large...") without status or retry-after, so the message is the only sign of it.
 */
export function isThrottled(err: unknown): boolean {
  if (statusOf(err) === 429) return true;
  const message = err instanceof Error ? err.message : String(err);
  return /Request rate is large|\b429\b/.test(message);
}

/** The wait after the n-th throttle in a row: the retry-after when known, else 100 ms growing ×1.5 up to 2 s. */
export function throttleDelayMs(err: unknown, consecutive: number): number {
  if (statusOf(err) === 429) return retryAfterMs(err);
  return Math.round(Math.min(2000, 100 * 1.5 ** Math.max(0, consecutive - 1)));
}

/**
 * A connection that broke under a request (the server closed an idle keep-alive socket as the client reused it, a
 * reset). The SDK retries reads on these; a write it cannot know the fate of is the caller's to retry, and items.bulk
 * rethrows it as a plain Error("Bulk request errored with: read ECONNRESET"), so the message is the only sign of it.
 */
export function isConnectionBroken(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^(ECONNRESET|EPIPE|ECONNABORTED)$/.test(code)) return true;
  const message = err instanceof Error ? err.message : String(err);
  return /ECONNRESET|EPIPE|ECONNABORTED|socket hang up/.test(message);
}

/**
 * Statuses of one operation inside a bulk response that say "not done, try again": 408 timeout, 410 gone (a split or
 * a stale name cache), 429 throttled, 449 retry-with, 503 unavailable. The engine's `items.bulk` retries none of them
 * per operation (it retries only a whole request's 410 split: client/Item/Items.js executeBatchOperations), and even
 * `executeBulkOperations` retries only 410, 413/3402 and 429 (retry/bulkExecutionRetryPolicy.js, bulk/Batcher.js), so
 * the engine sends these operations again itself; they are never failed documents. A write answered so may still
 * have been applied: the replace sent again is conditioned on the same _etag and then answers 412, never a double write.
 */
export const TRANSIENT_BULK_STATUSES: readonly number[] = [408, 410, 429, 449, 503];

export function isTransientBulkStatus(status: number): boolean {
  return TRANSIENT_BULK_STATUSES.includes(status);
}

/** How often an activity kept alive by `keepAlive` heartbeats: well within the runbook's 30 s heartbeat timeout. */
export const KEEP_ALIVE_MS = 5_000;

/**
 * Runs `work` (an ARM step with no progress of its own to report) heartbeating every KEEP_ALIVE_MS, so a worker that
 * dies meanwhile is noticed within the heartbeat timeout instead of the step's start-to-close timeout (hours). The
 * heartbeats say only that the worker lives; the step, retried, does its work again (each is idempotent).
 */
export async function keepAlive<T>(work: () => Promise<T>): Promise<T> {
  const context = activityContext();
  if (!context) return work();
  const timer = setInterval(() => context.heartbeat(), KEEP_ALIVE_MS);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/** Whole bulk requests met by a transient failure that the engine sends again, before it gives the activity up. */
export const MAX_TRANSIENT_BULK_RETRIES = 8;

/**
 * A whole bulk request that failed for a reason worth trying again: 408, 449 or 503, a timeout, a reset or dropped
 * connection. `items.bulk` rethrows any error of a bulk request as `new Error("Bulk request errored with: " +
 * err.message)`, dropping its code (client/Item/Items.js executeBatchOperations), so its message is all there is.
 * Sending the bulk again is safe: replaces are conditioned on the _etag read (an applied one answers 412), pre-images
 * are upserts.
 */
export function isTransientRequestError(err: unknown): boolean {
  const status = statusOf(err);
  if (status === 408 || status === 449 || status === 503) return true;
  const code = (err as { code?: unknown } | undefined)?.code;
  if (code === 'TimeoutError' || isConnectionBroken(err)) return true;
  const message = err instanceof Error ? err.message : '';
  return (
    message.startsWith('Bulk request errored with:') &&
    (/unavailable|socket hang up|ECONNRESET|EPIPE|Timeout|timed out|\b(408|449|503)\b/i.test(message) ||
      EMPTY_SUB_BATCH.test(message))
  );
}

/**
 * After a split, @azure/cosmos 4.9 regroups a bulk's operations over the children of the gone range and sends one
 * request per child, an empty one too (client/Item/Items.js `createNewBatches` keeps every child, and
 * `executeBatchOperations` does not drop the empty ones as `bulk` does on the first pass); the service refuses an
 * empty batch with 400 "Batch request has no operations." and items.bulk rethrows it for the whole call. Sent again,
 * the call is grouped on the fresh routing map, without an empty request.
 */
const EMPTY_SUB_BATCH = /Batch request has no operations/;

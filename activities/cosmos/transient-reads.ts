/**
 * Reads and queries that meet a transient failure are sent again, inside the client, so one 503 or one timed-out page
 * does not fail an activity that has read thousands of pages (a scan, a verification) and make Temporal start it over.
 *
 * What @azure/cosmos 4.9 retries by itself (retry/retryUtility.js): 429 (not for bulk), a reset connection for reads
 * and queries (retry/defaultRetryPolicy.js needsRetry, ECONNRESET/EPIPE, 10 times), and 503 or a timeout only through
 * timeoutFailoverRetryPolicy, which gives up at once without endpoint discovery (off on the local stack,
 * activities/clients.ts) and otherwise retries a 503 once (maxServiceUnavailableRetryCount = 1). Reads and queries
 * change nothing, so sending them again is always safe; writes are left to their callers (the engine conditions
 * them on the document's _etag and deals with every outcome).
 *
 * The hook is the SDK's request plugin (plugins/Plugin.js: `executePlugins(..., PluginOn.request)` around each HTTP
 * request in request/RequestHandler.js), exported from the package but marked @hidden, so `plugins` is not in the
 * typed options: createCosmosClient passes it through a wider type.
 */
import { OperationType, type PluginConfig } from '@azure/cosmos';

/** Statuses and error codes of a read or query worth sending again. */
const TRANSIENT = new Set<unknown>([408, 449, 503, 'TimeoutError', 'ECONNRESET', 'EPIPE']);
export const TRANSIENT_READ_ATTEMPTS = 8;

function codeOf(err: unknown): unknown {
  return (err as { code?: unknown } | undefined)?.code;
}

export const transientReadRetry: PluginConfig = {
  on: 'request',
  plugin: async (context, _diagnostics, next) => {
    const read = context.operationType === OperationType.Read || context.operationType === OperationType.Query;
    for (let attempt = 1; ; attempt++) {
      try {
        return await next(context);
      } catch (err) {
        const aborted = context.options?.abortSignal?.aborted === true;
        if (!read || aborted || attempt >= TRANSIENT_READ_ATTEMPTS || !TRANSIENT.has(codeOf(err))) throw err;
        // 100 ms, 200 ms, ... up to 3 s: a short blip costs little, a longer outage is waited out.
        await new Promise((resolve) => setTimeout(resolve, Math.min(3_000, 100 * 2 ** (attempt - 1))));
      }
    }
  },
};

/** What every request handler receives. */
import type { AccountState } from './state';
import type { Operations, Operation } from './operations';
import type { Reply } from './http';

export interface RequestContext {
  method: string;
  /** Path params, URL-decoded. */
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  apiVersion: string;
  /** e.g. https://127.0.0.1:8443 */
  baseUrl: string;
  /** The full request URL. */
  url: string;
  state: AccountState;
  operations: Operations;
}

export type Handler = (ctx: RequestContext) => Promise<Reply>;

export function param(ctx: RequestContext, name: string): string {
  const value = ctx.params[name];
  if (value === undefined) throw new Error(`route has no {${name}} parameter`);
  return value;
}

/**
 * The 202 that starts a long-running operation, as the Cosmos RP sends it (Microsoft.DocumentDB REST API): body
 * `{"status":"Enqueued"}`, `azure-asyncoperation` → the subscription-level operationsStatus URL (polled by the SDK),
 * `location` → `{resource}/operationResults/{id}` (the final result).
 */
export function accepted(ctx: RequestContext, operation: Operation, resourcePath: string): Reply {
  const { state, baseUrl, apiVersion } = ctx;
  const query = `api-version=${encodeURIComponent(apiVersion)}`;
  const writeHeader =
    ctx.method === 'DELETE'
      ? 'x-ms-ratelimit-remaining-subscription-deletes'
      : 'x-ms-ratelimit-remaining-subscription-writes';
  return {
    status: 202,
    body: { status: 'Enqueued' },
    headers: {
      'azure-asyncoperation': `${baseUrl}/subscriptions/${state.subscriptionId}/providers/Microsoft.DocumentDB/locations/${state.region}/operationsStatus/${operation.id}?${query}`,
      location: `${baseUrl}${resourcePath}/operationResults/${operation.id}?${query}`,
      [writeHeader]: '799',
    },
  };
}

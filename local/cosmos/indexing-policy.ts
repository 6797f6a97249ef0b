/**
 * A container's indexing policy as Azure stores and returns it
 * (https://learn.microsoft.com/azure/cosmos-db/index-policy): `indexingMode` "consistent" and `automatic` true when
 * absent; `includedPaths` `[{"path":"/*"}]` when absent; `excludedPaths` present, with the system path `/"_etag"/?`
 * appended (Azure adds it to every policy that indexes anything). The stock server returns the policy exactly as
 * sent, so a policy read back differed locally from the same policy read back from Azure.
 */
import type { RawRequest } from './dispatch';
import { fixEnabled } from './fix-flags';
import type { Route } from './routes';

export const ETAG_PATH = '/"_etag"/?';

type Json = Record<string, unknown>;

export function normaliseIndexingPolicy(policy: Json | undefined): Json {
  const out: Json = { indexingMode: 'consistent', automatic: true, ...(policy ?? {}) };
  if (String(out.indexingMode).toLowerCase() === 'none') {
    return { ...out, includedPaths: out.includedPaths ?? [], excludedPaths: out.excludedPaths ?? [] };
  }
  const included =
    Array.isArray(out.includedPaths) && out.includedPaths.length > 0 ? out.includedPaths : [{ path: '/*' }];
  const excluded = Array.isArray(out.excludedPaths) ? [...(out.excludedPaths as Json[])] : [];
  if (!excluded.some((p) => p?.path === ETAG_PATH)) excluded.push({ path: ETAG_PATH });
  return { ...out, includedPaths: included, excludedPaths: excluded };
}

/** A container create or replace with its indexing policy normalised, as Azure would store it. */
export function withNormalisedPolicy(request: RawRequest, route: Route): RawRequest {
  if (!fixEnabled('indexpolicy') || route.resource !== 'container') return request;
  if (route.action !== 'create' && route.action !== 'replace') return request;
  let body: Json;
  try {
    body = JSON.parse(request.body) as Json;
  } catch {
    return request;
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) return request;
  const policy = body.indexingPolicy as Json | undefined;
  return { ...request, body: JSON.stringify({ ...body, indexingPolicy: normaliseIndexingPolicy(policy) }) };
}

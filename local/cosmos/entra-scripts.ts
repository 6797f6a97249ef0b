/**
 * Microsoft Entra ID on the data plane does not cover scripts: with a token (`authorization: type=aad&ver=1.0&sig=…`,
 * what @azure/cosmos sends for `aadCredentials`, dist/commonjs/ClientContext.js), reading, creating, replacing or
 * deleting stored procedures, triggers and user-defined functions is refused with 403 and substatus 5300 ("Non-data
 * operations aren't allowed", https://learn.microsoft.com/azure/cosmos-db/nosql/troubleshoot-forbidden; data-plane RBAC
 * "does not cover ... Create/Replace/Delete/Read Stored Procedures, Triggers, User Defined Functions",
 * https://learn.microsoft.com/azure/cosmos-db/how-to-setup-rbac); such identities manage scripts through ARM. Executing
 * a stored procedure is a data action and stays allowed. The emulator checks no signature (a key or any token is
 * accepted), so this is the one difference an Entra identity sees. `LOCAL_COSMOS_UNFIXED=entrascripts` switches it off.
 */
import type { RawRequest, RawResponse } from './dispatch';
import { fixEnabled } from './fix-flags';
import { pathSegments } from './routes';

const SCRIPT_FEEDS = new Set(['sprocs', 'triggers', 'udfs']);

function isEntraToken(authorization: string | undefined): boolean {
  if (!authorization) return false;
  let value = authorization;
  try {
    value = decodeURIComponent(authorization);
  } catch {
    // not URI-encoded: as sent
  }
  return value.toLowerCase().startsWith('type=aad&');
}

/** The 403 an Entra identity gets for a script's CRUD or read, as Azure words it; undefined when allowed. */
export function refuseScriptsToEntra(request: RawRequest): RawResponse | undefined {
  if (!fixEnabled('entrascripts') || !isEntraToken(request.headers.authorization)) return undefined;
  const segments = pathSegments(request.url);
  if (segments[0] !== 'dbs' || segments[2] !== 'colls' || !SCRIPT_FEEDS.has(segments[4] ?? '')) return undefined;
  const method = request.method.toUpperCase();
  const isQuery = (request.headers['x-ms-documentdb-isquery'] ?? '').toLowerCase() === 'true';
  // POST /sprocs/{id} runs the procedure: a data action an Entra identity may be granted.
  if (method === 'POST' && segments[4] === 'sprocs' && segments[5] !== undefined && !isQuery) return undefined;
  const path = `/${segments.join('/')}`;
  return {
    status: 403,
    headers: { 'content-type': 'application/json', 'x-ms-substatus': '5300', 'x-ms-request-charge': '0' },
    body: JSON.stringify({
      code: 'Forbidden',
      message:
        `Request blocked by Auth local : The given request [${method} ${path}] cannot be authorized by AAD token in ` +
        'data plane. Learn more: https://aka.ms/cosmos-native-rbac.',
    }),
  };
}

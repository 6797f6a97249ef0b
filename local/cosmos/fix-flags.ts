/**
 * LOCAL_COSMOS_UNFIXED (comma list of replace, query, batch, patch, cursor, changefeed, batchpatch, limits, ttl, queryext, charges, indexpolicy, offers, scripts, restorets, indexprogress, entrascripts) switches fixes off, only to show that the
 * tests fail without them.
 */
export type Fix =
  | 'replace'
  | 'query'
  | 'batch'
  | 'patch'
  | 'cursor'
  | 'changefeed'
  | 'batchpatch'
  | 'limits'
  | 'ttl'
  | 'queryext'
  | 'charges'
  | 'indexpolicy'
  | 'offers'
  | 'scripts'
  | 'restorets'
  | 'indexprogress'
  | 'entrascripts';

export function fixEnabled(fix: Fix): boolean {
  const off = (process.env.LOCAL_COSMOS_UNFIXED ?? '').split(',').map((s) => s.trim());
  return !off.includes(fix);
}

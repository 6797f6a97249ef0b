/**
 * The restore permission. Reading restorable resources needs `Microsoft.DocumentDB/locations/restorableDatabaseAccounts/read`
 * (or `.../*`), an in-account restore also `.../restorableDatabaseAccounts/restore/action` on the source. An identity
 * without them gets ARM's 403 in the envelope shape: `AuthorizationFailed` for the read, and `LinkedAuthorizationFailed`
 * for a container PUT whose restore source it may not use (the container write itself is allowed).
 */
import { armError } from './http';
import type { AccountState } from './state';

const PRINCIPAL = '00000000-0000-4000-8000-00000000c0de';

export function requireRestoreRead(state: AccountState, scope: string): void {
  if (state.restorePermission) return;
  throw armError(
    403,
    'AuthorizationFailed',
    `The client '${PRINCIPAL}' with object id '${PRINCIPAL}' does not have authorization to perform action ` +
      `'Microsoft.DocumentDB/locations/restorableDatabaseAccounts/read' over scope '${scope}' or the scope is invalid. ` +
      'If access was recently granted, please refresh your credentials.'
  );
}

export function requireRestoreAction(state: AccountState): void {
  if (state.restorePermission) return;
  throw armError(
    403,
    'LinkedAuthorizationFailed',
    `The client '${PRINCIPAL}' has permission to perform action 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/write' ` +
      `on scope '${state.accountId}'; however, it does not have permission to perform action ` +
      `'Microsoft.DocumentDB/locations/restorableDatabaseAccounts/restore/action' on the linked scope(s) '${state.restorableAccountId}' ` +
      'or the linked scope(s) are invalid.'
  );
}

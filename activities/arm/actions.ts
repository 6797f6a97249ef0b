/**
 * The one list of the Azure Resource Manager actions the activities call (through @azure/arm-cosmosdb), with the
 * requests that need each and the strategy sets that call them. The custom role definitions (JSON and Bicep, one per
 * set: scripts/roles.ts writes docs/roles/) are generated from it, and test/local/arm-actions.test.ts checks it
 * against the requests the activities actually send to the ARM imitation.
 *
 * Action names: https://learn.microsoft.com/azure/role-based-access-control/permissions/databases#microsoftdocumentdb
 */

/** migration: every run; restore: rollback by point-in-time restore; drill: the restore drill into a new account. */
export type StrategySet = 'migration' | 'restore' | 'drill';

export interface ArmAction {
  action: string;
  /** What the activities do with it. */
  why: string;
  /** The requests (method, path under /subscriptions/…) that need it; none for a linked action (below). */
  requests: { method: string; path: RegExp }[];
  /**
   * Checked by ARM on another resource than the one requested (a restore's source: LinkedAuthorizationFailed),
   * so no request of its own matches it.
   */
  linked?: boolean;
  sets: StrategySet[];
}

const ACCOUNT = String.raw`/resourceGroups/[^/]+/providers/Microsoft\.DocumentDB/databaseAccounts/[^/]+`;
const DATABASE = String.raw`${ACCOUNT}/sqlDatabases/[^/]+`;
const CONTAINER = String.raw`${DATABASE}/containers/[^/]+`;
const LOCATION = String.raw`/providers/Microsoft\.DocumentDB/locations/[^/]+`;
const RESTORABLE = String.raw`${LOCATION}/restorableDatabaseAccounts/[^/]+`;

const path = (pattern: string) => new RegExp(String.raw`^/subscriptions/[^/]+${pattern}$`, 'i');
const ALL: StrategySet[] = ['migration', 'restore', 'drill'];

export const ARM_ACTIONS: ArmAction[] = [
  {
    action: 'Microsoft.DocumentDB/databaseAccounts/read',
    why: 'the backup policy, priority-based execution and locations of the account (preflight, the restore proof)',
    requests: [{ method: 'GET', path: path(ACCOUNT) }],
    sets: ALL,
  },
  {
    action: 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/read',
    why: 'the database of a container step, the history and lease containers, the restore proof',
    requests: [
      { method: 'GET', path: path(DATABASE) },
      { method: 'GET', path: path(`${ACCOUNT}/sqlDatabases`) },
    ],
    sets: ALL,
  },
  {
    action: 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/write',
    why: 'creates the database of the history and lease containers, or of a container step, when missing',
    requests: [{ method: 'PUT', path: path(DATABASE) }],
    sets: ALL,
  },
  {
    action: 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/throughputSettings/read',
    why: "the database's shared throughput (the restore proof: what a restored container lands in)",
    requests: [{ method: 'GET', path: path(`${DATABASE}/throughputSettings/default`) }],
    sets: ['restore', 'drill'],
  },
  {
    action: 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/read',
    why: "the container's properties before the run (export), after a step, and the containers of a database",
    requests: [
      { method: 'GET', path: path(CONTAINER) },
      { method: 'GET', path: path(`${DATABASE}/containers`) },
    ],
    sets: ALL,
  },
  {
    action: 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/write',
    why: 'container steps (create, indexing policy), the history, lease and pre-image containers, the restore PUT',
    requests: [{ method: 'PUT', path: path(CONTAINER) }],
    sets: ALL,
  },
  {
    action: 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/throughputSettings/read',
    why: "the container's throughput before the run (export), to put it back on rollback",
    requests: [{ method: 'GET', path: path(`${CONTAINER}/throughputSettings/default`) }],
    sets: ALL,
  },
  {
    action: 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/throughputSettings/write',
    why: "a container step's throughput, and putting it back",
    requests: [{ method: 'PUT', path: path(`${CONTAINER}/throughputSettings/default`) }],
    sets: ALL,
  },
  {
    action:
      'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/throughputSettings/migrateToAutoscale/action',
    why: 'a restored container that had autoscale throughput gets autoscale back (the mode changes only this way)',
    requests: [{ method: 'POST', path: path(`${CONTAINER}/throughputSettings/default/migrateToAutoscale`) }],
    sets: ['restore'],
  },
  {
    action:
      'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/throughputSettings/migrateToManualThroughput/action',
    why: 'a restored container that had manual throughput gets manual throughput back',
    requests: [{ method: 'POST', path: path(`${CONTAINER}/throughputSettings/default/migrateToManualThroughput`) }],
    sets: ['restore'],
  },
  {
    action: 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/storedProcedures/read',
    why: 'the stored procedures exported in preflight, when the data plane refuses an Entra identity scripts',
    requests: [
      { method: 'GET', path: path(`${CONTAINER}/storedProcedures`) },
      // The SDK reads the script back once its PUT's long-running operation ends (core-lro's final GET).
      { method: 'GET', path: path(`${CONTAINER}/storedProcedures/[^/]+`) },
    ],
    sets: ALL,
  },
  {
    action: 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/storedProcedures/write',
    why: 're-creates the stored procedures after an in-place restore (Azure does not restore them), through ARM for Entra',
    requests: [{ method: 'PUT', path: path(`${CONTAINER}/storedProcedures/[^/]+`) }],
    sets: ['restore'],
  },
  {
    action: 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/triggers/read',
    why: 'the triggers exported in preflight, when the data plane refuses an Entra identity scripts',
    requests: [
      { method: 'GET', path: path(`${CONTAINER}/triggers`) },
      // The SDK reads the script back once its PUT's long-running operation ends (core-lro's final GET).
      { method: 'GET', path: path(`${CONTAINER}/triggers/[^/]+`) },
    ],
    sets: ALL,
  },
  {
    action: 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/triggers/write',
    why: 're-creates the triggers after an in-place restore (Azure does not restore them), through ARM for Entra',
    requests: [{ method: 'PUT', path: path(`${CONTAINER}/triggers/[^/]+`) }],
    sets: ['restore'],
  },
  {
    action: 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/userDefinedFunctions/read',
    why: 'the user-defined functions exported in preflight, when the data plane refuses an Entra identity scripts',
    requests: [
      { method: 'GET', path: path(`${CONTAINER}/userDefinedFunctions`) },
      // The SDK reads the script back once its PUT's long-running operation ends (core-lro's final GET).
      { method: 'GET', path: path(`${CONTAINER}/userDefinedFunctions/[^/]+`) },
    ],
    sets: ALL,
  },
  {
    action: 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/userDefinedFunctions/write',
    why: 're-creates the user-defined functions after an in-place restore, through ARM for Entra',
    requests: [{ method: 'PUT', path: path(`${CONTAINER}/userDefinedFunctions/[^/]+`) }],
    sets: ['restore'],
  },
  {
    action: 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/retrieveContinuousBackupInformation/action',
    why: "the container's latest restorable time (T0 reached before a restore)",
    requests: [{ method: 'POST', path: path(`${CONTAINER}/retrieveContinuousBackupInformation`) }],
    sets: ['restore', 'drill'],
  },
  {
    action: 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/delete',
    why: 'rollback by in-place restore deletes the container before restoring it (after the proof and consent)',
    requests: [{ method: 'DELETE', path: path(CONTAINER) }],
    sets: ['restore'],
  },
  {
    action: 'Microsoft.DocumentDB/locations/restorableDatabaseAccounts/read',
    why: "the account's restorable twin and restore window (preflight), the restore source",
    requests: [
      { method: 'GET', path: path(RESTORABLE) },
      { method: 'GET', path: path(`${LOCATION}/restorableDatabaseAccounts`) },
    ],
    sets: ALL,
  },
  {
    action: 'Microsoft.DocumentDB/locations/restorableDatabaseAccounts/*/read',
    why: 'the restorable databases, containers and resources at T0 (the restore proof, the drill)',
    requests: [
      { method: 'GET', path: path(`${RESTORABLE}/restorableSqlDatabases`) },
      { method: 'GET', path: path(`${RESTORABLE}/restorableSqlContainers`) },
      { method: 'GET', path: path(`${RESTORABLE}/restorableSqlResources`) },
    ],
    sets: ['restore', 'drill'],
  },
  {
    action: 'Microsoft.DocumentDB/locations/restorableDatabaseAccounts/restore/action',
    why: 'restoring from the restorable account (checked on it, as a linked scope, when the container PUT restores)',
    requests: [],
    linked: true,
    sets: ['restore', 'drill'],
  },
  {
    action: 'Microsoft.DocumentDB/locations/operationsStatus/read',
    why: 'polling every long-running ARM operation (Azure-AsyncOperation)',
    requests: [{ method: 'GET', path: path(`${LOCATION}/operationsStatus/[^/]+`) }],
    sets: ALL,
  },
  {
    action: 'Microsoft.DocumentDB/locations/operationResults/read',
    why: "reading a long-running operation's result (Location)",
    requests: [{ method: 'GET', path: new RegExp(String.raw`^/subscriptions/[^/]+/.*/operationResults/[^/]+$`, 'i') }],
    sets: ALL,
  },
  {
    action: 'Microsoft.DocumentDB/databaseAccounts/write',
    why: 'the drill restores into a new account (an account PUT with createMode Restore)',
    requests: [{ method: 'PUT', path: path(ACCOUNT) }],
    sets: ['drill'],
  },
  {
    action: 'Microsoft.DocumentDB/databaseAccounts/listKeys/action',
    why: "the drill's new account, read with a key when the worker uses keys (Entra ID: not called)",
    requests: [{ method: 'POST', path: path(`${ACCOUNT}/listKeys`) }],
    sets: ['drill'],
  },
  {
    action: 'Microsoft.DocumentDB/databaseAccounts/delete',
    why: 'the drill deletes the account it restored into',
    requests: [{ method: 'DELETE', path: path(ACCOUNT) }],
    sets: ['drill'],
  },
];

/** The actions of one strategy set: migration only; with restore (migration + restore); with drill (all). */
export function actionsFor(set: 'migration' | 'with-restore' | 'with-drill'): string[] {
  const wanted: StrategySet[] =
    set === 'migration'
      ? ['migration']
      : set === 'with-restore'
        ? ['migration', 'restore']
        : ['migration', 'restore', 'drill'];
  return ARM_ACTIONS.filter((a) => a.sets.some((s) => wanted.includes(s))).map((a) => a.action);
}

/** The listed action a request needs, or undefined (a call the list lacks). */
export function actionOf(request: { method: string; path: string }): string | undefined {
  return ARM_ACTIONS.find((a) => a.requests.some((r) => r.method === request.method && r.path.test(request.path)))
    ?.action;
}

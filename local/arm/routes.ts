/**
 * The endpoints of the imitation. Templates use `{name}` for one path segment and `{...name}` for several; literal
 * segments match case-insensitively (ARM treats resource types and providers so).
 */
import type { Handler } from './context';
import { deleteAccount, getAccount, listKeys, putAccount } from './restored-accounts';
import { patchAccount } from './account-update';
import { deleteDatabase, getDatabase, getDatabaseThroughput, listDatabases, putDatabase } from './databases';
import { deleteContainer, getContainer, listContainers, putContainer } from './containers';
import { getContainerThroughput, migrateContainerThroughput, putContainerThroughput } from './throughput';
import { retrieveContinuousBackupInformation } from './backup-info';
import { scriptRoutes } from './scripts';
import { getOperationResult, getOperationStatus } from './operation-status';
import {
  getRestorableAccount,
  listRestorableAccounts,
  listRestorableAccountsByLocation,
  listRestorableSqlContainers,
  listRestorableSqlDatabases,
  listRestorableSqlResources,
} from './restorable';

const SUB = '/subscriptions/{sub}';
const PROVIDER = `${SUB}/providers/Microsoft.DocumentDB`;
const ACCOUNT = `${SUB}/resourceGroups/{rg}/providers/Microsoft.DocumentDB/databaseAccounts/{account}`;
const DATABASE = `${ACCOUNT}/sqlDatabases/{db}`;
const CONTAINER = `${DATABASE}/containers/{container}`;
const RESTORABLE = `${PROVIDER}/locations/{location}/restorableDatabaseAccounts/{instanceId}`;

const TABLE: [method: string, template: string, handler: Handler][] = [
  ['GET', ACCOUNT, getAccount],
  ['PUT', ACCOUNT, putAccount],
  ['PATCH', ACCOUNT, patchAccount],
  ['DELETE', ACCOUNT, deleteAccount],
  ['POST', `${ACCOUNT}/listKeys`, listKeys],
  ['GET', `${ACCOUNT}/sqlDatabases`, listDatabases],
  ['GET', DATABASE, getDatabase],
  ['PUT', DATABASE, putDatabase],
  ['DELETE', DATABASE, deleteDatabase],
  ['GET', `${DATABASE}/throughputSettings/default`, getDatabaseThroughput],
  ['GET', `${DATABASE}/containers`, listContainers],
  ['GET', CONTAINER, getContainer],
  ['PUT', CONTAINER, putContainer],
  ['DELETE', CONTAINER, deleteContainer],
  ['GET', `${CONTAINER}/throughputSettings/default`, getContainerThroughput],
  ['PUT', `${CONTAINER}/throughputSettings/default`, putContainerThroughput],
  ['POST', `${CONTAINER}/throughputSettings/default/migrateToAutoscale`, migrateContainerThroughput('autoscale')],
  ['POST', `${CONTAINER}/throughputSettings/default/migrateToManualThroughput`, migrateContainerThroughput('manual')],
  ['POST', `${CONTAINER}/retrieveContinuousBackupInformation`, retrieveContinuousBackupInformation],
  ...scriptRoutes(CONTAINER),
  ['GET', `${PROVIDER}/locations/{location}/operationsStatus/{operationId}`, getOperationStatus],
  ['GET', `${SUB}/{...resource}/operationResults/{operationId}`, getOperationResult],
  ['GET', `${PROVIDER}/restorableDatabaseAccounts`, listRestorableAccounts],
  ['GET', `${PROVIDER}/locations/{location}/restorableDatabaseAccounts`, listRestorableAccountsByLocation],
  ['GET', RESTORABLE, getRestorableAccount],
  ['GET', `${RESTORABLE}/restorableSqlDatabases`, listRestorableSqlDatabases],
  ['GET', `${RESTORABLE}/restorableSqlContainers`, listRestorableSqlContainers],
  ['GET', `${RESTORABLE}/restorableSqlResources`, listRestorableSqlResources],
];

/** Handlers of the account resource itself: they serve (or refuse) any account name, not only the imitation's own. */
const ACCOUNT_LEVEL = new Set<Handler>([getAccount, putAccount, patchAccount, deleteAccount, listKeys]);

export function isAccountLevel(handler: Handler): boolean {
  return ACCOUNT_LEVEL.has(handler);
}

interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  handler: Handler;
}

function compile([method, template, handler]: (typeof TABLE)[number]): Route {
  const names: string[] = [];
  const source = template
    .split('/')
    .map((segment) => {
      const many = /^\{\.\.\.(\w+)\}$/.exec(segment);
      const one = /^\{(\w+)\}$/.exec(segment);
      if (many?.[1]) names.push(many[1]);
      else if (one?.[1]) names.push(one[1]);
      if (many) return '(.+)';
      if (one) return '([^/]+)';
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { method, pattern: new RegExp(`^${source}/?$`, 'i'), names, handler };
}

const ROUTES = TABLE.map(compile);

export type RouteMatch = { handler: Handler; params: Record<string, string> } | { methodNotAllowed: true } | undefined;

export function matchRoute(method: string, path: string): RouteMatch {
  let pathKnown = false;
  for (const route of ROUTES) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    if (route.method !== method) {
      pathKnown = true;
      continue;
    }
    const params: Record<string, string> = {};
    route.names.forEach((name, index) => {
      params[name] = decodeURIComponent(match[index + 1] ?? '');
    });
    return { handler: route.handler, params };
  }
  return pathKnown ? { methodNotAllowed: true } : undefined;
}

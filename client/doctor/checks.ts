/**
 * `migrate doctor`: what a first run needs, each checked with a harmless call (a read; nothing is created, changed or
 * deleted), each answered with ok, or the problem and the fix. The checks run in order and a check whose ground is
 * missing (no Temporal connection, no Azure settings) says so instead of failing on something else.
 */
import type { CosmosDBManagementClient, DatabaseAccountGetResults } from '@azure/arm-cosmosdb';
import type { CosmosClient } from '@azure/cosmos';
import type { Client } from '@temporalio/client';
import { createArmClient, createCosmosClient } from '../../activities/clients';
import { findRestoreSource } from '../../activities/arm/backup';
import { RUNBOOK_SEARCH_ATTRIBUTES } from '../../common/search-attributes';
import type { ClientConfig } from '../config';
import { workerCommand } from '../format';

export type Verdict = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  check: string;
  verdict: Verdict;
  /** What was found (ok), or what is wrong. */
  detail: string;
  /** What to do about it (absent when ok). */
  fix?: string;
}

/** The tier a run requires unless its input says otherwise (common/runbook-input.ts minimumBackupTier). */
const DEFAULT_MINIMUM_TIER = 'Continuous30Days';
/** Temporal's INDEXED_VALUE_TYPE_KEYWORD (temporal/api/enums/v1/common.proto). */
const KEYWORD = 2;

function why(err: unknown): string {
  const e = err as { statusCode?: number; code?: string; message?: string };
  const first = (e.message ?? String(err)).split('\n')[0]!.trim();
  return e.statusCode ? `${e.statusCode} ${e.code ?? ''}: ${first}`.replace(/\s+:/, ':') : first;
}

export interface DoctorGround {
  config: ClientConfig;
  /** A Temporal client, or why there is none. */
  temporal: Client | Error;
}

/** Every check, in order. */
export async function runChecks(ground: DoctorGround): Promise<CheckResult[]> {
  const { config, temporal } = ground;
  const results: CheckResult[] = [];
  const add = (r: CheckResult) => results.push(r);
  const azure = config.azure;

  add(
    azure
      ? { check: 'configuration', verdict: 'ok', detail: `account ${azure.account} in ${azure.resourceGroup}` }
      : {
          check: 'configuration',
          verdict: 'fail',
          detail: 'the Azure account is not configured (the worker needs it)',
          fix: 'set COSMOS_ENDPOINT, AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP and COSMOS_ACCOUNT (README, Configuration)',
        }
  );

  // Temporal: the connection, the namespace, the search attributes, the workers.
  const { address, namespace, taskQueue } = config.temporal;
  if (temporal instanceof Error) {
    add({
      check: 'temporal',
      verdict: 'fail',
      detail: temporal.message,
      fix: 'set TEMPORAL_ADDRESS (and TLS or an API key)',
    });
  } else {
    add(await temporalCheck(temporal, address, namespace));
    add(await searchAttributesCheck(temporal, namespace));
    add(await workersCheck(temporal, taskQueue));
  }
  if (!azure) return results;

  const cosmos = createCosmosClient(azure);
  try {
    add(await cosmosCheck(cosmos, azure.cosmosEndpoint));
  } finally {
    cosmos.dispose();
  }
  const arm = createArmClient(azure);
  let account: DatabaseAccountGetResults | undefined;
  try {
    account = await arm.databaseAccounts.get(azure.resourceGroup, azure.account);
    add({
      check: 'arm: read the account',
      verdict: 'ok',
      detail: `Microsoft.DocumentDB/databaseAccounts/read on ${azure.account}`,
    });
  } catch (err) {
    add({
      check: 'arm: read the account',
      verdict: 'fail',
      detail: why(err),
      fix:
        'grant the worker identity Microsoft.DocumentDB/databaseAccounts/read on the account (docs/production.md, roles), ' +
        'and check AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP, COSMOS_ACCOUNT',
    });
  }
  if (!account) return results;
  add(backupCheck(account, azure.account, azure.resourceGroup));
  add(priorityCheck(account, azure.account, azure.resourceGroup));
  add(await restorableCheck(arm, account));
  add(await listCheck(arm, azure.resourceGroup, azure.account, config.database));
  return results;
}

async function temporalCheck(client: Client, address: string, namespace: string): Promise<CheckResult> {
  try {
    await client.workflowService.describeNamespace({ namespace });
    return { check: 'temporal', verdict: 'ok', detail: `${address}, namespace ${namespace}` };
  } catch (err) {
    return {
      check: 'temporal',
      verdict: 'fail',
      detail: `${address}: ${why(err)}`,
      fix: `create the namespace ${namespace}, or set TEMPORAL_NAMESPACE to one that exists`,
    };
  }
}

async function searchAttributesCheck(client: Client, namespace: string): Promise<CheckResult> {
  try {
    const { customAttributes } = await client.connection.operatorService.listSearchAttributes({ namespace });
    const missing = RUNBOOK_SEARCH_ATTRIBUTES.filter((key) => Number(customAttributes?.[key.name]) !== KEYWORD);
    if (!missing.length) {
      return {
        check: 'search attributes',
        verdict: 'ok',
        detail: RUNBOOK_SEARCH_ATTRIBUTES.map((k) => k.name).join(', '),
      };
    }
    return {
      check: 'search attributes',
      verdict: 'fail',
      detail: `missing (Keyword): ${missing.map((k) => k.name).join(', ')}`,
      fix: missing
        .map(
          (k) => `temporal operator search-attribute create --namespace ${namespace} --name ${k.name} --type Keyword`
        )
        .join('; '),
    };
  } catch (err) {
    return {
      check: 'search attributes',
      verdict: 'fail',
      detail: why(err),
      fix: 'on Temporal Cloud, add MigrationId, MigrationPhase, CosmosContainer (Keyword) to the namespace in the Cloud UI or tcld',
    };
  }
}

async function workersCheck(client: Client, taskQueue: string): Promise<CheckResult> {
  try {
    const [workflow, activity] = await Promise.all(
      [1, 2].map((taskQueueType) =>
        client.workflowService.describeTaskQueue({
          namespace: client.options.namespace,
          taskQueue: { name: taskQueue },
          taskQueueType, // TASK_QUEUE_TYPE_WORKFLOW, TASK_QUEUE_TYPE_ACTIVITY
        })
      )
    );
    const identities = new Set([...(workflow?.pollers ?? []), ...(activity?.pollers ?? [])].map((p) => p.identity));
    if (identities.size && workflow?.pollers?.length && activity?.pollers?.length) {
      return { check: 'workers', verdict: 'ok', detail: `${identities.size} polling task queue ${taskQueue}` };
    }
    return {
      check: 'workers',
      verdict: 'fail',
      detail: `no worker polls task queue ${taskQueue}: a run would wait`,
      fix: `start one: \`${workerCommand()}\` (with TEMPORAL_TASK_QUEUE=${taskQueue})`,
    };
  } catch (err) {
    return { check: 'workers', verdict: 'fail', detail: why(err), fix: 'check the Temporal connection above' };
  }
}

async function cosmosCheck(cosmos: CosmosClient, endpoint: string): Promise<CheckResult> {
  try {
    const { resource } = await cosmos.getDatabaseAccount();
    // A data-plane read that needs the identity's data role (or the key): list the databases (one page).
    await cosmos.databases.readAll({ maxItemCount: 1 }).fetchNext();
    const regions = (resource?.readableLocations ?? []).map((l) => l.name).join(', ');
    return { check: 'cosmos db', verdict: 'ok', detail: `${endpoint}${regions ? ` (regions: ${regions})` : ''}` };
  } catch (err) {
    return {
      check: 'cosmos db',
      verdict: 'fail',
      detail: `${endpoint}: ${why(err)}`,
      fix:
        'check COSMOS_ENDPOINT; without COSMOS_KEY, give the worker identity a Cosmos DB data-plane role ' +
        '(Cosmos DB Built-in Data Contributor) on the account (docs/production.md)',
    };
  }
}

function backupCheck(account: DatabaseAccountGetResults, name: string, rg: string): CheckResult {
  const policy = account.backupPolicy as { type?: string; continuousModeProperties?: { tier?: string } } | undefined;
  if (policy?.type !== 'Continuous') {
    return {
      check: 'backup policy',
      verdict: 'fail',
      detail: `${policy?.type ?? 'no'} backup: no point-in-time restore of a container (rollback by restore, drills)`,
      fix: `az cosmosdb update --name ${name} --resource-group ${rg} --backup-policy-type Continuous --continuous-tier ${DEFAULT_MINIMUM_TIER}`,
    };
  }
  const tier = policy.continuousModeProperties?.tier ?? 'Continuous30Days';
  if (tier !== DEFAULT_MINIMUM_TIER) {
    return {
      check: 'backup policy',
      verdict: 'warn',
      detail: `Continuous, ${tier}: runs refuse it unless their input sets minimumBackupTier "${tier}"`,
      fix: `az cosmosdb update --name ${name} --resource-group ${rg} --continuous-tier ${DEFAULT_MINIMUM_TIER}`,
    };
  }
  return { check: 'backup policy', verdict: 'ok', detail: `Continuous, ${tier}` };
}

function priorityCheck(account: DatabaseAccountGetResults, name: string, rg: string): CheckResult {
  if (account.enablePriorityBasedExecution === true) {
    return {
      check: 'priority-based execution',
      verdict: 'ok',
      detail: "on: Azure throttles the migration's Low-priority requests before the application's",
    };
  }
  return {
    check: 'priority-based execution',
    verdict: 'warn',
    detail: "off: the migration's requests compete with the application's; the RU budget alone protects it",
    fix: `az cosmosdb update --name ${name} --resource-group ${rg} --enable-priority-based-execution true`,
  };
}

async function restorableCheck(
  arm: CosmosDBManagementClient,
  account: DatabaseAccountGetResults
): Promise<CheckResult> {
  const check = 'arm: restorable account';
  try {
    const source = await findRestoreSource(arm, account);
    if (!source) {
      return {
        check,
        verdict: 'fail',
        detail: `ARM lists no restorable account for instance ${account.instanceId}`,
        fix: 'continuous backup must be on (above); a new account is listed within minutes',
      };
    }
    return {
      check,
      verdict: 'ok',
      detail: `Microsoft.DocumentDB/locations/restorableDatabaseAccounts/read (${source.location}, oldest restorable ${source.oldestRestorableTime ?? '?'})`,
    };
  } catch (err) {
    return {
      check,
      verdict: 'fail',
      detail: why(err),
      fix:
        'grant Microsoft.DocumentDB/locations/restorableDatabaseAccounts/* (at subscription scope) for rollback by ' +
        'restore and drills, or run with rollback "down" only (docs/production.md, roles)',
    };
  }
}

async function listCheck(
  arm: CosmosDBManagementClient,
  rg: string,
  name: string,
  database: string | undefined
): Promise<CheckResult> {
  const check = 'arm: databases and containers';
  try {
    const databases: string[] = [];
    for await (const db of arm.sqlResources.listSqlDatabases(rg, name)) if (db.name) databases.push(db.name);
    const inspected = database ?? databases[0];
    let containers = 0;
    if (inspected) for await (const _ of arm.sqlResources.listSqlContainers(rg, name, inspected)) containers++;
    return {
      check,
      verdict: 'ok',
      detail:
        `sqlDatabases/read (${databases.length} database(s))` +
        (inspected ? `, sqlDatabases/containers/read (${containers} in ${inspected})` : ''),
    };
  } catch (err) {
    return {
      check,
      verdict: 'fail',
      detail: why(err),
      fix: 'grant Microsoft.DocumentDB/databaseAccounts/sqlDatabases/read and .../containers/read (docs/production.md, roles)',
    };
  }
}

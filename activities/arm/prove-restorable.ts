/**
 * proveRestorable: before a rollback deletes a container to restore it in place (docs/architecture.md §5, §7: "never
 * deletes what it has not proved it can restore"), ask ARM whether Azure can restore that container at T0, now:
 *
 * - restore-permission: a harmless read that needs the restore permission (the location's restorable accounts,
 *   `Microsoft.DocumentDB/locations/restorableDatabaseAccounts/read`) succeeds; 403 means the identity lacks it.
 * - continuous-backup: the account's backup policy is Continuous (periodic accounts cannot restore in place).
 * - parent-database: the database exists (a container is restored into its existing database).
 * - restore-window: T0 ≥ the account's oldest restorable time; the container existed at T0 (restorable resources at
 *   T0); T0 ≤ its latest restorable time (the latest backed-up time of the live container, or its deletion).
 * - dedicated-throughput: the container has throughput of its own; a container on its database's shared throughput
 *   is restorable only with the whole database.
 * - concurrent-restores: not provable before the delete, and said so. Azure runs at most three in-account restores
 *   per account at once, but ARM lists no restores in progress: a container listing never echoes `createMode`
 *   (https://github.com/Azure/azure-rest-api-specs/blob/main/specification/cosmos-db/resource-manager/Microsoft.DocumentDB/stable/2024-11-15/examples/CosmosDBSqlContainerList.json)
 *   and a container being restored is not listed. A restore refused for that reason is a 409 on its PUT, which
 *   restoreContainer turns into a retryable RestoreBusy (workflows/activities.ts: 20 attempts, about an hour, then
 *   rollback-failed, where `rollback` tries again): the deleted container stays restorable to T0 meanwhile.
 *
 * It works from the names and T0 alone when the container is gone (a retried rollback after a failed restore): whether
 * it exists is read from the restorable event feed, and nothing of the live container is read unless the feed says it
 * is alive. Nothing is changed. Each failed check is a sentence in `problems`; the workflow must not delete unless ok.
 */
import type { DatabaseAccountGetResults, RestorableDatabaseAccountGetResult } from '@azure/arm-cosmosdb';
import type {
  ProveRestorableInput,
  RestorabilityCheck,
  RestorabilityCheckName,
  RestorabilityProof,
} from '../../common/activities';
import type { ActivityDeps } from '../deps';
import { getAccount, writeLocation } from './backup';
import { isNotFound, readContainerThroughput } from './export';
import { collect, readContainerLife } from './restorable-feed';

/** Azure runs at most three in-account restores per account at once (Microsoft.DocumentDB REST API). */
export const CONCURRENT_RESTORE_LIMIT = 3;

type ProveDeps = Pick<ActivityDeps, 'arm' | 'account' | 'armPollIntervalMs'>;

function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number }).statusCode;
}

function isForbidden(err: unknown): boolean {
  return statusOf(err) === 403;
}

export async function proveRestorable(deps: ProveDeps, input: ProveRestorableInput): Promise<RestorabilityProof> {
  const { arm, account: ref } = deps;
  const where = `${input.database}/${input.container}`;
  const t0 = Date.parse(input.t0);
  const checks: RestorabilityCheck[] = [];
  const check = (name: RestorabilityCheckName, ok: boolean, detail: string) => checks.push({ name, ok, detail });
  const proof: RestorabilityProof = {
    ok: false,
    problems: [],
    checks,
    containerExists: false,
    restoreLimit: CONCURRENT_RESTORE_LIMIT,
    checkedAt: new Date().toISOString(),
  };
  const finish = (): RestorabilityProof => {
    proof.problems = checks.filter((c) => !c.ok).map((c) => c.detail);
    proof.ok = checks.length > 0 && proof.problems.length === 0;
    return proof;
  };
  if (Number.isNaN(t0)) {
    check('restore-window', false, `T0 ${JSON.stringify(input.t0)} is not an ISO date-time`);
    return finish();
  }

  const account = await getAccount(deps);
  const location = writeLocation(account);

  // (e) The permission: a read of the location's restorable accounts needs it, and changes nothing.
  let restorable: RestorableDatabaseAccountGetResult | undefined;
  let permitted = true;
  try {
    const listed = await collect(arm.restorableDatabaseAccounts.listByLocation(location));
    restorable = listed.find((candidate) => candidate.name === account.instanceId);
    check(
      'restore-permission',
      true,
      `the identity may read restorable accounts in ${location} (Microsoft.DocumentDB/locations/restorableDatabaseAccounts/read)`
    );
  } catch (err) {
    if (!isForbidden(err)) throw err;
    permitted = false;
    check(
      'restore-permission',
      false,
      `the identity lacks the restore permission: reading restorable accounts in ${location} was refused (403 ` +
        `${(err as { code?: string }).code ?? 'Forbidden'}). Grant it Microsoft.DocumentDB/locations/restorableDatabaseAccounts/* ` +
        `(read and restore/action), e.g. the "CosmosRestoreOperator" role, on the account's location`
    );
  }

  // (a) Continuous backup.
  const continuous = checkBackupPolicy(account, check, ref.name);

  // The parent database must exist for an in-account container restore.
  let databaseExists = true;
  try {
    await arm.sqlResources.getSqlDatabase(ref.resourceGroup, ref.name, input.database);
    check('parent-database', true, `database ${input.database} exists`);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    databaseExists = false;
    check(
      'parent-database',
      false,
      `database ${input.database} does not exist: a container is restored into its existing database; restore the database first`
    );
  }

  if (!permitted || !continuous) {
    const why = !continuous ? 'the account has no continuous backup' : 'the identity may not read restorable resources';
    check('restore-window', false, `the restore window of ${where} could not be checked: ${why}`);
  } else if (!restorable?.id || !account.instanceId) {
    check(
      'restore-window',
      false,
      `ARM lists no restorable account for ${ref.name} (instance ${account.instanceId}) in ${location}: nothing can be restored`
    );
  } else {
    proof.restoreSource = restorable.id;
    proof.oldestRestorableTime = restorable.oldestRestorableTime?.toISOString();
    await checkWindow(deps, input, location, account.instanceId, restorable, proof, check, t0);
  }
  if (!permitted || !continuous || !restorable?.id) {
    // Without the feed, ask ARM whether the container exists (a 404 is all it says of a deleted one).
    proof.containerExists = await containerExists(deps, input);
  }

  // (c) Throughput of its own, not the database's shared throughput.
  if (databaseExists) await checkThroughput(deps, input, proof, check);
  else check('dedicated-throughput', false, `the throughput of ${where} could not be checked: its database is gone`);

  // (d) Restores in progress in the account.
  checkConcurrentRestores(check);
  checkAccountState(account, check, ref.name);
  return finish();
}

/**
 * No account-level operation in progress: ARM's `provisioningState` of the account and of each of its regions is
 * `Succeeded` ('Updating' during a failover, a region added or removed, an update: DatabaseAccountGetResults and
 * Location in @azure/arm-cosmosdb dist/commonjs/models/index.d.ts). A restore started meanwhile may be refused after
 * the delete, so nothing is deleted then. A missing state counts as not Succeeded: ARM always returns it.
 */
function checkAccountState(
  account: DatabaseAccountGetResults,
  check: (name: RestorabilityCheckName, ok: boolean, detail: string) => void,
  name: string
): void {
  const busy = [
    ...(account.provisioningState !== 'Succeeded'
      ? [`account ${name} is ${account.provisioningState ?? 'in no known state'}`]
      : []),
    ...(account.locations ?? [])
      .filter((l) => l.provisioningState !== undefined && l.provisioningState !== 'Succeeded')
      .map((l) => `region ${l.locationName ?? l.id ?? '?'} is ${l.provisioningState}`),
  ];
  check(
    'account-state',
    busy.length === 0,
    busy.length === 0
      ? `account ${name} has no operation in progress (provisioningState Succeeded)`
      : `${busy.join(', ')}: an operation is in progress on the account (a failover, a region change, an update); ` +
          'wait until it has ended (provisioningState Succeeded) and roll back again'
  );
}

function checkBackupPolicy(
  account: DatabaseAccountGetResults,
  check: (name: RestorabilityCheckName, ok: boolean, detail: string) => void,
  name: string
): boolean {
  const policy = account.backupPolicy;
  if (policy?.type === 'Continuous') {
    const tier =
      (policy as { continuousModeProperties?: { tier?: string } }).continuousModeProperties?.tier ?? 'Continuous30Days';
    check('continuous-backup', true, `account ${name} has continuous backup (${tier})`);
    return true;
  }
  check(
    'continuous-backup',
    false,
    `account ${name} uses ${policy?.type ?? 'no'} backup: only accounts with continuous backup can restore a container in place`
  );
  return false;
}

async function containerExists(deps: ProveDeps, input: ProveRestorableInput): Promise<boolean> {
  try {
    await deps.arm.sqlResources.getSqlContainer(
      deps.account.resourceGroup,
      deps.account.name,
      input.database,
      input.container
    );
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

async function checkWindow(
  deps: ProveDeps,
  input: ProveRestorableInput,
  location: string,
  instanceId: string,
  restorable: RestorableDatabaseAccountGetResult,
  proof: RestorabilityProof,
  check: (name: RestorabilityCheckName, ok: boolean, detail: string) => void,
  t0: number
): Promise<void> {
  const { arm, account: ref } = deps;
  const where = `${input.database}/${input.container}`;
  const T0 = new Date(t0).toISOString();
  const oldest = restorable.oldestRestorableTime?.getTime();

  // Whether the container lives now, from the event feed of its database (found by its _rid, the ownerResourceId).
  const life = await readContainerLife(arm, location, instanceId, input.database, input.container);
  proof.containerExists = life.alive;

  // What existed at T0: the container must have (its restore brings back that instance).
  const atT0 = await collect(
    arm.restorableSqlResources.list(location, instanceId, { restoreLocation: location, restoreTimestampInUtc: T0 })
  );
  const existedAtT0 = atT0.some(
    (entry) => entry.databaseName === input.database && (entry.collectionNames ?? []).includes(input.container)
  );

  let latest: number | undefined;
  if (life.alive) {
    const info = await arm.sqlResources.beginRetrieveContinuousBackupInformationAndWait(
      ref.resourceGroup,
      ref.name,
      input.database,
      input.container,
      { location },
      { updateIntervalInMs: deps.armPollIntervalMs }
    );
    const text = info.continuousBackupInformation?.latestRestorableTimestamp;
    latest = text ? Date.parse(text) : undefined;
  } else if (life.deletedAt) {
    // A deleted container can be restored to any time before its deletion.
    latest = Date.parse(life.deletedAt);
  }
  if (latest !== undefined && !Number.isNaN(latest)) proof.latestRestorableTime = new Date(latest).toISOString();

  const problems: string[] = [];
  if (oldest === undefined) problems.push(`ARM reports no oldest restorable time for account ${ref.name}`);
  else if (t0 < oldest) {
    problems.push(
      `T0 ${T0} is before the oldest restorable time ${new Date(oldest).toISOString()} of account ${ref.name}: ` +
        'the backups of T0 are gone (the window is 7 or 30 days by tier)'
    );
  }
  if (t0 > Date.now()) problems.push(`T0 ${T0} is in the future`);
  if (!existedAtT0) {
    problems.push(
      `${where} did not exist at T0 ${T0} (restorable resources at T0 do not list it): there is nothing to restore`
    );
  }
  if (life.alive && (latest === undefined || Number.isNaN(latest) || latest === 0)) {
    problems.push(
      `ARM reports no latest restorable time for ${where} yet (a partition not backed up): try again later`
    );
  } else if (life.alive && latest !== undefined && latest < t0) {
    problems.push(
      `T0 ${T0} is after the latest restorable time ${new Date(latest).toISOString()} of ${where}: ` +
        'the backup has not reached T0 yet; wait for it (waitForRestorableTimestamp) and check again'
    );
  }
  if (!life.alive && !life.known) problems.push(`the restorable event feed has no events for ${where}`);
  check(
    'restore-window',
    problems.length === 0,
    problems.length === 0
      ? `T0 ${T0} is inside the restore window of ${where} [${proof.oldestRestorableTime}, ${proof.latestRestorableTime ?? 'now'}]`
      : problems.join('; ')
  );
}

async function readDatabaseThroughput(deps: ProveDeps, database: string): Promise<number | undefined> {
  try {
    const settings = await deps.arm.sqlResources.getSqlDatabaseThroughput(
      deps.account.resourceGroup,
      deps.account.name,
      database
    );
    const resource = settings.resource;
    return resource?.autoscaleSettings?.maxThroughput ?? resource?.throughput ?? undefined;
  } catch (err) {
    // 404: no shared throughput; 400: a serverless account has no throughput settings.
    const status = statusOf(err);
    if (status === 404 || status === 400) return undefined;
    throw err;
  }
}

async function checkThroughput(
  deps: ProveDeps,
  input: ProveRestorableInput,
  proof: RestorabilityProof,
  check: (name: RestorabilityCheckName, ok: boolean, detail: string) => void
): Promise<void> {
  const where = `${input.database}/${input.container}`;
  const shared = await readDatabaseThroughput(deps, input.database);
  if (shared === undefined) {
    check('dedicated-throughput', true, `database ${input.database} has no shared throughput`);
    return;
  }
  let own: number | undefined;
  let source: string;
  if (proof.containerExists) {
    own = await readContainerThroughput(deps, input);
    source = 'ARM';
  } else if (input.exported) {
    // Gone: what it had is what the export recorded before the run.
    own = input.exported.throughput;
    source = `the export of ${input.exported.exportedAt}`;
  } else {
    check(
      'dedicated-throughput',
      false,
      `database ${input.database} has shared throughput (${shared} RU/s) and ${where} no longer exists: whether it had ` +
        'throughput of its own cannot be told without its export; a container on shared throughput cannot be restored on its own'
    );
    return;
  }
  check(
    'dedicated-throughput',
    own !== undefined,
    own !== undefined
      ? `${where} has ${own} RU/s of its own (per ${source})`
      : `${where} uses the shared throughput of database ${input.database} (${shared} RU/s): Azure restores such a ` +
          'container only with its whole database; roll back another way (down, or a side-by-side restore)'
  );
}

function checkConcurrentRestores(check: (name: RestorabilityCheckName, ok: boolean, detail: string) => void): void {
  check(
    'concurrent-restores',
    true,
    `Azure runs at most ${CONCURRENT_RESTORE_LIMIT} restores per account at once and lists none in progress: a restore ` +
      'refused because others run is retried for about an hour, then the rollback stops for the operator (the deleted container stays restorable)'
  );
}

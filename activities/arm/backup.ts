/**
 * Backup verification (the manual runbook's checklist 1) and the restore point's readiness, through ARM:
 * - checkBackupPolicy: the account's backup policy must be Continuous with at least the configured tier; the restore
 *   window (oldest restorable time) and the restore source (the restorable account's ARM id) are recorded.
 * - waitForRestorableTimestamp: before a restore to T0, the container's latest restorable time must have reached T0.
 *   When the container is already deleted (a retried rollback), its backups end at its deletion, read from ARM's
 *   restorable events: T0 before the deletion is restorable at once.
 */
import { ErrorType } from '../../common/errors';
import { heartbeat, sleep } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { CosmosDBManagementClient, DatabaseAccountGetResults } from '@azure/arm-cosmosdb';
import type { BackupPolicyReport, BackupTier, ContainerRef } from '../../common/activities';
import type { ActivityDeps } from '../deps';
import { readContainerLife } from './restorable-feed';

const TIER_DAYS: Record<BackupTier, number> = { Continuous7Days: 7, Continuous30Days: 30 };

export interface RestoreSource {
  /** The account's write region, as ARM names it ("West US"). */
  location: string;
  instanceId: string;
  /** The restorable account's ARM id: what a restore's `restoreSource` names. */
  id: string;
  oldestRestorableTime?: string;
}

type ArmDeps = Pick<ActivityDeps, 'arm' | 'account' | 'armPollIntervalMs'>;

export function writeLocation(account: DatabaseAccountGetResults): string {
  const write = [...(account.writeLocations ?? [])].sort(
    (a, b) => (a.failoverPriority ?? 0) - (b.failoverPriority ?? 0)
  )[0];
  const location = write?.locationName ?? account.location;
  if (!location) throw new Error(`account ${account.name}: ARM reports no location`);
  return location;
}

/** The account's restorable twin (Microsoft.DocumentDB REST API), found by location and instance id; undefined when ARM has none. */
export async function findRestoreSource(
  arm: CosmosDBManagementClient,
  account: DatabaseAccountGetResults
): Promise<RestoreSource | undefined> {
  const location = writeLocation(account);
  const instanceId = account.instanceId;
  if (!instanceId) return undefined;
  let restorable;
  try {
    restorable = await arm.restorableDatabaseAccounts.getByLocation(location, instanceId);
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err;
    // Some regions only list: look the instance up in the location's list.
    for await (const candidate of arm.restorableDatabaseAccounts.listByLocation(location)) {
      if (candidate.name === instanceId) restorable = candidate;
    }
  }
  if (!restorable?.id) return undefined;
  return {
    location,
    instanceId,
    id: restorable.id,
    oldestRestorableTime: restorable.oldestRestorableTime?.toISOString(),
  };
}

export async function getAccount(deps: ArmDeps): Promise<DatabaseAccountGetResults> {
  return deps.arm.databaseAccounts.get(deps.account.resourceGroup, deps.account.name);
}

export function createBackupActivities(deps: ArmDeps) {
  const { arm, account: ref } = deps;

  async function checkBackupPolicy(input: { minimumTier: BackupTier }): Promise<BackupPolicyReport> {
    const account = await getAccount(deps);
    const policy = account.backupPolicy;
    const location = writeLocation(account);
    if (!policy || policy.type === 'Periodic') {
      const periodic = (
        policy as {
          periodicModeProperties?: { backupIntervalInMinutes?: number; backupRetentionIntervalInHours?: number };
        }
      )?.periodicModeProperties;
      const detail = periodic
        ? ` (a backup every ${periodic.backupIntervalInMinutes} min, kept ${periodic.backupRetentionIntervalInHours} h)`
        : '';
      return {
        type: 'Periodic',
        meetsMinimum: false,
        location,
        priorityBasedExecution: account.enablePriorityBasedExecution === true,
        reason:
          `account ${ref.name} uses Periodic backup${detail}: a point-in-time restore of one container is impossible. ` +
          `Switch the account to Continuous backup (${input.minimumTier}), or migrate with rollback "down" and a module that has down().`,
      };
    }
    const tier: BackupTier =
      (policy as { continuousModeProperties?: { tier?: BackupTier } }).continuousModeProperties?.tier ??
      'Continuous30Days';
    const source = await findRestoreSource(arm, account);
    const report: BackupPolicyReport = {
      type: 'Continuous',
      tier,
      meetsMinimum: TIER_DAYS[tier] >= TIER_DAYS[input.minimumTier],
      location,
      oldestRestorableTime: source?.oldestRestorableTime,
      restoreSource: source?.id,
      priorityBasedExecution: account.enablePriorityBasedExecution === true,
    };
    if (!report.meetsMinimum) {
      report.reason =
        `account ${ref.name} keeps continuous backups for ${TIER_DAYS[tier]} days (${tier}); ` +
        `the runbook requires ${input.minimumTier} (minimumBackupTier).`;
    } else if (!source) {
      report.meetsMinimum = false;
      report.reason = `account ${ref.name} has Continuous backup but ARM lists no restorable account for instance ${account.instanceId} in ${location}.`;
    }
    return report;
  }

  async function waitForRestorableTimestamp(
    input: ContainerRef & { timestamp: string }
  ): Promise<{ latestRestorableTimestamp: string }> {
    const account = await getAccount(deps);
    const location = writeLocation(account);
    const target = Date.parse(input.timestamp);
    // Bounded by the activity's start-to-close timeout; heartbeats carry the latest time seen.
    for (;;) {
      let info;
      try {
        info = await arm.sqlResources.beginRetrieveContinuousBackupInformationAndWait(
          ref.resourceGroup,
          ref.name,
          input.database,
          input.container,
          { location },
          { updateIntervalInMs: deps.armPollIntervalMs }
        );
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 404) throw err;
        // Gone (a retried rollback after the delete): its backups end at its deletion, which the feed records.
        return deletedContainerRestorableUntil(account, input, target);
      }
      const latest = info.continuousBackupInformation?.latestRestorableTimestamp;
      // The epoch means some partition is not backed up yet (Microsoft.DocumentDB REST API): keep waiting.
      if (latest && Date.parse(latest) >= target) return { latestRestorableTimestamp: latest };
      heartbeat({ latestRestorableTimestamp: latest });
      await sleep(Math.max(deps.armPollIntervalMs, 500));
    }
  }

  async function deletedContainerRestorableUntil(
    account: DatabaseAccountGetResults,
    input: ContainerRef & { timestamp: string },
    target: number
  ): Promise<{ latestRestorableTimestamp: string }> {
    const where = `${input.database}/${input.container}`;
    const source = await findRestoreSource(arm, account);
    const life = source
      ? await readContainerLife(arm, source.location, source.instanceId, input.database, input.container)
      : undefined;
    if (life && !life.alive && life.deletedAt && Date.parse(life.deletedAt) >= target) {
      return { latestRestorableTimestamp: life.deletedAt };
    }
    throw ApplicationFailure.nonRetryable(
      `container ${where} does not exist and ARM's restorable events do not show it deleted after ${input.timestamp}` +
        (life?.deletedAt ? ` (deleted at ${life.deletedAt})` : '') +
        ': it cannot be restored to that time',
      ErrorType.RestoreImpossible
    );
  }

  return { checkBackupPolicy, waitForRestorableTimestamp };
}

/**
 * The restore drill's copy: the container restored at T into a NEW account, side by side with the live one. Azure
 * restores a live container only that way (research/arm-cosmos-contract.md §8: "To restore live resources, target the
 * restore operation to a new account"; §9: `PUT databaseAccounts/{new}` with createMode Restore and
 * databasesToRestore naming the one container). The account is deleted once the copy is compared.
 *
 * Both activities refuse an account name without "drill" in it, and the worker's own account: a slip of the input
 * must never create over, or delete, a production account.
 */
import { heartbeat, sleep } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { CosmosClient } from '@azure/cosmos';
import type { DatabaseAccountCreateUpdateParameters, DatabaseAccountGetResults } from '@azure/arm-cosmosdb';
import type { DrillAccount, RestoreDrillAccountInput } from '../../common/activities';
import { ErrorType } from '../../common/errors';
import type { ActivityDeps } from '../deps';
import { findRestoreSource, getAccount, writeLocation } from '../arm/backup';
import { isNotFound } from '../arm/export';
import { failureMessage } from '../../common/failure-message';

type DrillDeps = Pick<ActivityDeps, 'arm' | 'account' | 'armPollIntervalMs' | 'connectAccount'>;

/** Refuses a name that is not a drill account's. */
export function requireDrillAccountName(deps: Pick<ActivityDeps, 'account'>, name: string): void {
  if (!/drill/i.test(name) || name.toLowerCase() === deps.account.name.toLowerCase()) {
    throw ApplicationFailure.nonRetryable(
      `refusing to use account ${name} for a restore drill: a drill account's name contains "drill" and is not the worker's account (${deps.account.name})`,
      ErrorType.InvalidInput
    );
  }
}

async function readAccount(deps: DrillDeps, name: string): Promise<DatabaseAccountGetResults | undefined> {
  try {
    return await deps.arm.databaseAccounts.get(deps.account.resourceGroup, name);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * Restores `database/container` at `at` into the new account `account` and waits until it is ready (heartbeating,
 * so a dead worker is noticed and the next attempt picks the same account up). Idempotent: an account this drill
 * already asked for (same source, same time) is waited for, not asked for again.
 */
export async function restoreDrillAccount(deps: DrillDeps, input: RestoreDrillAccountInput): Promise<DrillAccount> {
  requireDrillAccountName(deps, input.account);
  const where = `${input.database}/${input.container}`;
  const at = new Date(input.at);
  if (Number.isNaN(at.getTime())) {
    throw ApplicationFailure.nonRetryable(
      `restore drill of ${where}: ${input.at} is not an ISO time`,
      ErrorType.InvalidInput
    );
  }
  const source = await getAccount(deps);
  const restorable = await findRestoreSource(deps.arm, source);
  if (!restorable) {
    throw ApplicationFailure.nonRetryable(
      `account ${deps.account.name} has no restorable account in ARM: continuous backup is off, a drill is impossible`,
      ErrorType.RestoreImpossible
    );
  }
  let account = await readAccount(deps, input.account);
  if (account) {
    if (!isRestoreOf(account, restorable.id, at)) {
      throw ApplicationFailure.nonRetryable(
        `account ${input.account} exists and is not this drill's restore of ${deps.account.name} at ${at.toISOString()}; choose another drill account name`,
        ErrorType.ContainerExists
      );
    }
  } else {
    const location = writeLocation(source);
    const parameters: DatabaseAccountCreateUpdateParameters = {
      location,
      databaseAccountOfferType: 'Standard',
      locations: [{ locationName: location, failoverPriority: 0 }],
      createMode: 'Restore',
      restoreParameters: {
        restoreMode: 'PointInTime',
        restoreSource: restorable.id,
        restoreTimestampInUtc: at,
        databasesToRestore: [{ databaseName: input.database, collectionNames: [input.container] }],
      },
      ...(source.backupPolicy ? { backupPolicy: source.backupPolicy } : {}),
      // A restore does not bring network rules back: asked for with none, the copy (production data) would be open to
      // every network. It gets the source's, so it is never more reachable than the source.
      ...networkRulesOf(source),
    };
    try {
      await deps.arm.databaseAccounts.beginCreateOrUpdate(deps.account.resourceGroup, input.account, parameters, {
        updateIntervalInMs: deps.armPollIntervalMs,
      });
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      // 409: the name is taken (account names are global in Azure) or another operation holds it; no retry helps.
      if (status === 400 || status === 403 || status === 404 || status === 409) {
        throw ApplicationFailure.nonRetryable(
          `Azure refused to restore ${where} at ${at.toISOString()} into account ${input.account} (${status}): ${failureMessage(err)}`,
          ErrorType.RestoreImpossible
        );
      }
      throw err;
    }
  }
  // Wait on the account itself (not the poller): a new worker resumes by reading the same account.
  for (;;) {
    account = await readAccount(deps, input.account);
    const state = account?.provisioningState;
    heartbeat({ account: input.account, provisioningState: state ?? 'absent' });
    if (state === 'Succeeded' && account?.documentEndpoint) {
      return {
        account: input.account,
        documentEndpoint: account.documentEndpoint,
        restoredTo: at.toISOString(),
        readyAt: new Date().toISOString(),
      };
    }
    if (!account || state === 'Failed') {
      // What a drill is for: the restore did not work. Reported (and recorded) rather than retried for hours.
      throw ApplicationFailure.nonRetryable(
        `the restore of ${where} at ${at.toISOString()} into account ${input.account} ${account ? 'failed (provisioningState Failed)' : 'disappeared'}`,
        'RestoreFailed'
      );
    }
    await sleep(deps.armPollIntervalMs);
  }
}

/**
 * The source account's network rules, for its drill copy ("What is and isn't restored": firewall and virtual network
 * rules are not, https://learn.microsoft.com/azure/cosmos-db/continuous-backup-restore-introduction). Public network
 * access is Disabled unless the source has it: a source that reports none is treated as closed, never as open.
 */
export function networkRulesOf(
  source: DatabaseAccountGetResults
): Pick<
  DatabaseAccountCreateUpdateParameters,
  'publicNetworkAccess' | 'ipRules' | 'isVirtualNetworkFilterEnabled' | 'virtualNetworkRules' | 'networkAclBypass'
> {
  return {
    publicNetworkAccess: source.publicNetworkAccess ?? 'Disabled',
    ipRules: source.ipRules ?? [],
    isVirtualNetworkFilterEnabled: source.isVirtualNetworkFilterEnabled ?? false,
    virtualNetworkRules: source.virtualNetworkRules ?? [],
    ...(source.networkAclBypass ? { networkAclBypass: source.networkAclBypass } : {}),
  };
}

/** Whether `account` is a restore of the restorable account `source` at `at` (to the second): a drill's copy. */
function isRestoreOf(account: DatabaseAccountGetResults, source: string, at: Date): boolean {
  const asked = account.restoreParameters;
  return (
    account.createMode === 'Restore' &&
    asked?.restoreSource?.toLowerCase() === source.toLowerCase() &&
    asked.restoreTimestampInUtc !== undefined &&
    Math.abs(new Date(asked.restoreTimestampInUtc).getTime() - at.getTime()) < 1000
  );
}

/**
 * Deletes the drill account and waits until it is gone. Idempotent (an absent account is deleted). Only the copy this
 * drill asked for: an account of that name that is not a restore of the worker's account at `at` is refused, so a
 * drill whose restore was refused because the name was taken never deletes what holds the name.
 */
export async function deleteDrillAccount(
  deps: DrillDeps,
  input: { account: string; at: string }
): Promise<{ deleted: boolean }> {
  requireDrillAccountName(deps, input.account);
  const account = await readAccount(deps, input.account);
  if (!account) return { deleted: false };
  const restorable = await findRestoreSource(deps.arm, await getAccount(deps));
  if (!restorable || !isRestoreOf(account, restorable.id, new Date(input.at))) {
    throw ApplicationFailure.nonRetryable(
      `refusing to delete account ${input.account}: it is not the restore of ${deps.account.name} at ${input.at} this drill made`,
      ErrorType.InvalidInput
    );
  }
  const poller = await deps.arm.databaseAccounts.beginDelete(deps.account.resourceGroup, input.account, {
    updateIntervalInMs: deps.armPollIntervalMs,
  });
  while (!poller.isDone()) {
    heartbeat({ deleting: input.account });
    await sleep(deps.armPollIntervalMs);
    await poller.poll();
  }
  await poller.pollUntilDone();
  return { deleted: true };
}

/** A data-plane client of the drill account: its endpoint from ARM, the worker's way of authenticating. */
export async function connectDrillAccount(deps: DrillDeps, name: string): Promise<CosmosClient> {
  requireDrillAccountName(deps, name);
  const account = await readAccount(deps, name);
  if (!account?.documentEndpoint || account.provisioningState !== 'Succeeded') {
    throw ApplicationFailure.nonRetryable(
      `the drill account ${name} is not ready (${account?.provisioningState ?? 'absent'})`,
      ErrorType.RestoreImpossible
    );
  }
  if (!deps.connectAccount) {
    throw ApplicationFailure.nonRetryable(
      'this worker cannot connect to another account (no connectAccount in its dependencies)',
      ErrorType.InvalidInput
    );
  }
  return deps.connectAccount({
    documentEndpoint: account.documentEndpoint,
    listKeys: async () => {
      const keys = await deps.arm.databaseAccounts.listKeys(deps.account.resourceGroup, name);
      if (!keys.primaryMasterKey) throw new Error(`ARM returned no key for account ${name}`);
      return keys.primaryMasterKey;
    },
  });
}

/** The database account (contract §2) and its restorable-account twin (§5.1). */
import type { RequestContext } from './context';
import type { AccountState } from './state';
import type { Reply } from './http';
import { stableGuid } from './ids';

function regionEntry(state: AccountState) {
  return {
    id: `${state.account}-${state.region}`,
    locationName: state.location,
    documentEndpoint: state.cosmos.endpoint,
    provisioningState: 'Succeeded',
    failoverPriority: 0,
    isZoneRedundant: false,
  };
}

function backupPolicyBody(state: AccountState): Record<string, unknown> {
  if (state.backupPolicy.type === 'Periodic') {
    return {
      type: 'Periodic',
      periodicModeProperties: {
        backupIntervalInMinutes: 240,
        backupRetentionIntervalInHours: 8,
        backupStorageRedundancy: 'Geo',
      },
    };
  }
  return { type: 'Continuous', continuousModeProperties: { tier: state.tier() } };
}

export function accountBody(state: AccountState): Record<string, unknown> {
  const region = regionEntry(state);
  return {
    id: state.accountId,
    name: state.account,
    type: 'Microsoft.DocumentDB/databaseAccounts',
    location: state.location,
    kind: 'GlobalDocumentDB',
    tags: {},
    systemData: { createdAt: state.creationTime().toISOString() },
    identity: { type: 'None' },
    properties: {
      provisioningState: 'Succeeded',
      documentEndpoint: state.cosmos.endpoint,
      databaseAccountOfferType: 'Standard',
      instanceId: state.instanceId,
      createMode: 'Default',
      consistencyPolicy: { defaultConsistencyLevel: 'Session', maxIntervalInSeconds: 5, maxStalenessPrefix: 100 },
      writeLocations: [region],
      readLocations: [region],
      locations: [region],
      failoverPolicies: [{ id: region.id, locationName: state.location, failoverPriority: 0 }],
      capabilities: [],
      ipRules: [],
      cors: [],
      virtualNetworkRules: [],
      enableAutomaticFailover: false,
      enableMultipleWriteLocations: false,
      publicNetworkAccess: 'Enabled',
      backupPolicy: backupPolicyBody(state),
    },
  };
}

export async function getAccount(ctx: RequestContext): Promise<Reply> {
  return { status: 200, body: accountBody(ctx.state) };
}

/** Only continuous-mode accounts are restorable, so a periodic account is absent from the restorable lists. */
export function restorableAccountBody(state: AccountState): Record<string, unknown> {
  const creationTime = state.creationTime().toISOString();
  return {
    id: state.restorableAccountId,
    name: state.instanceId,
    location: state.location,
    type: 'Microsoft.DocumentDB/locations/restorableDatabaseAccounts',
    properties: {
      accountName: state.account,
      apiType: 'Sql',
      creationTime,
      oldestRestorableTime: state.restoreWindow().oldest.toISOString(),
      restorableLocations: [
        {
          locationName: state.location,
          regionalDatabaseAccountInstanceId: stableGuid(`${state.instanceId}/${state.region}`),
          creationTime,
        },
      ],
    },
  };
}

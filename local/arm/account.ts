/** The database account (Microsoft.DocumentDB REST API) and its restorable-account twin (§5.1). */
import type { AccountState } from './state';
import { stableGuid } from './ids';
import type { NetworkRules } from './network';

import type { RestoredAccount } from './restored-accounts';

/** What an account body needs: the imitation's own account, or one it made by a restore (Microsoft.DocumentDB REST API). */
interface AccountView {
  name: string;
  instanceId: string;
  createdAt: Date;
  provisioningState: string;
  documentEndpoint: string;
  createMode: 'Default' | 'Restore';
  restoreParameters?: Record<string, unknown>;
  priorityBasedExecution: boolean;
  network: NetworkRules;
}

function ownView(state: AccountState): AccountView {
  return {
    name: state.account,
    instanceId: state.instanceId,
    createdAt: state.creationTime(),
    provisioningState: state.accountOperation ?? 'Succeeded',
    documentEndpoint: state.cosmos.endpoint,
    createMode: 'Default',
    priorityBasedExecution: state.cosmos.control.priorityBasedExecution(),
    network: state.network,
  };
}

function restoredView(restored: RestoredAccount): AccountView {
  return {
    name: restored.name,
    instanceId: restored.instanceId,
    createdAt: restored.createdAt,
    provisioningState: restored.provisioningState,
    // Azure names the endpoint at creation; the local one exists once the restored emulator runs.
    documentEndpoint: restored.host?.cosmos.endpoint ?? `https://${restored.name}.documents.azure.com:443/`,
    createMode: 'Restore',
    restoreParameters: restored.restoreParameters,
    priorityBasedExecution: restored.host?.cosmos.control.priorityBasedExecution() ?? false,
    network: restored.network,
  };
}

function regionEntry(state: AccountState, view: AccountView) {
  return {
    id: `${view.name}-${state.region}`,
    locationName: state.location,
    documentEndpoint: view.documentEndpoint,
    provisioningState: view.provisioningState,
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

/** The account's body (Microsoft.DocumentDB REST API); with `restored`, the body of an account made by a restore of this one. */
export function accountBody(state: AccountState, restored?: RestoredAccount): Record<string, unknown> {
  const view = restored ? restoredView(restored) : ownView(state);
  const region = regionEntry(state, view);
  return {
    id: `/subscriptions/${state.subscriptionId}/resourceGroups/${state.resourceGroup}/providers/Microsoft.DocumentDB/databaseAccounts/${view.name}`,
    name: view.name,
    type: 'Microsoft.DocumentDB/databaseAccounts',
    location: state.location,
    kind: 'GlobalDocumentDB',
    tags: {},
    systemData: { createdAt: view.createdAt.toISOString() },
    identity: { type: 'None' },
    properties: {
      provisioningState: view.provisioningState,
      documentEndpoint: view.documentEndpoint,
      databaseAccountOfferType: 'Standard',
      instanceId: view.instanceId,
      createMode: view.createMode,
      ...(view.restoreParameters ? { restoreParameters: view.restoreParameters } : {}),
      consistencyPolicy: { defaultConsistencyLevel: 'Session', maxIntervalInSeconds: 5, maxStalenessPrefix: 100 },
      writeLocations: [region],
      readLocations: [region],
      locations: [region],
      failoverPolicies: [{ id: region.id, locationName: state.location, failoverPriority: 0 }],
      capabilities: [],
      ...view.network,
      cors: [],
      enableAutomaticFailover: false,
      enableMultipleWriteLocations: false,
      backupPolicy: backupPolicyBody(state),
      enablePriorityBasedExecution: view.priorityBasedExecution,
      defaultPriorityLevel: 'High',
    },
  };
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

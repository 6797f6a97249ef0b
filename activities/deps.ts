/** What the activities act through: built once by the worker (or a test) and handed to the activity factories. */
import type { CosmosClient } from '@azure/cosmos';
import type { CosmosDBManagementClient } from '@azure/arm-cosmosdb';
import type { AllowedContainers } from '../common/allowed-containers';
import type { Migration } from '../common/migration';
import type { HooksConfig } from './hooks/config';

export interface LoadedMigration {
  definition: Migration;
  /** Absolute path of the module's file. */
  file: string;
  /** sha256 of the module's source, hex. */
  checksum: string;
}

export interface MigrationRegistry {
  /** The folder the modules were loaded from. */
  readonly dir: string;
  list(): LoadedMigration[];
  /** Throws a non-retryable `MigrationInvalid` ApplicationFailure naming the id when unknown. */
  get(id: string): LoadedMigration;
}

/**
 * Makes a data-plane client of another account of the subscription (a restore drill's new account), authenticating
 * the way the worker does: with that account's key (`listKeys` through ARM) when the worker uses a key, else Entra ID.
 */
export type AccountConnector = (account: {
  documentEndpoint: string;
  listKeys: () => Promise<string>;
}) => Promise<CosmosClient>;

export interface ActivityDeps {
  cosmos: CosmosClient;
  arm: CosmosDBManagementClient;
  /** The Cosmos DB account ARM acts on. */
  account: { subscriptionId: string; resourceGroup: string; name: string };
  registry: MigrationRegistry;
  hooks: HooksConfig;
  /** Containers the runbook keeps its own records in, created in the target's database when missing. @default { history: 'migrations-history', leases: 'migrations-leases' } */
  control: { historyContainer: string; leaseContainer: string };
  /** Poll interval of ARM long-running operations. @default 2000 (tests: small) */
  armPollIntervalMs: number;
  /** The containers activities may touch (COSMOS_RUNBOOK_ALLOWED_CONTAINERS); absent: every container. */
  allowedContainers?: AllowedContainers;
  /** Clients of other accounts (restore drills). Absent: a drill is refused. */
  connectAccount?: AccountConnector;
}

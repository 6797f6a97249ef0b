/**
 * The `migrate` CLI's configuration: the worker's settings (worker/settings.ts; docs/architecture.md §9), so the same
 * variables, defaults, stack-file rule and relative-path rule apply, and after `npm run stack -- up` every command
 * works with no setup. The CLI needs less than the worker: how to reach Temporal, which account the workflow ids name,
 * where the migration modules are, and (for `status`) how to read the history.
 */
import type { AzureSettings } from '../activities/clients';
import { loadSettings, regionList, temporalSettings, type Settings, type TemporalSettings } from '../worker/settings';

export interface ClientConfig {
  temporal: TemporalSettings;
  /** The Cosmos DB account the workflow ids name (COSMOS_ACCOUNT); absent when not configured. */
  account?: string;
  migrationsDir: string;
  /** Where the variables came from, for error hints. */
  stackEnvFile?: string;
  /** How to reach Cosmos DB and ARM (only `status` reads Cosmos, for the migration history); absent when not configured. */
  azure?: AzureSettings;
  /** Database for modules that name none (COSMOS_DATABASE). */
  database?: string;
  /** The migrations history container (MIGRATIONS_HISTORY_CONTAINER). */
  historyContainer?: string;
  /** Where each value came from (`migrate config`). */
  settings?: Settings;
}

/** @throws SettingsError with one line per problem */
export function loadClientConfig(env: NodeJS.ProcessEnv = process.env): ClientConfig {
  const settings = loadSettings(env, { purpose: 'cli' });
  const v = settings.values;
  const azure: AzureSettings | undefined =
    v.COSMOS_ENDPOINT && v.AZURE_SUBSCRIPTION_ID && v.AZURE_RESOURCE_GROUP && v.COSMOS_ACCOUNT
      ? {
          cosmosEndpoint: v.COSMOS_ENDPOINT,
          ...(v.COSMOS_KEY ? { cosmosKey: v.COSMOS_KEY } : {}),
          subscriptionId: v.AZURE_SUBSCRIPTION_ID,
          resourceGroup: v.AZURE_RESOURCE_GROUP,
          account: v.COSMOS_ACCOUNT,
          ...(v.ARM_ENDPOINT ? { armEndpoint: v.ARM_ENDPOINT } : {}),
          ...(v.ARM_AUDIENCE ? { armAudience: v.ARM_AUDIENCE } : {}),
          ...(v.COSMOS_PREFERRED_REGIONS ? { preferredRegions: regionList(v.COSMOS_PREFERRED_REGIONS) } : {}),
          ...(v.LOCAL_ARM_TOKEN ? { armToken: v.LOCAL_ARM_TOKEN } : {}),
          ...(v.NODE_EXTRA_CA_CERTS ? { caCertPath: v.NODE_EXTRA_CA_CERTS } : {}),
        }
      : undefined;
  return {
    temporal: temporalSettings(v),
    ...(v.COSMOS_ACCOUNT ? { account: v.COSMOS_ACCOUNT } : {}),
    migrationsDir: v.MIGRATIONS_DIR,
    ...(settings.stackFile ? { stackEnvFile: settings.stackFile } : {}),
    ...(azure ? { azure } : {}),
    ...(v.COSMOS_DATABASE ? { database: v.COSMOS_DATABASE } : {}),
    historyContainer: v.MIGRATIONS_HISTORY_CONTAINER,
    settings,
  };
}

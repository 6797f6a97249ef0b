/**
 * The `migrate` CLI's configuration: the same environment variables as the worker (ARCHITECTURE §8), read from the
 * process environment first and then from `.local/stack.env` when the embedded stack wrote one, so that after
 * `npm run stack -- up` every command works with no setup. The CLI needs less than the worker: how to reach Temporal,
 * which account the workflow ids name, where the migration modules are, and (for `status`) how to read the history.
 */
import path from 'node:path';
import { environmentWithStack, stackDir as stackDirOf } from '../common/stack-environment';
import type { AzureSettings } from '../activities/clients';

export const DEFAULT_TASK_QUEUE = 'cosmos-runbook';

export interface ClientConfig {
  temporal: {
    address: string;
    namespace: string;
    taskQueue: string;
    apiKey?: string;
    /** true: TLS with the system CAs; an object: mTLS with these files. */
    tls?: boolean | { clientCertPath?: string; clientKeyPath?: string; serverRootCaPath?: string; serverName?: string };
    /** The web UI, for links (the local stack's, or TEMPORAL_UI_URL). */
    uiUrl?: string;
  };
  /** The Cosmos DB account the workflow ids name (COSMOS_ACCOUNT); absent when not configured. */
  account?: string;
  migrationsDir: string;
  /** Where the variables came from, for error hints. */
  stackEnvFile?: string;
  /** How to reach Cosmos DB and ARM (only `status` reads Cosmos, for the migration history); absent when not configured. */
  azure?: AzureSettings;
}

/** Project root: one level above client/. */
export const PROJECT_ROOT = path.resolve(__dirname, '..');

export function stackDir(env: NodeJS.ProcessEnv = process.env): string {
  return stackDirOf(env, PROJECT_ROOT);
}

/** process.env over `.local/stack.env` (the shell can always override what the stack wrote). */
export function configEnvironment(env: NodeJS.ProcessEnv = process.env): { vars: NodeJS.ProcessEnv; file?: string } {
  return environmentWithStack(env, PROJECT_ROOT);
}

function flag(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes|on)$/i.test(value);
}

export function loadClientConfig(env: NodeJS.ProcessEnv = process.env): ClientConfig {
  const { vars, file } = configEnvironment(env);
  const tlsFiles = {
    clientCertPath: vars.TEMPORAL_TLS_CERT,
    clientKeyPath: vars.TEMPORAL_TLS_KEY,
    serverRootCaPath: vars.TEMPORAL_TLS_CA,
    serverName: vars.TEMPORAL_TLS_SERVER_NAME,
  };
  const mtls = Object.values(tlsFiles).some(Boolean);
  const apiKey = vars.TEMPORAL_API_KEY || undefined;
  const azure: AzureSettings | undefined =
    vars.COSMOS_ENDPOINT && vars.AZURE_SUBSCRIPTION_ID && vars.AZURE_RESOURCE_GROUP && vars.COSMOS_ACCOUNT
      ? {
          cosmosEndpoint: vars.COSMOS_ENDPOINT,
          cosmosKey: vars.COSMOS_KEY || undefined,
          subscriptionId: vars.AZURE_SUBSCRIPTION_ID,
          resourceGroup: vars.AZURE_RESOURCE_GROUP,
          account: vars.COSMOS_ACCOUNT,
          armEndpoint: vars.ARM_ENDPOINT || undefined,
          armToken: vars.LOCAL_ARM_TOKEN || undefined,
          caCertPath: vars.NODE_EXTRA_CA_CERTS || undefined,
        }
      : undefined;
  return {
    temporal: {
      address: vars.TEMPORAL_ADDRESS || 'localhost:7233',
      namespace: vars.TEMPORAL_NAMESPACE || 'default',
      taskQueue: vars.TEMPORAL_TASK_QUEUE || DEFAULT_TASK_QUEUE,
      apiKey,
      // An API key implies TLS (Temporal Cloud); TEMPORAL_TLS=true asks for it with the system CAs.
      tls: mtls ? tlsFiles : flag(vars.TEMPORAL_TLS) || apiKey ? true : undefined,
      uiUrl: vars.TEMPORAL_UI_URL || undefined,
    },
    account: vars.COSMOS_ACCOUNT || undefined,
    migrationsDir: path.resolve(vars.MIGRATIONS_DIR || path.join(PROJECT_ROOT, 'migrations')),
    stackEnvFile: file,
    azure,
  };
}

/**
 * The Azure clients the activities act through. One place decides how to reach Cosmos DB and ARM, so the local
 * stack and production differ only in configuration: a key or DefaultAzureCredential, the public ARM endpoint or
 * ARM_ENDPOINT, and an extra CA for the local stack's self-signed certificate.
 */
import fs from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import { CosmosClient, type CosmosClientOptions, type PluginConfig } from '@azure/cosmos';
import { CosmosDBManagementClient } from '@azure/arm-cosmosdb';
import { DefaultAzureCredential } from '@azure/identity';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import type { AccountConnector } from './deps';
import { transientReadRetry } from './cosmos/transient-reads';
import { requestMetrics } from './metrics';

export interface AzureSettings {
  cosmosEndpoint: string;
  /** Absent: DefaultAzureCredential (Entra ID, data-plane RBAC). */
  cosmosKey?: string;
  subscriptionId: string;
  resourceGroup: string;
  account: string;
  /** Absent: public Azure (https://management.azure.com). */
  armEndpoint?: string;
  /**
   * The audience of ARM tokens (`<audience>/.default`): a sovereign cloud's management endpoint, e.g.
   * https://management.usgovcloudapi.net or https://management.chinacloudapi.cn. Absent: ARM_ENDPOINT's origin, or
   * public Azure's.
   */
  armAudience?: string;
  /** Regions to read from, in order (`connectionPolicy.preferredLocations`), e.g. ["West Europe", "North Europe"]. */
  preferredRegions?: string[];
  /** A static bearer token for ARM (the local imitation's LOCAL_ARM_TOKEN). Absent: DefaultAzureCredential. */
  armToken?: string;
  /** PEM file of an extra CA to trust (the local stack's certificate), read even when the process started without NODE_EXTRA_CA_CERTS. */
  caCertPath?: string;
  /** How often ARM long-running operations are polled. @default 2000 */
  armPollIntervalMs?: number;
}

function extraCa(settings: AzureSettings): string | undefined {
  return settings.caCertPath ? fs.readFileSync(settings.caCertPath, 'utf8') : undefined;
}

/** How long one Cosmos request may take before the client gives up on it. */
export const REQUEST_TIMEOUT_MS = 20_000;

/** The scope of ARM tokens: `<audience>/.default` (AzureSettings.armAudience). */
export function armTokenScope(settings: Pick<AzureSettings, 'armEndpoint' | 'armAudience'>): string {
  const audience = settings.armAudience ?? (settings.armEndpoint ? new URL(settings.armEndpoint).origin : PUBLIC_ARM);
  return `${audience.replace(/\/+$/, '')}/.default`;
}

const PUBLIC_ARM = 'https://management.azure.com';

/** The options createCosmosClient gives @azure/cosmos (exported for the tests of what they say). */
export function cosmosClientOptions(
  settings: AzureSettings,
  consistency: ClientConsistency = {}
): CosmosClientOptions & { plugins: PluginConfig[] } {
  const ca = extraCa(settings);
  return {
    endpoint: settings.cosmosEndpoint,
    // The client keeps the session token of every answer, but @azure/cosmos 4.9 sends it only when the client asks
    // for Session consistency (ClientContext.js `applySessionToken`): without it, a worker's reads may be served by
    // a replica that has not applied its own writes (https://learn.microsoft.com/azure/cosmos-db/consistency-levels).
    ...(consistency.sessionTokens ? { consistencyLevel: 'Session' as const } : {}),
    ...(settings.cosmosKey ? { key: settings.cosmosKey } : { aadCredentials: new DefaultAzureCredential() }),
    // Keep-alive matters: a new TLS handshake per request costs more than the request (docs/architecture.md §6).
    // The extra CA goes in one secure context made once, not as the agent's `ca` option: node:https Agent.getName
    // appends `options.ca` to the connection key of every request (node 20 lib/https.js), which for an array of
    // ~140 root certificates is ~200 KB of string per request (5 % of the worker's CPU in `npm run bench`), and
    // tls.connect would build a new secure context from them for every new connection.
    agent: new https.Agent({
      keepAlive: true,
      maxSockets: 64,
      ...(ca ? { secureContext: tls.createSecureContext({ ca: [...defaultCas(), ca] }) } : {}),
    }),
    connectionPolicy: {
      // Endpoint discovery (the SDK reads the account's regions and fails over between them) for every endpoint,
      // whatever CA is trusted: the local emulator answers the account read with its own address as its one region
      // (local/cosmos), so the tests run the SDK's discovery path as production does.
      enableEndpointDiscovery: true,
      ...(settings.preferredRegions?.length ? { preferredLocations: settings.preferredRegions } : {}),
      // Below the migration's 30 s heartbeat timeout (the SDK's default is 60 s): a request that hangs is given up
      // and sent again while the activity still counts as alive. Cosmos bounds a query page to about 5 s.
      requestTimeout: REQUEST_TIMEOUT_MS,
    },
    // Reads and queries met by a 503, 408, 449, a timeout or a reset are sent again (cosmos/transient-reads.ts);
    // inside that, each HTTP attempt's RU and 429 are counted (activities/metrics.ts).
    plugins: [transientReadRetry, requestMetrics],
  };
}

/** `sessionTokens`: ask for Session consistency, so the client sends the tokens it keeps and reads its own writes. */
export interface ClientConsistency {
  sessionTokens?: boolean;
}

export function createCosmosClient(settings: AzureSettings, consistency: ClientConsistency = {}): CosmosClient {
  return new CosmosClient(cosmosClientOptions(settings, consistency));
}

/**
 * A client that reads its own writes when the account's default consistency is Session (Azure's default): the
 * account is read once, because a request may only ask for the account's level or a weaker one ("The requested
 * ConsistencyLevel must match or be weaker than that provisioned for the database account", @azure/cosmos
 * ConsistencyLevel): Session on an Eventual or Consistent Prefix account is refused, and on a Strong or Bounded
 * Staleness account it would weaken every read. When the account cannot be read, Azure's default is assumed.
 */
export async function createAccountCosmosClient(settings: AzureSettings): Promise<CosmosClient> {
  const probe = createCosmosClient(settings);
  let level: string | undefined;
  try {
    level = (await probe.getDatabaseAccount()).resource?.consistencyPolicy;
  } catch {
    level = undefined;
  }
  if (level !== undefined && level !== 'Session') return probe;
  probe.dispose();
  return createCosmosClient(settings, { sessionTokens: true });
}

/** Clients of other accounts (a restore drill's), authenticated like the worker's own: a key from ARM, or Entra ID. */
export function accountConnector(settings: AzureSettings): AccountConnector {
  return async ({ documentEndpoint, listKeys }) =>
    createAccountCosmosClient({
      ...settings,
      cosmosEndpoint: documentEndpoint,
      cosmosKey: settings.cosmosKey ? await listKeys() : undefined,
    });
}

function defaultCas(): string[] {
  return [...tls.rootCertificates];
}

class StaticTokenCredential implements TokenCredential {
  constructor(private readonly token: string) {}
  async getToken(): Promise<AccessToken> {
    return { token: this.token, expiresOnTimestamp: Date.now() + 3600_000 };
  }
}

export function createArmClient(settings: AzureSettings): CosmosDBManagementClient {
  const ca = extraCa(settings);
  const credential = settings.armToken ? new StaticTokenCredential(settings.armToken) : new DefaultAzureCredential();
  return new CosmosDBManagementClient(credential, settings.subscriptionId, {
    ...(settings.armEndpoint ? { endpoint: settings.armEndpoint } : {}),
    credentialScopes: [armTokenScope(settings)],
    ...(ca ? { tlsOptions: { ca: [...defaultCas(), ca].join('\n') } } : {}),
  });
}

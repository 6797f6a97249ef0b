/**
 * The local imitation of Azure Resource Manager for one Cosmos DB account: the management-plane endpoints the runbook
 * calls through @azure/arm-cosmosdb (account, SQL databases and containers, throughput, continuous backup, restorable
 * resources, in-account point-in-time restore), served over HTTPS and acting on the local emulator.
 * The wire contract it imitates is docs/architecture.md §8.
 */
import { OPEN_NETWORK } from './network';
import https from 'node:https';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ArmError, armError, readJsonBody, type Reply } from './http';
import { isAccountLevel, matchRoute } from './routes';
import { Operations } from './operations';
import { ArmFaults } from './faults';
import { AccountState } from './state';
import type { RequestContext } from './context';
import type { ArmControl, LocalArm, LocalArmOptions } from './types';
import { ARM_CONTROL_PREFIX, handleArmControl } from './control-endpoints';

export type { LocalArm, LocalArmOptions, LocalBackupPolicy, ArmControl, ArmFaultRule, RestoreFailure } from './types';

export async function startLocalArm(options: LocalArmOptions): Promise<LocalArm> {
  const state = new AccountState(options);
  const operations = new Operations();
  const faults = new ArmFaults();
  const served: { method: string; path: string }[] = [];
  const control = createControl(state, faults, served);
  const host = options.host ?? '127.0.0.1';
  let baseUrl = '';

  const server = https.createServer({ cert: options.certificate.cert, key: options.certificate.key }, (req, res) => {
    void serve(req, res);
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let reply: Reply;
    try {
      reply = await dispatch(req);
    } catch (err) {
      reply =
        err instanceof ArmError
          ? err.toReply()
          : armError(
              500,
              'InternalServerError',
              `The local ARM imitation failed: ${err instanceof Error ? err.message : String(err)}`
            ).toReply();
    }
    const requestId = randomUUID();
    const body = reply.body === undefined ? '' : JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      ...(body ? { 'content-type': 'application/json; charset=utf-8' } : {}),
      'x-ms-request-id': requestId,
      'x-ms-correlation-request-id': requestId,
      ...reply.headers,
    });
    res.end(body);
  }

  async function dispatch(req: IncomingMessage): Promise<Reply> {
    const url = new URL(req.url ?? '/', baseUrl);
    // ARM authenticates before it looks at anything else.
    const authorization = req.headers.authorization;
    if (!authorization?.startsWith('Bearer ')) {
      throw armError(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.");
    }
    if (!sameToken(authorization.slice('Bearer '.length), options.token)) {
      throw armError(
        401,
        'AuthenticationFailed',
        "Authentication failed. The bearer token in the 'Authorization' header is not the one this ARM endpoint accepts."
      );
    }
    if (url.pathname.startsWith(ARM_CONTROL_PREFIX)) {
      return handleArmControl(req.method ?? 'GET', url.pathname, await readJsonBody(req), state, control);
    }
    const apiVersion = url.searchParams.get('api-version');
    if (!apiVersion) {
      throw armError(
        400,
        'MissingApiVersionParameter',
        'The api-version query parameter (?api-version=) is required for all requests.'
      );
    }
    const method = req.method ?? 'GET';
    served.push({ method, path: url.pathname });
    const fault = faults.match(method, url.pathname);
    if (fault) return { ...fault.error.toReply(), headers: fault.headers };
    const route = matchRoute(method, url.pathname);
    if (!route) {
      throw armError(404, 'NotFound', `The local ARM imitation has no resource at '${url.pathname}'.`);
    }
    if ('methodNotAllowed' in route) {
      throw armError(405, 'MethodNotAllowed', `The method '${method}' is not supported on '${url.pathname}'.`);
    }
    checkScope(route.params, isAccountLevel(route.handler));
    const ctx: RequestContext = {
      method,
      params: route.params,
      query: url.searchParams,
      body: await readJsonBody(req),
      apiVersion,
      baseUrl,
      url: url.toString(),
      state,
      operations,
    };
    return route.handler(ctx);
  }

  /** The subscription, resource group and account in the URL must be this imitation's, as ARM would insist. */
  function checkScope(params: Record<string, string>, accountLevel: boolean): void {
    const same = (a: string | undefined, b: string) => a === undefined || a.toLowerCase() === b.toLowerCase();
    if (!same(params.sub, state.subscriptionId)) {
      throw armError(404, 'SubscriptionNotFound', `The subscription '${params.sub}' could not be found.`);
    }
    if (!same(params.rg, state.resourceGroup)) {
      throw armError(404, 'ResourceGroupNotFound', `Resource group '${params.rg}' could not be found.`);
    }
    if (!same(params.account, state.account) && !accountLevel) {
      const restored = params.account !== undefined && state.restoredAccounts.has(params.account.toLowerCase());
      throw armError(
        404,
        'ResourceNotFound',
        restored
          ? `The local ARM imitation serves only the account resource and the data plane of restored account '${params.account}', not its other resources.`
          : `The Resource 'Microsoft.DocumentDB/databaseAccounts/${params.account}' under resource group '${params.rg}' was not found.`
      );
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  baseUrl = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    endpoint: baseUrl,
    control,
    close: async () => {
      await operations.close();
      for (const restored of state.restoredAccounts.values()) await restored.host?.cosmos.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function createControl(state: AccountState, faults: ArmFaults, served: { method: string; path: string }[]): ArmControl {
  return {
    requests: () => served.map((r) => ({ ...r })),
    setBackupPolicy: (policy) => {
      state.backupPolicy = policy;
    },
    setOperationDelay: (ms) => {
      state.operationDelayMs = ms;
    },
    setBackupLag: (ms) => {
      state.backupLagMs = ms;
    },
    setFaults: (rules, seed) => faults.set(rules, seed),
    faultSeed: () => faults.seed,
    faultsInjected: () => faults.injected,
    setRestoreDuration: (ms) => {
      state.restoreDurationMs = ms;
    },
    setRestoreMsPerDocument: (ms) => {
      state.restoreMsPerDocument = ms;
    },
    setRestoreFailure: (failure) => {
      state.restoreFailure = failure ? { ...failure, left: failure.times ?? 1 } : undefined;
    },
    setMaxConcurrentRestores: (limit) => {
      state.maxConcurrentRestores = limit;
    },
    setNetworkRules: (rules) => {
      state.network = { ...OPEN_NETWORK, ...rules };
    },
    setAccountOperation: (provisioningState) => {
      state.accountOperation = provisioningState;
    },
    setRestorePermission: (granted) => {
      state.restorePermission = granted;
    },
    restoresInProgress: () => [...state.restoring.keys()],
    restoredAccounts: () =>
      [...state.restoredAccounts.values()].map((a) => ({
        name: a.name,
        provisioningState: a.provisioningState,
        ...(a.host ? { documentEndpoint: a.host.cosmos.endpoint } : {}),
      })),
  };
}

/** Constant-time comparison, so the token cannot be guessed from response times. */
function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

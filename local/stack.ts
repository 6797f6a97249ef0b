/**
 * The embedded local stack in one call: the Cosmos emulator and the ARM imitation in this process, and the Temporal
 * dev server as a supervised child process (started again on the same data and ports when it dies; local/supervisor.ts)
 * or an existing server. Used by the background launcher (local/daemon.ts), by
 * `npm start` and by the tests. Everything it keeps lives in one folder (`.local/` by default): certificate, emulator
 * data, Temporal's SQLite file and logs.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startLocalArm } from './arm';
import type { LocalArm, LocalArmOptions } from './arm/types';
import { startLocalCosmos } from './cosmos';
import type { LocalCosmos, LocalCosmosOptions } from './cosmos/types';
import { assertPortFree, httpsAnswers, PortInUseError, waitUntil } from './readiness';
import {
  DEFAULT_PORTS,
  DEFAULT_TASK_QUEUE,
  defaultStackDir,
  LOCAL_ACCOUNT,
  LOCAL_RESOURCE_GROUP,
  LOCAL_SUBSCRIPTION_ID,
  type StackEnv,
} from './stack-env';
import { ensureTemporalCli } from './temporal-cli';
import { supervise, type PartState, type Supervised, type SupervisionOptions } from './supervisor';
import { startTemporalDevServer, type TemporalDevServer } from './temporal-server';
import { ensureCertificate } from './tls';

export { DEFAULT_PORTS, defaultStackDir } from './stack-env';
export type { PartState } from './supervisor';

export interface TemporalChildOptions {
  mode: 'child';
  /** Absent: ensureTemporalCli(). */
  cli?: string;
  /** 0: a free port. @default 7233 */
  port?: number;
  /** false: no web UI. @default port + 1000 */
  uiPort?: number | false;
  /** false: in memory. @default <dir>/temporal.db */
  dbFile?: string | false;
  extraArgs?: string[];
}

export interface ExistingTemporal {
  mode: 'existing';
  address: string;
  uiUrl?: string;
}

export interface StackOptions {
  /** Folder for everything the stack keeps. @default defaultStackDir() */
  dir?: string;
  /** 0: a free port. @default 8081 */
  cosmosPort?: number;
  /** 0: a free port. @default 8443 */
  armPort?: number;
  /** @default { mode: 'child' } */
  temporal?: TemporalChildOptions | ExistingTemporal;
  /** The bearer token ARM accepts. @default random, new for every stack */
  armToken?: string;
  /** More emulator options (RU model, ...). */
  cosmosOptions?: Pick<
    LocalCosmosOptions,
    'ruModel' | 'priorityBasedExecution' | 'priorityModel' | 'partialBulkThrottling' | 'sessionLagMs'
  >;
  /** More ARM options (backup policy, operation delay, ...). */
  armOptions?: Omit<
    LocalArmOptions,
    'host' | 'port' | 'certificate' | 'token' | 'cosmos' | 'subscriptionId' | 'resourceGroup' | 'account'
  >;
  /** Progress lines ("Cosmos emulator: https://..."). */
  log?: (line: string) => void;
  /** Per part. @default 60000 */
  startTimeoutMs?: number;
  /** How a Temporal dev server that dies is started again (local/supervisor.ts). */
  supervision?: SupervisionOptions;
  /** Called whenever a part's state changes (it exited, restarted, supervision gave up). */
  onPartChange?: (part: PartState) => void;
}

/** The supervised Temporal dev server: same address, data file and ports across restarts. */
export interface StackTemporal {
  address: string;
  uiUrl?: string;
  /** The server process now, or undefined while it restarts. */
  current(): TemporalDevServer | undefined;
  state(): PartState;
}

export interface RunningStack {
  dir: string;
  env: StackEnv;
  cosmos: LocalCosmos;
  arm: LocalArm;
  /** Absent when the stack uses an existing server. */
  temporal?: StackTemporal;
  /** Each part: the Temporal server supervised (restarted when it dies), Cosmos and ARM in this process. */
  parts(): PartState[];
  /** Stops every part this stack started; data stays in `dir`. */
  stop(): Promise<void>;
}

function portInUse(err: unknown, port: number, what: string): unknown {
  return (err as NodeJS.ErrnoException)?.code === 'EADDRINUSE' ? new PortInUseError(port, what) : err;
}

export async function startStack(options: StackOptions = {}): Promise<RunningStack> {
  const dir = path.resolve(options.dir ?? defaultStackDir());
  const log = options.log ?? (() => undefined);
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const cosmosPort = options.cosmosPort ?? DEFAULT_PORTS.cosmos;
  const armPort = options.armPort ?? DEFAULT_PORTS.arm;
  const temporalOptions = options.temporal ?? { mode: 'child' };

  // Check every fixed port before starting anything, so a clash fails in a second and names the port.
  await assertPortFree(cosmosPort, 'Cosmos emulator');
  await assertPortFree(armPort, 'ARM imitation');

  const certificate = ensureCertificate(path.join(dir, 'certs'));
  const armToken = options.armToken ?? randomBytes(24).toString('base64url');
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
  };

  try {
    const temporalStarting =
      temporalOptions.mode === 'child'
        ? (async () => {
            const cli = temporalOptions.cli ?? (await ensureTemporalCli(log));
            // Port 0: the first start chooses free ports (and others if one is taken meanwhile); a restart must come
            // back on the same ones, so whatever the first start bound is kept for the restarts.
            let port = temporalOptions.port ?? DEFAULT_PORTS.temporal;
            let uiPort = temporalOptions.uiPort;
            const startServer = async () => {
              const server = await startTemporalDevServer({
                cli,
                port,
                uiPort,
                dbFile:
                  temporalOptions.dbFile === false
                    ? undefined
                    : (temporalOptions.dbFile ?? path.join(dir, 'temporal.db')),
                logFile: path.join(dir, 'logs', 'temporal.log'),
                startTimeoutMs: timeoutMs,
                extraArgs: temporalOptions.extraArgs,
                log,
              });
              port = server.port;
              uiPort = server.uiPort ?? false;
              return server;
            };
            const supervised: Supervised<TemporalDevServer> = await supervise('Temporal', startServer, {
              ...options.supervision,
              log,
              onChange: options.onPartChange,
            });
            stops.push(() => supervised.stop());
            const server = supervised.current()!;
            log(`Temporal dev server: ${server.address}${server.uiUrl ? ` (UI ${server.uiUrl})` : ''}`);
            const temporal: StackTemporal = {
              address: server.address,
              uiUrl: server.uiUrl,
              current: () => supervised.current(),
              state: () => supervised.state(),
            };
            return temporal;
          })()
        : Promise.resolve(undefined);

    const cosmosAndArm = (async () => {
      const cosmos = await startLocalCosmos({
        host: '127.0.0.1',
        port: cosmosPort,
        certificate,
        dataDir: path.join(dir, 'cosmos'),
        ...options.cosmosOptions,
      }).catch((err: unknown) => {
        throw portInUse(err, cosmosPort, 'Cosmos emulator');
      });
      stops.push(() => cosmos.close());
      await waitUntil(`Cosmos emulator at ${cosmos.endpoint}`, () => httpsAnswers(cosmos.endpoint, certificate.cert), {
        timeoutMs,
      });
      log(`Cosmos emulator: ${cosmos.endpoint}`);

      const arm = await startLocalArm({
        host: '127.0.0.1',
        port: armPort,
        certificate,
        token: armToken,
        cosmos,
        // A restore into a new account gets an emulator of its own: its own endpoint and data folder, as in Azure.
        startRestoredAccount: async (name) => {
          const dataDir = path.join(dir, 'restored-accounts', name);
          fs.rmSync(dataDir, { recursive: true, force: true });
          const restored = await startLocalCosmos({
            host: '127.0.0.1',
            port: 0,
            certificate,
            dataDir,
            ...options.cosmosOptions,
          });
          log(`restored account ${name}: ${restored.endpoint}`);
          return {
            cosmos: restored,
            dispose: async () => {
              await restored.close();
              fs.rmSync(dataDir, { recursive: true, force: true });
            },
          };
        },
        subscriptionId: LOCAL_SUBSCRIPTION_ID,
        resourceGroup: LOCAL_RESOURCE_GROUP,
        account: LOCAL_ACCOUNT,
        ...options.armOptions,
      }).catch((err: unknown) => {
        throw portInUse(err, armPort, 'ARM imitation');
      });
      stops.push(() => arm.close());
      await waitUntil(`ARM imitation at ${arm.endpoint}`, () => httpsAnswers(arm.endpoint, certificate.cert), {
        timeoutMs,
      });
      log(`ARM imitation: ${arm.endpoint}`);
      return { cosmos, arm };
    })();

    // Wait for both even when one fails, so nothing is left running behind the error.
    const [temporalResult, azureResult] = await Promise.allSettled([temporalStarting, cosmosAndArm]);
    if (temporalResult.status === 'rejected') throw temporalResult.reason;
    if (azureResult.status === 'rejected') throw azureResult.reason;
    const temporal = temporalResult.value;
    const { cosmos, arm } = azureResult.value;

    const env: StackEnv = {
      TEMPORAL_ADDRESS: temporal?.address ?? (temporalOptions as ExistingTemporal).address,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: DEFAULT_TASK_QUEUE,
      TEMPORAL_UI_URL: temporal ? (temporal.uiUrl ?? '') : ((temporalOptions as ExistingTemporal).uiUrl ?? ''),
      COSMOS_ENDPOINT: cosmos.endpoint,
      COSMOS_KEY: cosmos.key,
      AZURE_SUBSCRIPTION_ID: LOCAL_SUBSCRIPTION_ID,
      AZURE_RESOURCE_GROUP: LOCAL_RESOURCE_GROUP,
      COSMOS_ACCOUNT: LOCAL_ACCOUNT,
      ARM_ENDPOINT: arm.endpoint,
      NODE_EXTRA_CA_CERTS: certificate.certPath,
      LOCAL_ARM_TOKEN: armToken,
    };
    // Cosmos and ARM live in this process: they stop only with it, so there is nothing to restart.
    const inProcess = (name: string): PartState => ({
      name,
      state: 'up',
      supervised: false,
      pid: process.pid,
      restarts: 0,
    });
    const parts = () => [
      ...(temporal ? [temporal.state()] : []),
      inProcess('Cosmos emulator'),
      inProcess('ARM imitation'),
    ];
    return { dir, env, cosmos, arm, temporal, parts, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/**
 * createRunbookWorker: configuration → connections → Worker. Used by `npm run worker`, `npm start` and the tests,
 * so all of them run the same worker.
 */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { CosmosClient } from '@azure/cosmos';
import { createActivities } from '../activities';
import { accountConnector, createAccountCosmosClient, createArmClient } from '../activities/clients';
import type { ActivityDeps } from '../activities/deps';
import { loadRegistry } from '../activities/registry';
import type { WorkerConfig } from './config';
import type { Tracing } from './tracing';
import { temporalTlsOption } from './settings';

export interface RunbookWorker {
  worker: Worker;
  connection: NativeConnection;
  deps: ActivityDeps;
  /** Shuts the worker down (if running), then closes the connection and the Azure clients. */
  close(): Promise<void>;
}

export const DEFAULT_CONTROL = { historyContainer: 'migrations-history', leaseContainer: 'migrations-leases' };

/** Lets in-flight activities heartbeat their checkpoint before a graceful shutdown cancels them. */
const SHUTDOWN_GRACE = '10s';

export async function createRunbookWorker(
  config: WorkerConfig,
  overrides: Partial<WorkerOptions> & { deps?: Partial<ActivityDeps>; tracing?: Tracing } = {}
): Promise<RunbookWorker> {
  const { deps: depOverrides, tracing, ...workerOverrides } = overrides;
  const registry = await loadRegistry(config.migrationsDir);
  // The worker's own client (disposed with it), unless the caller gives one.
  let ownCosmos: CosmosClient | undefined;
  const cosmos = depOverrides?.cosmos ?? (ownCosmos = await createAccountCosmosClient(config.azure));
  const deps: ActivityDeps = {
    cosmos,
    arm: createArmClient(config.azure),
    account: {
      subscriptionId: config.azure.subscriptionId,
      resourceGroup: config.azure.resourceGroup,
      name: config.azure.account,
    },
    registry,
    hooks: config.hooks,
    control: config.historyContainer
      ? { ...DEFAULT_CONTROL, historyContainer: config.historyContainer }
      : DEFAULT_CONTROL,
    armPollIntervalMs: config.azure.armPollIntervalMs ?? 2000,
    ...(config.allowedContainers ? { allowedContainers: config.allowedContainers } : {}),
    connectAccount: accountConnector(config.azure),
    ...depOverrides,
  };
  // The same TLS rules as the CLI: mTLS files, a CA and a server name (TEMPORAL_TLS_*), or TLS with the system CAs
  // for TEMPORAL_TLS=true or an API key.
  const { tls, apiKey } = config.temporal;
  const tlsOption = temporalTlsOption(tls);
  const connection = await NativeConnection.connect({
    address: config.temporal.address,
    ...(tlsOption !== undefined ? { tls: tlsOption } : {}),
    ...(apiKey ? { apiKey } : {}),
  }).catch((err: unknown) => {
    ownCosmos?.dispose();
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new Error(`cannot reach Temporal at ${config.temporal.address}: ${why}`, { cause: err });
  });
  try {
    const worker = await Worker.create({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      // Tests bundle once per file and pass workflowBundle; otherwise the worker bundles at start.
      ...(workerOverrides.workflowBundle ? {} : { workflowsPath: require.resolve('../workflows') }),
      activities: createActivities(deps),
      shutdownGraceTime: SHUTDOWN_GRACE,
      // Heartbeats reach the server at most this far apart (core throttles to min(0.8 × heartbeat timeout, this)):
      // a cancellation (a rollback, a live control, a pause) is delivered with the next heartbeat, so it takes effect
      // within about a page instead of up to 24 s with the 30 s heartbeat timeout. A few small RPCs per second.
      maxHeartbeatThrottleInterval: '1 second',
      // Traces (worker/tracing.ts): its interceptors and workflow sink. With a workflowBundle, the bundle must have
      // been built with WORKFLOW_TRACING_MODULE among its workflowInterceptorModules (the SDK ignores workflowModules).
      ...(tracing ? tracing.workerOptions : {}),
      ...workerOverrides,
    });
    return {
      worker,
      connection,
      deps,
      async close() {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await connection.close();
        ownCosmos?.dispose();
      },
    };
  } catch (err) {
    await connection.close();
    ownCosmos?.dispose();
    throw err;
  }
}

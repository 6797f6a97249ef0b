/**
 * What every chaos case starts: its own local stack in a temp folder (the Temporal dev server as a child process on
 * free ports with its SQLite file there, the Cosmos emulator and the ARM imitation in this process), a Temporal client,
 * the product's own Azure clients, and a MIGRATIONS_DIR for the case's modules. Workers run as separate processes
 * (./workers.ts) configured only through the environment this stack hands them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CosmosDBManagementClient } from '@azure/arm-cosmosdb';
import type { Container, CosmosClient } from '@azure/cosmos';
import { Client, Connection } from '@temporalio/client';
import { createArmClient, createCosmosClient } from '../../../activities/clients';
import { startStack, type RunningStack, type StackOptions } from '../../../local/stack';
import { azureSettingsFromStackEnv, type StackEnv } from '../../../local/stack-env';
import { onInterrupt } from './cleanup';
import { WorkerProcess } from './workers';

/** Workers that poll ARM operations every 50 ms: for cases whose point is not ARM's pace (their runs stay short). */
export const FAST_ARM_POLLS: NodeJS.ProcessEnv = { ARM_POLL_INTERVAL_MS: '50' };

export interface ChaosStack {
  dir: string;
  stack: RunningStack;
  env: StackEnv;
  client: Client;
  cosmos: CosmosClient;
  arm: CosmosDBManagementClient;
  migrationsDir: string;
  /** The environment of a worker process of this stack (what `npm run worker` reads), on `taskQueue`. */
  workerEnv(taskQueue: string, more?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** A worker process on `taskQueue` (./workers.ts), resolved once it listens; killed by close(). */
  startWorker(taskQueue: string, more?: NodeJS.ProcessEnv): Promise<WorkerProcess>;
  writeMigration(file: string, source: string): void;
  /** A database and a `/tenant`-partitioned container created through ARM, with dedicated throughput if given. */
  createContainer(database: string, container: string, throughput?: number): Promise<Container>;
  close(): Promise<void>;
}

/** The chaos account's replica lag: a realistic small lag, below the product's settle window (settled-count.ts). */
export const CHAOS_SESSION_LAG_MS = 200;

export async function startChaosStack(
  name: string,
  options: Pick<StackOptions, 'cosmosOptions' | 'armOptions' | 'supervision' | 'log'> = {}
): Promise<ChaosStack> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cosmos-runbook-chaos-${name}-`));
  const stack = await startStack({
    dir,
    cosmosPort: 0,
    armPort: 0,
    temporal: { mode: 'child', port: 0, uiPort: false },
    ...options,
    // The account as docs/production.md recommends it for migrations: priority-based execution on, acting as Azure
    // documents it (the emulator's 'azure' model, no reservation for High); a bulk over budget throttled in part;
    // Session consistency with replicas that lag 200 ms behind the writes (local/cosmos/session-consistency.ts).
    cosmosOptions: {
      priorityBasedExecution: true,
      priorityModel: 'azure',
      partialBulkThrottling: true,
      sessionLagMs: CHAOS_SESSION_LAG_MS,
      ...options.cosmosOptions,
    },
  });
  const connection = await Connection.connect({ address: stack.env.TEMPORAL_ADDRESS });
  const client = new Client({ connection, namespace: 'default' });
  // The chaos process polls ARM operations as tests do; workers keep production's interval (their environment).
  const settings = { ...azureSettingsFromStackEnv(stack.env), armPollIntervalMs: 50 };
  const cosmos = createCosmosClient(settings);
  const arm = createArmClient(settings);
  const migrationsDir = path.join(dir, 'migrations');
  fs.mkdirSync(migrationsDir);
  const workers: WorkerProcess[] = [];
  const workerEnv = (taskQueue: string, more: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    ...process.env,
    ...stack.env,
    TEMPORAL_TASK_QUEUE: taskQueue,
    MIGRATIONS_DIR: migrationsDir,
    // Configured only by this environment, never by a `.local/stack.env` of another stack.
    COSMOS_RUNBOOK_STACK_ENV: 'off',
    ...more,
  });
  const stopStack = async () => {
    for (const worker of workers.splice(0)) await worker.kill();
    await stack.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const forget = onInterrupt(stopStack);
  return {
    dir,
    stack,
    env: stack.env,
    client,
    cosmos,
    arm,
    migrationsDir,
    workerEnv,
    async startWorker(taskQueue, more) {
      const name = `worker-${workers.length + 1}`;
      const worker = new WorkerProcess(name, workerEnv(taskQueue, more), path.join(dir, 'logs', `${name}.log`));
      workers.push(worker);
      await worker.start();
      return worker;
    },
    writeMigration(file, source) {
      fs.writeFileSync(path.join(migrationsDir, file), source);
    },
    async createContainer(database, container, throughput) {
      const { AZURE_RESOURCE_GROUP: group, COSMOS_ACCOUNT: account } = stack.env;
      const poll = { updateIntervalInMs: 50 };
      await arm.sqlResources.beginCreateUpdateSqlDatabaseAndWait(
        group,
        account,
        database,
        { resource: { id: database }, options: {} },
        poll
      );
      await arm.sqlResources.beginCreateUpdateSqlContainerAndWait(
        group,
        account,
        database,
        container,
        {
          resource: { id: container, partitionKey: { paths: ['/tenant'], kind: 'Hash' } },
          options: throughput ? { throughput } : {},
        },
        poll
      );
      return cosmos.database(database).container(container);
    },
    async close() {
      cosmos.dispose();
      await connection.close();
      forget();
      await stopStack();
    },
  };
}

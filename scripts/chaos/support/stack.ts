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

export interface ChaosStack {
  dir: string;
  stack: RunningStack;
  env: StackEnv;
  client: Client;
  cosmos: CosmosClient;
  arm: CosmosDBManagementClient;
  migrationsDir: string;
  /** The environment of a worker process of this stack (what `npm run worker` reads), on `taskQueue`. */
  workerEnv(taskQueue: string): NodeJS.ProcessEnv;
  writeMigration(file: string, source: string): void;
  /** A database and a `/tenant`-partitioned container created through ARM, with dedicated throughput if given. */
  createContainer(database: string, container: string, throughput?: number): Promise<Container>;
  close(): Promise<void>;
}

export async function startChaosStack(
  name: string,
  options: Pick<StackOptions, 'cosmosOptions' | 'armOptions'> = {}
): Promise<ChaosStack> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cosmos-runbook-chaos-${name}-`));
  const stack = await startStack({
    dir,
    cosmosPort: 0,
    armPort: 0,
    temporal: { mode: 'child', port: 0, uiPort: false },
    ...options,
  });
  const connection = await Connection.connect({ address: stack.env.TEMPORAL_ADDRESS });
  const client = new Client({ connection, namespace: 'default' });
  // The chaos process polls ARM operations as tests do; workers keep production's interval (their environment).
  const settings = { ...azureSettingsFromStackEnv(stack.env), armPollIntervalMs: 50 };
  const cosmos = createCosmosClient(settings);
  const arm = createArmClient(settings);
  const migrationsDir = path.join(dir, 'migrations');
  fs.mkdirSync(migrationsDir);
  const stopStack = async () => {
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
    workerEnv: (taskQueue) => ({
      ...process.env,
      ...stack.env,
      TEMPORAL_TASK_QUEUE: taskQueue,
      MIGRATIONS_DIR: migrationsDir,
      // Configured only by this environment, never by a `.local/stack.env` of another stack.
      COSMOS_RUNBOOK_STACK_ENV: 'off',
    }),
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

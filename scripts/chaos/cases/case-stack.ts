/**
 * What the server-restart, bad-input and security cases start: their own local stack in a temp folder (the supervised
 * Temporal dev server as a child on free ports with its SQLite file there, the Cosmos emulator and the ARM imitation in
 * this process), a Temporal client, the product's Azure clients, a MIGRATIONS_DIR, and workers as separate processes
 * started the way users start them (`tsx worker/main.ts`, configured only by their environment).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CosmosDBManagementClient } from '@azure/arm-cosmosdb';
import type { Container, CosmosClient } from '@azure/cosmos';
import { Client, Connection } from '@temporalio/client';
import { createArmClient, createCosmosClient } from '../../../activities/clients';
import { startStack, type RunningStack, type StackOptions } from '../../../local/stack';
import { azureSettingsFromStackEnv, type StackEnv } from '../../../local/stack-env';

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..', '..');

export interface CaseStack {
  dir: string;
  stack: RunningStack;
  env: StackEnv;
  client: Client;
  cosmos: CosmosClient;
  arm: CosmosDBManagementClient;
  migrationsDir: string;
  /** The environment of a worker process (or the CLI) of this stack, on `taskQueue`. */
  workerEnv(taskQueue: string, more?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  writeMigration(file: string, source: string): void;
  /** A worker process on `taskQueue`, resolved once it listens; stopped by close(). */
  startWorker(taskQueue: string, more?: NodeJS.ProcessEnv): Promise<ChildProcess>;
  /** A database and a `/tenant`-partitioned container created through ARM. */
  createContainer(database: string, container: string): Promise<Container>;
  close(): Promise<void>;
}

export async function startCaseStack(
  name: string,
  options: Pick<StackOptions, 'supervision' | 'log'> = {}
): Promise<CaseStack> {
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
  const settings = { ...azureSettingsFromStackEnv(stack.env), armPollIntervalMs: 50 };
  const cosmos = createCosmosClient(settings);
  const arm = createArmClient(settings);
  const migrationsDir = path.join(dir, 'migrations');
  fs.mkdirSync(migrationsDir);
  const workers: ChildProcess[] = [];
  const workerEnv = (taskQueue: string, more: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    ...process.env,
    ...stack.env,
    TEMPORAL_TASK_QUEUE: taskQueue,
    MIGRATIONS_DIR: migrationsDir,
    ARM_POLL_INTERVAL_MS: '50',
    // Configured only by this environment, never by a `.local/stack.env` of another stack.
    COSMOS_RUNBOOK_STACK_ENV: 'off',
    ...more,
  });
  return {
    dir,
    stack,
    env: stack.env,
    client,
    cosmos,
    arm,
    migrationsDir,
    workerEnv,
    writeMigration(file, source) {
      fs.writeFileSync(path.join(migrationsDir, file), source);
    },
    async startWorker(taskQueue, more) {
      const logFile = fs.openSync(path.join(dir, 'logs', `worker-${workers.length + 1}.log`), 'a');
      const child = spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
        cwd: PROJECT_ROOT,
        env: workerEnv(taskQueue, more),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      workers.push(child);
      await new Promise<void>((resolve, reject) => {
        let output = '';
        let listening = false;
        const timer = setTimeout(() => reject(new Error(`worker did not start:\n${output}`)), 180_000);
        const onData = (chunk: Buffer) => {
          fs.writeSync(logFile, chunk);
          if (listening) return;
          output += chunk.toString();
          if (output.includes('worker listening on task queue')) {
            listening = true;
            clearTimeout(timer);
            resolve();
          }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.once('close', () => fs.closeSync(logFile));
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          if (!listening) reject(new Error(`worker exited (${code ?? signal}) before it listened:\n${output}`));
        });
      });
      return child;
    },
    async createContainer(database, container) {
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
        { resource: { id: container, partitionKey: { paths: ['/tenant'], kind: 'Hash' } }, options: {} },
        poll
      );
      return cosmos.database(database).container(container);
    },
    async close() {
      for (const child of workers) {
        if (child.exitCode !== null || child.signalCode !== null) continue;
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await gone;
      }
      cosmos.dispose();
      await connection.close();
      await stack.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every document of the container, system fields removed, sorted by id. */
export async function documents(container: Container): Promise<Record<string, unknown>[]> {
  const { resources } = await container.items.readAll<Record<string, unknown>>().fetchAll();
  return resources
    .map((doc) => Object.fromEntries(Object.entries(doc).filter(([key]) => !key.startsWith('_'))))
    .sort((a, b) => String(a.id).localeCompare(String(b.id)));
}

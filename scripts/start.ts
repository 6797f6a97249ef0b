/**
 * `npm start`: the whole product on one machine (a public contract: README, docs/cli.md). Brings up the embedded stack (or reuses the one
 * `npm run stack -- up` started), a worker in this process, seeds the demo `customers` container, runs the demo
 * migration through every phase with a live progress bar, prints the report and the web UI link, and keeps everything
 * up until Ctrl-C. `npm start -- --once` exits instead: 0 only when the migration completed and verified.
 *
 * Ports: --temporal-port, --temporal-ui-port, --cosmos-port, --arm-port (or TEMPORAL_PORT, TEMPORAL_UI_PORT,
 * COSMOS_PORT, ARM_PORT; defaults 7233, 8233, 8081, 8443); data: STACK_DIR (default .local/).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createCosmosClient } from '../activities/clients';
import type { LoadedMigration } from '../activities/deps';
import { loadRegistry } from '../activities/registry';
import { CliError, describeError } from '../client/errors';
import { followRun, reportExitCode, reportOutcome } from '../client/follow';
import { workflowUrl } from '../client/commands/run';
import { startRun } from '../client/runs';
import { connectTemporal } from '../client/temporal';
import { runbookWorkflowId } from '../client/target';
import { DEMO_CONTAINER, DEMO_DATABASE, DEMO_PARTITION_KEY, seedDemoCustomers } from '../local/demo-seed';
import { httpsAnswers } from '../local/readiness';
import { defaultStackDir, DEFAULT_PORTS, startStack, type RunningStack } from '../local/stack';
import {
  azureSettingsFromStackEnv,
  readStackEnv,
  stackEnvPath,
  writeStackEnv,
  type StackEnv,
} from '../local/stack-env';
import { temporalServing } from '../local/temporal-server';
import { loadWorkerConfig } from '../worker/config';
import { createRunbookWorker, type RunbookWorker } from '../worker/create-worker';
import { startTracing, type Tracing } from '../worker/tracing';

const PROJECT_ROOT = path.resolve(__dirname, '..');
const DEMO_MIGRATION = '001-split-customer-name';

interface StartOptions {
  once?: boolean;
  docs: number;
  temporalPort: number;
  temporalUiPort?: number;
  cosmosPort: number;
  armPort: number;
}

const say = (line = '') => process.stdout.write(`${line}\n`);

function port(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > 65535) throw new InvalidArgumentError('not a port (1-65535)');
  return parsed;
}

function count(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('not a positive integer');
  return parsed;
}

/** The stack `npm run stack -- up` left running in this folder, if every part of it answers. */
async function runningStackEnv(dir: string): Promise<StackEnv | undefined> {
  let env: StackEnv | undefined;
  try {
    env = readStackEnv(dir);
  } catch {
    return undefined;
  }
  if (!env) return undefined;
  const ca = fs.existsSync(env.NODE_EXTRA_CA_CERTS) ? fs.readFileSync(env.NODE_EXTRA_CA_CERTS, 'utf8') : undefined;
  const up = await Promise.all([
    temporalServing(env.TEMPORAL_ADDRESS),
    httpsAnswers(env.COSMOS_ENDPOINT, ca),
    httpsAnswers(env.ARM_ENDPOINT, ca),
  ]);
  return up.every(Boolean) ? env : undefined;
}

/** Resets the demo container to its pre-migration state: the same customers, without schemaVersion, every start. */
async function seedDemo(env: StackEnv, docs: number): Promise<void> {
  const cosmos = createCosmosClient(azureSettingsFromStackEnv(env));
  try {
    const { database } = await cosmos.databases.createIfNotExists({ id: DEMO_DATABASE });
    const { container } = await database.containers.createIfNotExists({
      id: DEMO_CONTAINER,
      partitionKey: { paths: [DEMO_PARTITION_KEY] },
    });
    const written = await seedDemoCustomers(container, docs);
    say(`seeded ${written} customers in ${DEMO_DATABASE}/${DEMO_CONTAINER} (pre-migration shape: one "name" field)`);
  } finally {
    cosmos.dispose();
  }
}

async function main(options: StartOptions): Promise<number> {
  const dir = defaultStackDir();
  let stack: RunningStack | undefined;
  let runbookWorker: RunbookWorker | undefined;
  let tracing: Tracing | undefined;
  let workerRun: Promise<void> | undefined;
  let wroteStackEnv = false;
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    if (runbookWorker) {
      if (runbookWorker.worker.getState() === 'RUNNING') runbookWorker.worker.shutdown();
      await workerRun?.catch(() => undefined);
      await runbookWorker.close().catch(() => undefined);
    }
    await tracing?.shutdown().catch(() => undefined);
    if (wroteStackEnv) fs.rmSync(stackEnvPath(dir), { force: true });
    await stack?.stop();
  };

  // Ctrl-C stops the worker and the stack cleanly; the Temporal runtime must not take the signal first.
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  let interrupted!: () => void;
  const interruptedPromise = new Promise<void>((resolve) => (interrupted = resolve));
  process.once('SIGINT', () => {
    say('\nCtrl-C: stopping the worker and the stack ...');
    interrupted();
  });
  process.once('SIGTERM', () => interrupted());

  try {
    let env = await runningStackEnv(dir);
    if (env) {
      say(`reusing the stack that is up (${stackEnvPath(dir)})`);
    } else {
      say(`starting the local stack in ${dir} ...`);
      stack = await startStack({
        dir,
        cosmosPort: options.cosmosPort,
        armPort: options.armPort,
        temporal: { mode: 'child', port: options.temporalPort, uiPort: options.temporalUiPort },
        log: (line) => say(`  ${line}`),
      });
      env = stack.env;
      // Other terminals (`npm run migrate -- status`, `npm run worker`) find this stack while it is up.
      writeStackEnv(dir, env);
      wroteStackEnv = true;
    }

    const migrationsDir = path.join(PROJECT_ROOT, 'migrations');
    // Every setting is given here, from the stack this process runs or reuses: no stack.env lookup.
    const workerEnv = { ...process.env, ...env, MIGRATIONS_DIR: migrationsDir, COSMOS_RUNBOOK_STACK_ENV: 'off' };
    say('starting a worker (bundling the workflows) ...');
    // Traced when OTEL_EXPORTER_OTLP_ENDPOINT is set; the demo's client shares the provider (worker/tracing.ts).
    tracing = startTracing('cosmos-runbook-worker', workerEnv);
    runbookWorker = await createRunbookWorker(loadWorkerConfig(workerEnv, PROJECT_ROOT), tracing ? { tracing } : {});
    workerRun = runbookWorker.worker.run();
    workerRun.catch((err: unknown) => say(`worker stopped: ${(err as Error).message}`));

    await seedDemo(env, options.docs);

    const registry = await loadRegistry(migrationsDir);
    const migration: LoadedMigration = registry.get(DEMO_MIGRATION);
    const target = { migration, database: DEMO_DATABASE, container: DEMO_CONTAINER };
    const session = await connectTemporal({
      temporal: {
        address: env.TEMPORAL_ADDRESS,
        namespace: env.TEMPORAL_NAMESPACE,
        taskQueue: env.TEMPORAL_TASK_QUEUE,
      },
      account: env.COSMOS_ACCOUNT,
      migrationsDir,
    });
    try {
      const { client } = session;
      // A demo run left over from an earlier start (stopped mid-run) would hold the container: end it.
      const workflowId = runbookWorkflowId(env.COSMOS_ACCOUNT, DEMO_DATABASE, DEMO_CONTAINER);
      const previous = await client.workflow
        .getHandle(workflowId)
        .describe()
        .catch(() => undefined);
      if (previous?.status.name === 'RUNNING') {
        say(`terminating the demo run left over from an earlier start (${workflowId})`);
        await client.workflow.getHandle(workflowId).terminate('npm start: a new demo run replaces it');
      }

      const handle = await startRun(client, {
        taskQueue: env.TEMPORAL_TASK_QUEUE,
        account: env.COSMOS_ACCOUNT,
        target,
        input: {
          migration: DEMO_MIGRATION,
          direction: 'up',
          database: DEMO_DATABASE,
          container: DEMO_CONTAINER,
          approval: { required: true, timeout: '1h' },
          monitor: { duration: '10s', interval: '2s' },
          // Slow enough to watch: a budget of 2000 RU/s, and a checkpoint (a progress update) every 200 documents.
          ruBudget: 2000,
          tuning: { maxPagesPerActivity: 2 },
        },
      });
      const link = env.TEMPORAL_UI_URL
        ? workflowUrl(env.TEMPORAL_UI_URL, env.TEMPORAL_NAMESPACE, workflowId)
        : undefined;
      say();
      say(`demo: ${migration.definition.description} (${DEMO_MIGRATION}) on ${DEMO_DATABASE}/${DEMO_CONTAINER}`);
      say(`workflow ${workflowId}${link ? `\n  web UI: ${link}` : ''}`);
      const report = await Promise.race([
        followRun(client, handle, {
          migrationId: DEMO_MIGRATION,
          taskQueue: env.TEMPORAL_TASK_QUEUE,
          autoApprove: {
            delayMs: 3_000,
            notice:
              `auto-approving the demo in 3s — in production a human runs ` +
              `\`npm run migrate -- approve ${DEMO_MIGRATION}\``,
            by: 'npm start (demo auto-approval)',
            comment: 'the demo approves itself',
          },
        }),
        interruptedPromise.then(() => undefined),
      ]);
      if (!report) return 130;
      say();
      say(report.markdown);
      say();
      say(reportOutcome(report));
      if (link) say(`web UI: ${link}`);
      const code = reportExitCode(report);
      if (options.once) return code;

      say();
      say('the stack and the worker stay up; try, in another terminal:');
      say(`  npm run migrate -- status`);
      say(`  npm run migrate -- down ${DEMO_MIGRATION} --yes`);
      say(`Ctrl-C stops everything (data stays in ${dir}).`);
      await interruptedPromise;
      return code;
    } finally {
      await session.close();
    }
  } finally {
    await shutdown();
  }
}

const program = new Command('start')
  .description('the embedded stack, a worker and the demo migration, end to end')
  .option('--once', 'run the demo and exit (0 only when it completed and verified)')
  .option('--docs <n>', 'demo customers to seed', count, 3000)
  // The same flags and variables as `npm run stack -- up`.
  .addOption(
    new Option('--temporal-port <port>', 'Temporal gRPC port')
      .env('TEMPORAL_PORT')
      .argParser(port)
      .default(DEFAULT_PORTS.temporal)
  )
  .addOption(
    new Option('--temporal-ui-port <port>', 'Temporal web UI port (default gRPC port + 1000)')
      .env('TEMPORAL_UI_PORT')
      .argParser(port)
  )
  .addOption(
    new Option('--cosmos-port <port>', 'Cosmos emulator port')
      .env('COSMOS_PORT')
      .argParser(port)
      .default(DEFAULT_PORTS.cosmos)
  )
  .addOption(
    new Option('--arm-port <port>', 'ARM imitation port').env('ARM_PORT').argParser(port).default(DEFAULT_PORTS.arm)
  )
  .action(async (options: StartOptions) => {
    let code: number;
    try {
      code = await main(options);
    } catch (err) {
      const { message, hint } = describeError(err);
      process.stderr.write(`npm start failed: ${message}\n${hint ? `hint: ${hint}\n` : ''}`);
      code = err instanceof CliError ? err.exitCode : 1;
    }
    process.exit(code);
  });

void program.parseAsync(process.argv);

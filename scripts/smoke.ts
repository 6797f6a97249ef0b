/**
 * `npm run smoke -- --account <name> --resource-group <rg>`: the whole runbook on a real account, on a small
 * container of its own, before you trust it with yours. `npm run smoke -- --local`: the same code path against a
 * local stack it starts (Cosmos emulator and ARM imitation on free ports; Temporal at TEMPORAL_ADDRESS, or a dev
 * server it starts) — what CI runs (test/foundation/smoke.test.ts).
 *
 * Steps, each printed with its duration and RU: create a database and container of its own and seed them; plan;
 * migrate and verify, then roll back by down(); again with pre-images, rolled back by pre-images; again, rolled back
 * by point-in-time restore (when the account has continuous backup; --no-restore skips it); a final migration that
 * completes, approved by the script as a person would; a restore drill (--no-drill skips it: on Azure it creates an
 * account for up to an hour). After each rollback the documents must equal the seeded ones exactly. Whatever
 * happens, it deletes the database it created (the drill deletes its own account). Exit 0 when every step passed.
 *
 * A real account needs: TEMPORAL_ADDRESS (and TLS or an API key) of a Temporal with the search attributes
 * (`migrate doctor`), AZURE_SUBSCRIPTION_ID (or --subscription), and an identity DefaultAzureCredential finds with
 * the data-plane role and the ARM role with drill (docs/roles/). It runs its own worker, in this process.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { Runtime } from '@temporalio/worker';
import { createArmClient, createCosmosClient, type AzureSettings } from '../activities/clients';
import type { RunbookStatus } from '../common/status';
import { startStack, type RunningStack } from '../local/stack';
import { migrationRunbook, restoreDrill } from '../workflows';
import { approveSignal, rollbackSignal, statusQuery } from '../workflows/messages';
import { createRunbookWorker } from '../worker/create-worker';
import { startTracing } from '../worker/tracing';
import { createLogger } from '../worker/logger';
import { runtimeOptions } from '../worker/telemetry';

interface Options {
  account?: string;
  resourceGroup?: string;
  subscription?: string;
  endpoint?: string;
  local?: boolean;
  documents: string;
  restore: boolean;
  drill: boolean;
}

type Doc = { id: string; [field: string]: unknown };

const program = new Command('smoke')
  .description('the whole runbook on a small container of its own, then everything it created deleted')
  .option('--account <name>', 'the Cosmos DB account (NoSQL API)')
  .option('--resource-group <rg>', 'its resource group')
  .option('--subscription <id>', 'its subscription (default AZURE_SUBSCRIPTION_ID)')
  .option('--endpoint <url>', 'its document endpoint (default https://<account>.documents.azure.com:443/)')
  .option('--local', 'against a local stack started for the run (CI)')
  .option('--documents <n>', 'documents seeded', '50')
  .option('--no-restore', 'skip the rollback by point-in-time restore')
  .option('--no-drill', 'skip the restore drill');

interface Step {
  name: string;
  ms: number;
  ru?: number;
  ok: boolean;
  detail: string;
}

const steps: Step[] = [];

async function step(name: string, body: () => Promise<{ detail: string; ru?: number }>): Promise<void> {
  const started = Date.now();
  try {
    const { detail, ru } = await body();
    steps.push({ name, ms: Date.now() - started, ...(ru !== undefined ? { ru } : {}), ok: true, detail });
  } catch (err) {
    steps.push({ name, ms: Date.now() - started, ok: false, detail: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    const s = steps.at(-1)!;
    const ru = s.ru !== undefined ? `${Math.round(s.ru).toLocaleString('en-US')} RU` : '';
    process.stdout.write(
      `${s.ok ? 'ok  ' : 'FAIL'}  ${s.name.padEnd(34)} ${(s.ms / 1000).toFixed(1).padStart(6)} s  ${ru.padStart(10)}  ${s.detail}\n`
    );
  }
}

function strip(doc: Doc): Doc {
  return Object.fromEntries(Object.entries(doc).filter(([k]) => !k.startsWith('_'))) as Doc;
}

const MODULE = (id: string, database: string) => `module.exports = {
  id: ${JSON.stringify(id)},
  description: 'smoke: split name into first and last',
  database: ${JSON.stringify(database)},
  container: 'customers',
  fromVersion: 1,
  toVersion: 2,
  up(doc) {
    if (typeof doc.name !== 'string') return undefined;
    const [first, ...rest] = doc.name.split(' ');
    const out = { ...doc, first, last: rest.join(' '), schemaVersion: 2 };
    delete out.name;
    return out;
  },
  down(doc) {
    const out = { ...doc, name: [doc.first, doc.last].join(' ') };
    delete out.first; delete out.last; delete out.schemaVersion;
    return out;
  },
  verify(doc) { return typeof doc.first === 'string' && !('name' in doc) ? true : 'not split'; },
};
`;

async function main(): Promise<void> {
  const options = program.parse(process.argv).opts<Options>();
  const count = Number(options.documents);
  let stack: RunningStack | undefined;
  let settings: AzureSettings;
  let temporalAddress: string | undefined = process.env.TEMPORAL_ADDRESS;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmos-runbook-smoke-'));
  if (options.local) {
    stack = await startStack({
      dir,
      cosmosPort: 0,
      armPort: 0,
      temporal: temporalAddress
        ? { mode: 'existing', address: temporalAddress }
        : { mode: 'child', port: 0, uiPort: false, dbFile: false },
    });
    temporalAddress = stack.env.TEMPORAL_ADDRESS;
    settings = {
      cosmosEndpoint: stack.env.COSMOS_ENDPOINT,
      cosmosKey: stack.env.COSMOS_KEY,
      subscriptionId: stack.env.AZURE_SUBSCRIPTION_ID,
      resourceGroup: stack.env.AZURE_RESOURCE_GROUP,
      account: stack.env.COSMOS_ACCOUNT,
      armEndpoint: stack.env.ARM_ENDPOINT,
      armToken: stack.env.LOCAL_ARM_TOKEN,
      caCertPath: stack.env.NODE_EXTRA_CA_CERTS,
      armPollIntervalMs: 100,
    };
  } else {
    const subscription = options.subscription ?? process.env.AZURE_SUBSCRIPTION_ID;
    if (!options.account || !options.resourceGroup || !subscription || !temporalAddress) {
      throw new Error(
        'give --account and --resource-group (and --subscription or AZURE_SUBSCRIPTION_ID, and TEMPORAL_ADDRESS), or --local'
      );
    }
    settings = {
      cosmosEndpoint: options.endpoint ?? `https://${options.account}.documents.azure.com:443/`,
      ...(process.env.COSMOS_KEY ? { cosmosKey: process.env.COSMOS_KEY } : {}),
      subscriptionId: subscription,
      resourceGroup: options.resourceGroup,
      account: options.account,
    };
  }

  if (!temporalAddress) throw new Error('TEMPORAL_ADDRESS is not set');
  const address: string = temporalAddress;
  Runtime.install(runtimeOptions(createLogger({ level: 'warn', format: 'pretty' })));
  const taskQueue = `smoke-${randomUUID().slice(0, 8)}`;
  const database = `smoke-${randomUUID().slice(0, 8)}`;
  const migrationsDir = path.join(dir, 'migrations');
  fs.mkdirSync(migrationsDir, { recursive: true });
  // Before the worker starts: it loads its migrations once, at start.
  const id = `smoke-split-${database.slice(6)}`;
  fs.writeFileSync(path.join(migrationsDir, `${id}.js`), MODULE(id, database));
  const cosmos = createCosmosClient(settings);
  const arm = createArmClient(settings);
  const connection = await Connection.connect({ address });
  // Traced like the worker and the CLI when OTEL_EXPORTER_OTLP_ENDPOINT is set (worker/tracing.ts).
  const tracing = startTracing('cosmos-runbook-smoke');
  const client = new Client({
    connection,
    namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
    ...(tracing ? { interceptors: tracing.clientInterceptors } : {}),
  });
  const worker = await createRunbookWorker(
    {
      temporal: { address, namespace: client.options.namespace, taskQueue },
      azure: settings,
      migrationsDir,
      hooks: {},
    },
    tracing ? { tracing } : {}
  );
  const running = worker.worker.run();
  const poll = { updateIntervalInMs: settings.armPollIntervalMs ?? 2000 };
  let seeded: Doc[] = [];
  let created = false;
  let failed = false;
  const container = () => cosmos.database(database).container('customers');
  const documents = async () =>
    (await container().items.readAll<Doc>().fetchAll()).resources.map(strip).sort((a, b) => a.id.localeCompare(b.id));

  /** A run of the module: starts it, approves it at its gate, rolls it back once it monitors (unless `rollback` is undefined). */
  async function run(id: string, input: Record<string, unknown>, rollback?: 'down' | 'preimages' | 'restore') {
    const handle: WorkflowHandle<typeof migrationRunbook> = await client.workflow.start(migrationRunbook, {
      taskQueue,
      workflowId: `smoke-${id}-${randomUUID().slice(0, 8)}`,
      args: [{ migration: id, monitor: { duration: rollback ? '10m' : '1s', interval: '1s' }, ...input }],
    });
    // Until the run ends (whatever its last phase), answering its gates as a person would.
    let settled = false;
    const result = handle.result().then(
      (report) => ({ report }),
      (error: unknown) => ({ error })
    );
    void result.then(() => (settled = true));
    while (!settled) {
      const status: RunbookStatus | undefined = await handle.query(statusQuery).catch(() => undefined);
      const decision = status?.pendingDecision?.kind;
      if (decision === 'approve' || decision === 'approve-restore') {
        await handle.signal(approveSignal, { by: 'smoke', comment: `approved by the smoke test (${decision})` });
      } else if (rollback && status?.phase === 'monitoring') {
        await handle.signal(rollbackSignal, { reason: `smoke: rollback by ${rollback}` });
        rollback = undefined;
      }
      if (process.env.SMOKE_TRACE) process.stderr.write(`${id}: ${status?.phase ?? '?'} ${decision ?? ''}\n`);
      await sleep(300);
    }
    const outcome = await result;
    if ('error' in outcome) throw outcome.error;
    return outcome.report;
  }

  try {
    await step('create a container of its own', async () => {
      await arm.sqlResources.beginCreateUpdateSqlDatabaseAndWait(
        settings.resourceGroup,
        settings.account,
        database,
        { resource: { id: database }, options: {} },
        poll
      );
      created = true;
      await arm.sqlResources.beginCreateUpdateSqlContainerAndWait(
        settings.resourceGroup,
        settings.account,
        database,
        'customers',
        { resource: { id: 'customers', partitionKey: { paths: ['/tenant'], kind: 'Hash' } }, options: {} },
        poll
      );
      let ru = 0;
      for (let i = 0; i < count; i++) {
        const doc = { id: `c-${String(i).padStart(4, '0')}`, tenant: `t${i % 3}`, name: `First${i} Last${i}` };
        ru += (await container().items.create(doc)).requestCharge ?? 0;
      }
      seeded = await documents();
      return { detail: `${database}/customers with ${count} documents`, ru };
    });

    await step('plan', async () => {
      const report = await run(id, { dryRun: true, approval: { required: false } });
      const plan = report.plan;
      if (!plan || plan.documentsToMigrate !== count)
        throw new Error(`the plan counts ${plan?.documentsToMigrate} documents to migrate, not ${count}`);
      return {
        detail: `${plan.documentsToMigrate} to migrate, estimated ${plan.cost?.totalRu ?? '?'} RU`,
        ru: plan.cost?.totalRu,
      };
    });

    const strategies: ('down' | 'preimages' | 'restore')[] = ['down', 'preimages'];
    if (options.restore) {
      const account = await arm.databaseAccounts.get(settings.resourceGroup, settings.account);
      if (account.backupPolicy?.type === 'Continuous') strategies.push('restore');
      else process.stdout.write('skip  rollback by restore: the account has no continuous backup\n');
    }
    for (const mode of strategies) {
      await step(`migrate, verify, roll back by ${mode}`, async () => {
        const report = await run(
          id,
          {
            approval: { required: true },
            rollback: mode,
            ...(mode === 'preimages' ? { preimages: true } : { preimages: false }),
            ...(mode === 'restore' ? { allowRestoreWithoutAppStop: true } : {}),
          },
          mode
        );
        if (report.counters.migrated !== count || report.verification?.ok !== true)
          throw new Error(
            `migrated ${report.counters.migrated}, verification ${report.verification?.ok} before the rollback`
          );
        if (report.status !== 'rolled-back' || report.rollback?.ok !== true)
          throw new Error(`the run ended ${report.status}: ${report.reason ?? ''}`);
        const now = await documents();
        if (JSON.stringify(now) !== JSON.stringify(seeded))
          throw new Error('the documents differ from the seeded ones after the rollback');
        return {
          detail: `${count} migrated and verified, rolled back by ${report.rollback.mode}; documents as seeded`,
          ru: report.counters.ruConsumed,
        };
      });
    }

    await step('migrate and verify (approved)', async () => {
      const report = await run(id, { approval: { required: true } });
      if (report.status !== 'completed' || report.counters.migrated !== count || report.verification?.ok !== true)
        throw new Error(
          `the run ended ${report.status} with ${report.counters.migrated} migrated: ${report.reason ?? ''}`
        );
      const now = await documents();
      if (!now.every((d) => typeof d.first === 'string' && !('name' in d)))
        throw new Error('not every document was migrated');
      return { detail: `${count} migrated, verified`, ru: report.counters.ruConsumed };
    });

    if (options.drill) {
      await step('restore drill', async () => {
        const record = await client.workflow.execute(restoreDrill, {
          taskQueue,
          workflowId: `smoke-drill-${randomUUID().slice(0, 8)}`,
          args: [{ database, container: 'customers' }],
        });
        if (!record.ok) throw new Error(`the drill found mismatches: ${JSON.stringify(record.mismatches)}`);
        return {
          detail: `restored into ${record.copyAccount}, ${record.documents} documents compared, account deleted`,
        };
      });
    }
  } catch {
    failed = true;
  } finally {
    if (created) {
      await step('delete everything it created', async () => {
        await arm.sqlResources.beginDeleteSqlDatabaseAndWait(settings.resourceGroup, settings.account, database, poll);
        return { detail: `database ${database} deleted` };
      }).catch(() => (failed = true));
    }
    worker.worker.shutdown();
    await running.catch(() => undefined);
    await worker.close();
    await connection.close();
    await tracing?.shutdown();
    cosmos.dispose();
    await stack?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const total = steps.reduce((sum, s) => sum + s.ms, 0);
  process.stdout.write(
    `${failed ? 'smoke FAILED' : 'smoke passed'}: ${steps.filter((s) => s.ok).length}/${steps.length} steps in ${(total / 1000).toFixed(1)} s\n`
  );
  process.exit(failed ? 1 : 0);
}

main().catch((err: unknown) => {
  process.stderr.write(`smoke: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

/**
 * The `migrate` CLI as a user runs it: `tsx client/cli.ts ...` in a child process, configured only through the
 * environment, against the test run's Temporal dev server, a private local stack (Cosmos emulator + ARM imitation)
 * and a real worker running in this process. The migration module is a plain default export in its own folder, as a
 * user's would be.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Container } from '@azure/cosmos';
import type { Client } from '@temporalio/client';
import { loadRegistry } from '../../activities/registry';
import type { RunbookReport } from '../../common/report';
import { seedDemoCustomers } from '../../local/demo-seed';
import { statusQuery } from '../../workflows/messages';
import { loadWorkerConfig } from '../../worker/config';
import { createRunbookWorker, type RunbookWorker } from '../../worker/create-worker';
import { startTestStack, type TestStack } from '../support/stack';
import { installQuietRuntime, testClient, uniqueTaskQueue } from '../support/temporal';

const ROOT = path.resolve(__dirname, '..', '..');
const DOCS = 300;
const MIGRATION = 'cli-split-name';
const BAD_MIGRATION = 'cli-split-name-badly';

/** A user's module: no import from this package, one container of its own so runs never meet other tests' runs. */
function moduleSource(
  container: string,
  id = MIGRATION,
  verify = "typeof doc.firstName === 'string' && !('name' in doc) ? true : 'not split'"
): string {
  return `type Doc = { id: string; [field: string]: unknown };
export default {
  id: '${id}',
  description: 'Split name into firstName and lastName',
  database: 'demo',
  container: '${container}',
  fromVersion: 1,
  toVersion: 2,
  up(doc: Doc) {
    if (typeof doc.name !== 'string') return undefined;
    const [firstName, ...rest] = doc.name.split(' ');
    const { name: _name, ...others } = doc;
    return { ...others, firstName, lastName: rest.join(' ') };
  },
  down(doc: Doc) {
    if (typeof doc.firstName !== 'string') return undefined;
    const { firstName, lastName, schemaVersion: _v, ...others } = doc;
    return { ...others, name: [firstName, lastName].filter(Boolean).join(' ') };
  },
  verify(doc: Doc) {
    return ${verify};
  },
};
`;
}

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('migrate CLI', () => {
  let stack: TestStack;
  let client: Client;
  let runbookWorker: RunbookWorker;
  let workerRun: Promise<void>;
  let customers: Container;
  let badCustomers: Container;
  let migrationsDir: string;
  let emptyStackDir: string;
  let env: NodeJS.ProcessEnv;
  const containerName = `customers-${randomUUID().slice(0, 8)}`;
  const badContainerName = `customers-bad-${randomUUID().slice(0, 8)}`;
  const taskQueue = uniqueTaskQueue('cli');

  function cli(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<CliResult> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [require.resolve('tsx/cli'), 'client/cli.ts', ...args], {
        cwd: ROOT,
        env: { ...env, ...extraEnv },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });
  }

  const explain = (r: CliResult) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

  async function documents(): Promise<Record<string, unknown>[]> {
    const { resources } = await customers.items.query<Record<string, unknown>>('SELECT * FROM c').fetchAll();
    return resources;
  }

  beforeAll(async () => {
    stack = await startTestStack();
    migrationsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmos-runbook-cli-migrations-'));
    emptyStackDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmos-runbook-cli-stack-'));
    fs.writeFileSync(path.join(migrationsDir, `${MIGRATION}.ts`), moduleSource(containerName));
    // A migration whose verification always fails: the runbook must roll it back, and the CLI must not say "done".
    fs.writeFileSync(
      path.join(migrationsDir, `${BAD_MIGRATION}.ts`),
      moduleSource(badContainerName, BAD_MIGRATION, "'the new shape is wrong'")
    );

    const cosmos = stack.cosmosClient();
    const { database } = await cosmos.databases.createIfNotExists({ id: 'demo' });
    ({ container: customers } = await database.containers.createIfNotExists({
      id: containerName,
      partitionKey: { paths: ['/tenantId'] },
    }));
    await seedDemoCustomers(customers, DOCS);
    ({ container: badCustomers } = await database.containers.createIfNotExists({
      id: badContainerName,
      partitionKey: { paths: ['/tenantId'] },
    }));
    await seedDemoCustomers(badCustomers, 100);

    env = {
      ...process.env,
      ...stack.env,
      TEMPORAL_TASK_QUEUE: taskQueue,
      MIGRATIONS_DIR: migrationsDir,
      // No .local/stack.env of the developer's own stack may leak in.
      STACK_DIR: emptyStackDir,
      FORCE_COLOR: '0',
    };
    installQuietRuntime();
    runbookWorker = await createRunbookWorker(loadWorkerConfig({ ...env, ARM_POLL_INTERVAL_MS: '50' }, emptyStackDir));
    workerRun = runbookWorker.worker.run();
    client = await testClient();
  }, 180_000);

  afterAll(async () => {
    runbookWorker?.worker.shutdown();
    await workerRun?.catch(() => undefined);
    await runbookWorker?.close();
    await client?.connection.close();
    await stack?.close();
    for (const dir of [migrationsDir, emptyStackDir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('up --yes follows the run to a verified report and exits 0; every document is migrated', async () => {
    const result = await cli(['up', MIGRATION, '--yes', '--monitor-duration', '1s', '--monitor-interval', '1s']);
    if (result.code !== 0) throw new Error(explain(result));
    expect(result.stdout).toContain(`--yes: approving ${MIGRATION} at once`);
    expect(result.stdout).toContain(`# Migration ${MIGRATION} (up): Completed and verified`);
    expect(result.stdout).toMatch(new RegExp(`\\| ${DOCS} \\| ${DOCS} \\| 0 \\| 0 \\|`));
    expect(result.stdout).toContain(`${MIGRATION} up completed and verified on demo/${containerName}`);

    const docs = await documents();
    expect(docs).toHaveLength(DOCS);
    for (const doc of docs) {
      expect(doc.schemaVersion).toBe(2);
      expect(typeof doc.firstName).toBe('string');
      expect(doc).not.toHaveProperty('name');
    }
  }, 180_000);

  test('status lists the module as applied, from the migrations history', async () => {
    const result = await cli(['status']);
    if (result.code !== 0) throw new Error(explain(result));
    const row = result.stdout.split('\n').find((line) => line.startsWith(`${MIGRATION} `));
    expect(row).toBeDefined();
    expect(row).toMatch(/\bapplied\b/);
    expect(row).toContain(`demo/${containerName}`);
    expect(row).toContain('unchanged');
    expect(result.stdout).toContain('last records from the migrations history in Cosmos DB (https://');
  }, 60_000);

  test('a run started with --detach waits for approval; a second run on the container is refused; approve unblocks it', async () => {
    const started = await cli(['down', MIGRATION, '--detach', '--monitor-duration', '1s', '--monitor-interval', '1s']);
    if (started.code !== 0) throw new Error(explain(started));
    const workflowId = `cosmos-runbook/${stack.env.COSMOS_ACCOUNT}/demo/${containerName}`;
    expect(started.stdout).toContain(`workflow ${workflowId}`);
    expect(started.stdout).toContain(`npm run migrate -- approve ${MIGRATION}`);

    // It holds the container: a second start names the run that holds it.
    const second = await cli(['up', MIGRATION, '--yes']);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain(
      `error: container demo/${containerName} is held by a run in progress: ${workflowId}`
    );
    expect(second.stderr).toContain(`hint: follow it with \`npm run migrate -- status ${MIGRATION}\``);
    expect(second.stderr).not.toMatch(/\n\s+at /); // no stack trace

    // It waits at the gate; `status <id>` says so and how to answer.
    let status: CliResult | undefined;
    for (let i = 0; i < 60; i++) {
      status = await cli(['status', MIGRATION]);
      if (status.stdout.includes('waiting for approval')) break;
      await sleep(500);
    }
    expect(status!.stdout).toContain('phase       awaiting-approval');
    expect(status!.stdout).toContain(`approve: \`npm run migrate -- approve ${MIGRATION}\``);
    expect(await documents()).toEqual(expect.arrayContaining([expect.objectContaining({ schemaVersion: 2 })]));

    const approved = await cli(['approve', MIGRATION, '--by', 'alice', '--comment', 'CHG-42']);
    if (approved.code !== 0) throw new Error(explain(approved));
    expect(approved.stdout).toContain(`approved ${MIGRATION} as alice (${workflowId})`);

    const report = (await client.workflow.getHandle(workflowId).result()) as RunbookReport;
    expect(report.status).toBe('completed');
    expect(report.direction).toBe('down');
    expect(report.approvedBy).toBe('alice');
    const docs = await documents();
    expect(docs).toHaveLength(DOCS);
    for (const doc of docs) {
      expect(typeof doc.name).toBe('string');
      expect(doc).not.toHaveProperty('firstName');
    }

    const shown = await cli(['report', MIGRATION]);
    if (shown.code !== 0) throw new Error(explain(shown));
    expect(shown.stdout).toContain(`# Migration ${MIGRATION} (down): Completed and verified`);
  }, 180_000);

  test('a run that fails verification is rolled back, and up exits 2 with the reason', async () => {
    const { resources: before } = await badCustomers.items
      .query<Record<string, unknown>>('SELECT c.id, c.tenantId, c.name, c.email, c.notes FROM c')
      .fetchAll();
    const result = await cli(['up', BAD_MIGRATION, '--yes', '--monitor-duration', '1s', '--monitor-interval', '1s']);
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(new RegExp(`${BAD_MIGRATION} up did not complete: rolled-back — .+`));
    expect(result.stdout).toContain('→ rolling-back');
    const { resources: after } = await badCustomers.items
      .query<Record<string, unknown>>(
        'SELECT c.id, c.tenantId, c.name, c.email, c.notes, c.firstName, c.schemaVersion FROM c'
      )
      .fetchAll();
    // Back to the data as it was: same documents, name present, no trace of the migration.
    const byId = (docs: Record<string, unknown>[]) =>
      [...docs].sort((a, b) => String(a.id).localeCompare(String(b.id)));
    expect(byId(after)).toEqual(byId(before));
  }, 180_000);

  test('plan prints the estimate of a dry run and writes nothing', async () => {
    const before = await documents();
    const result = await cli(['plan', MIGRATION, '--ru-budget', '500']);
    if (result.code !== 0) throw new Error(explain(result));
    expect(result.stdout).toContain(`Plan for ${MIGRATION} (up) on demo/${containerName}`);
    expect(result.stdout).toMatch(new RegExp(`documents to migrate\\s+${DOCS}\\b`));
    expect(result.stdout).toContain('at the budget of 500 RU/s');
    const after = await documents();
    expect(after.map((d) => d._etag).sort()).toEqual(before.map((d) => d._etag).sort());
  }, 120_000);

  test('abort at the approval gate ends the run aborted with nothing changed', async () => {
    const before = await documents();
    const started = await cli(['up', MIGRATION, '--detach']);
    if (started.code !== 0) throw new Error(explain(started));
    const aborted = await cli(['abort', MIGRATION, '--reason', 'change freeze']);
    if (aborted.code !== 0) throw new Error(explain(aborted));
    expect(aborted.stdout).toContain(`abort sent to ${MIGRATION}`);

    const workflowId = `cosmos-runbook/${stack.env.COSMOS_ACCOUNT}/demo/${containerName}`;
    const report = (await client.workflow.getHandle(workflowId).result()) as RunbookReport;
    expect(report.status).toBe('aborted');
    expect(report.reason).toContain('change freeze');
    const after = await documents();
    expect(after.map((d) => d._etag).sort()).toEqual(before.map((d) => d._etag).sort());

    const status = await cli(['status', MIGRATION]);
    expect(status.stdout).toContain(`the last one (${workflowId}) ended aborted — `);
    expect(status.stdout).toContain('change freeze');
  }, 120_000);

  test('live controls: budget and concurrency answer the new state; a rejected one prints the reason and exits 1', async () => {
    const started = await cli(['up', MIGRATION, '--detach']);
    if (started.code !== 0) throw new Error(explain(started));
    const workflowId = `cosmos-runbook/${stack.env.COSMOS_ACCOUNT}/demo/${containerName}`;
    const handle = client.workflow.getHandle(workflowId);
    for (let i = 0; i < 120; i++) {
      const status = await handle.query(statusQuery).catch(() => undefined);
      if (status?.phase === 'awaiting-approval') break;
      await sleep(500);
    }
    const budget = await cli(['budget', MIGRATION, '800']);
    if (budget.code !== 0) throw new Error(explain(budget));
    expect(budget.stdout).toContain(
      `${MIGRATION} (${workflowId}): 800 RU/s, 4 range(s) at once, phase awaiting-approval`
    );
    const none = await cli(['concurrency', MIGRATION, '0']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('setConcurrency: concurrency must be a whole number from 1 to 32');
    const pause = await cli(['pause', MIGRATION]);
    expect(pause.code).toBe(1);
    expect(pause.stderr).toContain('pause: nothing to pause in phase awaiting-approval');
    const aborted = await cli(['abort', MIGRATION, '--reason', 'controls checked']);
    if (aborted.code !== 0) throw new Error(explain(aborted));
    expect(((await handle.result()) as RunbookReport).status).toBe('aborted');
  }, 120_000);

  test('rollback while monitoring rolls the run back to the data as it was', async () => {
    const before = await documents();
    const started = await cli([
      'up',
      MIGRATION,
      '--detach',
      '--yes',
      '--monitor-duration',
      '5m',
      '--monitor-interval',
      '1s',
    ]);
    if (started.code !== 0) throw new Error(explain(started));
    expect(started.stdout).toContain(`--yes: approving ${MIGRATION} as`);
    const workflowId = `cosmos-runbook/${stack.env.COSMOS_ACCOUNT}/demo/${containerName}`;
    const handle = client.workflow.getHandle(workflowId);
    for (let i = 0; i < 120; i++) {
      const status = await handle.query(statusQuery).catch(() => undefined);
      if (status?.phase === 'monitoring') break;
      await sleep(500);
    }
    expect((await handle.query(statusQuery)).phase).toBe('monitoring');

    const rolled = await cli(['rollback', MIGRATION, '--reason', 'error rate up']);
    if (rolled.code !== 0) throw new Error(explain(rolled));
    const report = (await handle.result()) as RunbookReport;
    expect(report.status).toBe('rolled-back');
    expect(report.rollback?.ok).toBe(true);
    const strip = (docs: Record<string, unknown>[]) =>
      docs
        .map(({ id, tenantId, name, email, notes, firstName, schemaVersion }) => ({
          id,
          tenantId,
          name,
          email,
          notes,
          firstName,
          schemaVersion,
        }))
        .sort((a, b) => String(a.id).localeCompare(String(b.id)));
    expect(strip(await documents())).toEqual(strip(before));
  }, 180_000);

  test('drill restores the container side by side into a new account, verifies it, deletes it, records the drill', async () => {
    const result = await cli(['drill', MIGRATION, '--sample', '20']);
    if (result.code !== 0) throw new Error(explain(result));
    expect(result.stdout).toContain(`started a restore drill of demo/${containerName}`);
    expect(result.stdout).toContain('restoring into a new account');
    expect(result.stdout).toMatch(
      new RegExp(
        `restore drill ok: ${DOCS} documents restored at \\S+ into ${containerName}-drill-[a-z0-9]+ in .* docs/s\\); account deleted; drill recorded`
      )
    );
    expect(stack.arm.control.restoredAccounts()).toEqual([]);
    const bad = await cli(['drill', MIGRATION, '--account', 'production']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('error: invalid option: account: must contain "drill"');
  }, 180_000);

  test('new writes a module the registry loads', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmos-runbook-cli-new-'));
    try {
      const result = await cli(['new', 'Add Email Verified', '--container', 'customers'], { MIGRATIONS_DIR: dir });
      if (result.code !== 0) throw new Error(explain(result));
      const file = result.stdout.trim();
      expect(path.dirname(file)).toBe(dir);
      expect(path.basename(file)).toMatch(/^\d{14}-add-email-verified\.ts$/);
      const registry = await loadRegistry(dir);
      const id = path.basename(file, '.ts');
      const loaded = registry.get(id);
      expect(loaded.definition.container).toBe('customers');
      const doc = { id: 'x', tenantId: 't', schemaVersion: 1 };
      expect(loaded.definition.up!(doc)).toEqual(doc);
      expect(loaded.definition.verify!({ ...doc, schemaVersion: 2 })).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test('up with no worker on the task queue says so; --detach returns at once', async () => {
    const lonelyQueue = uniqueTaskQueue('no-worker');
    const result = await cli(['up', MIGRATION, '--detach'], { TEMPORAL_TASK_QUEUE: lonelyQueue });
    const workflowId = `cosmos-runbook/${stack.env.COSMOS_ACCOUNT}/demo/${containerName}`;
    try {
      if (result.code !== 0) throw new Error(explain(result));
      expect(result.stdout).toContain(`warning: no worker polls task queue "${lonelyQueue}"`);
      expect(result.stdout).toContain('(start one with `npm run worker`)');
    } finally {
      await client.workflow
        .getHandle(workflowId)
        .terminate('test cleanup')
        .catch(() => undefined);
    }
  }, 60_000);

  test('an unreachable Temporal is one line with a hint, exit 1', async () => {
    const result = await cli(['status'], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: cannot reach Temporal at 127\.0\.0\.1:1: /);
    expect(result.stderr).toContain('hint: is the stack up? (npm run stack -- up)');
    expect(result.stderr.trim().split('\n')).toHaveLength(2);
  }, 60_000);
});

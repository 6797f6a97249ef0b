/**
 * What `plan` says a run costs, as a user asks (`tsx client/cli.ts plan <id>`, environment only) against a private
 * local stack and an in-process worker: for a module without down() the real run keeps pre-images (on by default),
 * so the plan prices their writes and its total is reads + writes + pre-images + verification; with down() (and
 * pre-images not asked for) there are none. The text says the same, with the price and the side effects of a rewrite.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MigrationPlan } from '../../common/activities';
import { priceOf } from '../../common/cost';
import { loadWorkerConfig } from '../../worker/config';
import { createRunbookWorker, type RunbookWorker } from '../../worker/create-worker';
import { customers, splitNameModule } from '../workflow/harness';
import { startTestStack, type TestStack } from '../support/stack';
import { installQuietRuntime, uniqueTaskQueue } from '../support/temporal';

const ROOT = path.resolve(__dirname, '..', '..');
const DOCS = 40;

let stack: TestStack;
let worker: RunbookWorker;
let workerRun: Promise<void>;
let env: NodeJS.ProcessEnv;
let dir: string;
const taskQueue = uniqueTaskQueue('plan-cost');

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [require.resolve('tsx/cli'), 'client/cli.ts', ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  stack = await startTestStack();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmos-runbook-plan-cost-'));
  const migrations = path.join(dir, 'migrations');
  fs.mkdirSync(migrations);
  const { database } = await stack.cosmosClient().databases.createIfNotExists({ id: 'plans' });
  const { container } = await database.containers.createIfNotExists({
    id: 'customers',
    partitionKey: { paths: ['/tenant'] },
  });
  for (const doc of customers(DOCS)) await container.items.create(doc);
  fs.writeFileSync(path.join(migrations, 'no-down.js'), splitNameModule('no-down', 'plans', { down: false }));
  fs.writeFileSync(path.join(migrations, 'with-down.js'), splitNameModule('with-down', 'plans'));
  env = {
    PATH: process.env.PATH,
    ...stack.env,
    TEMPORAL_TASK_QUEUE: taskQueue,
    MIGRATIONS_DIR: migrations,
    STACK_DIR: path.join(dir, '.local'),
    COSMOS_RUNBOOK_STACK_ENV: 'off',
  };
  installQuietRuntime();
  worker = await createRunbookWorker(loadWorkerConfig({ ...env, ARM_POLL_INTERVAL_MS: '50' }, dir));
  workerRun = worker.worker.run();
}, 180_000);

afterAll(async () => {
  if (worker) {
    worker.worker.shutdown();
    await workerRun;
    await worker.close();
  }
  await stack?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function plan(id: string, extra: string[] = []) {
  const r = await cli(['plan', id, '--json', ...extra]);
  if (r.code !== 0) throw new Error(`plan ${id} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(r.stdout) as {
    plan: MigrationPlan;
    price: { perMillionRu: number; currency: string; total: number };
  };
}

test('without down(), the plan prices the pre-image writes the run will make, and totals every part', async () => {
  const { plan: p, price } = await plan('no-down', ['--ru-budget', '100', '--ru-price', '2', '--currency', 'EUR']);
  const cost = p.cost!;
  expect(p.documentsToMigrate).toBe(DOCS);
  expect(p.sample.ruPerWrite).toBeGreaterThan(0);
  expect(cost.preimages).toBe(true);
  // One pre-image upsert per document to migrate, priced like the replace.
  expect(cost.preimageRu).toBe(Math.round(DOCS * p.sample.ruPerWrite));
  expect(cost.preimageRu).toBeGreaterThan(0);
  expect(cost.writeRu).toBe(Math.round(DOCS * p.sample.ruPerWrite));
  expect(
    Math.abs(cost.totalRu - (cost.readRu + cost.writeRu + cost.preimageRu + cost.verificationRu))
  ).toBeLessThanOrEqual(2);
  expect(cost.ruPerHourAtBudget).toBe(100 * 3600);
  // The budget is shared by the reads, writes and pre-image writes of the migration.
  expect(p.estimatedSeconds).toBeCloseTo((cost.readRu + cost.writeRu + cost.preimageRu) / 100, 0);
  expect(price).toEqual({ perMillionRu: 2, currency: 'EUR', total: priceOf(cost.totalRu, 2) });
  expect(p.sideEffects).toEqual(expect.arrayContaining([expect.stringMatching(/^change feed: /)]));
});

test('with down() and no pre-images asked for, none are priced; the text shows every line', async () => {
  const { plan: p } = await plan('with-down');
  expect(p.cost).toMatchObject({ preimages: false, preimageRu: 0 });
  expect(p.cost!.totalRu).toBeGreaterThan(p.cost!.writeRu);

  const text = await cli(['plan', 'no-down']);
  expect(text.code).toBe(0);
  for (const line of [
    /^ {4}reads +\d[\d,]* RU$/m,
    /^ {4}writes +\d[\d,]* RU$/m,
    /^ {4}pre-images +[1-9][\d,]* RU$/m,
    /^ {4}verification +\d[\d,]* RU$/m,
    /^ {4}total +[1-9][\d,]* RU$/m,
    /^ {4}price +\d+\.\d\d USD at 0\.25 USD per million RU/m,
    /^ {4}- TTL: a document with a time to live starts its countdown again/m,
  ]) {
    expect(text.stdout).toMatch(line);
  }
});

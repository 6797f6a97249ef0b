/**
 * The package as a user installs it: `npm pack` (which builds dist/ first: package.json `prepack`), the tarball
 * installed into an empty folder, then its `cosmos-runbook` bin, compiled JavaScript without the project around it:
 * - answers `--version` (package.json's) and `--help` (every command, `worker` included);
 * - `cosmos-runbook worker` bundles the compiled workflows (dist/workflows: Worker `workflowsPath`), loads a
 *   TypeScript migration module (tsx's hook, registered on demand: activities/registry.ts) and runs a migration to
 *   completion against the local stack.
 * The install uses the registry through npm's cache (`--prefer-offline`): the project's own install filled it.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { migrationRunbook } from '../../workflows';
import { uniqueTaskQueue } from '../support/temporal';
import { Harness, customers, splitNameModule } from '../workflow/harness';

const exec = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');
const VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

let dir: string;
let bin: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmos-runbook-package-'));
  const packed = await exec(NPM, ['pack', '--silent', '--pack-destination', dir], {
    cwd: ROOT,
    maxBuffer: 16 * 1024 * 1024,
  });
  const tarball = path.join(dir, packed.stdout.trim().split('\n').at(-1)!);
  const app = path.join(dir, 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  await exec(NPM, ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], {
    cwd: app,
    maxBuffer: 16 * 1024 * 1024,
  });
  bin = path.join(app, 'node_modules', '.bin', 'cosmos-runbook');
}, 300_000);

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** The installed bin, from a folder outside the project, with nothing of the project's environment. */
function run(args: string[]) {
  return exec(bin, args, { cwd: dir, env: { PATH: process.env.PATH, HOME: dir }, timeout: 60_000 });
}

test('the installed bin answers --version and --help', async () => {
  expect((await run(['--version'])).stdout.trim()).toBe(VERSION);
  const help = (await run(['--help'])).stdout;
  expect(help).toMatch(/^Usage: cosmos-runbook /);
  for (const command of ['up', 'down', 'plan', 'status', 'approve', 'rollback', 'drill', 'report', 'worker']) {
    expect(help).toMatch(new RegExp(`^  ${command} `, 'm'));
  }
  // Compiled: no TypeScript in the installed package but the example migrations.
  const installed = path.dirname(fs.realpathSync(bin));
  expect(installed).toMatch(/node_modules\/cosmos-runbook\/dist\/client$/);
});

describe('cosmos-runbook worker, installed', () => {
  let h: Harness;
  let worker: ChildProcess | undefined;
  let output = '';

  beforeAll(async () => {
    h = await Harness.start();
  }, 180_000);
  afterAll(async () => {
    if (worker && worker.exitCode === null) {
      const gone = new Promise((r) => worker!.once('exit', r));
      worker.kill('SIGTERM');
      await gone;
    }
    await h?.close();
  });

  test('bundles the compiled workflows, loads a TypeScript module and completes a migration', async () => {
    const { database } = await h.seed(customers(12));
    const id = `split-${randomUUID().slice(0, 6)}`;
    // A TypeScript module: `export default` and a type annotation, which only a TypeScript loader accepts.
    const source = splitNameModule(id, database)
      .replace('module.exports = {', 'const migration: Record<string, unknown> = {')
      .concat('export default migration;\n');
    h.writeMigration(`${id}.ts`, source);
    const taskQueue = uniqueTaskQueue('installed');
    worker = spawn(bin, ['worker'], {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        HOME: dir,
        ...h.stack.env,
        COSMOS_RUNBOOK_STACK_ENV: 'off',
        TEMPORAL_TASK_QUEUE: taskQueue,
        MIGRATIONS_DIR: h.migrationsDir,
        ARM_POLL_INTERVAL_MS: '50',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    worker.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    worker.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const deadline = Date.now() + 180_000;
    while (!output.includes('worker listening on task queue')) {
      if (worker.exitCode !== null) throw new Error(`the installed worker exited (${worker.exitCode}):\n${output}`);
      if (Date.now() > deadline) throw new Error(`the installed worker did not start:\n${output}`);
      await sleep(200);
    }
    const report = await h.client.workflow.execute(migrationRunbook, {
      taskQueue,
      workflowId: `installed-${randomUUID()}`,
      args: [{ migration: id, approval: { required: false }, monitor: { duration: '1s', interval: '1s' } }],
    });
    expect(report).toMatchObject({ status: 'completed', counters: { migrated: 12, failed: 0 } });
    expect((await h.documents(database, 'customers')).every((d) => d.schemaVersion === 2 && d.first)).toBe(true);
  }, 300_000);
});

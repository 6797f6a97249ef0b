/**
 * `migrate doctor` as a user runs it (`tsx client/cli.ts doctor`, configured only by the environment) against a
 * private local stack and the test run's Temporal dev server: with a worker polling, every check is ok; without one,
 * the workers line fails with the command that starts one; the ARM imitation refusing the restorable read (an identity
 * without that permission) fails that line with the permission to grant; `--json` gives the same checks as JSON.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CheckResult } from '../../client/doctor/checks';
import { loadWorkerConfig } from '../../worker/config';
import { createRunbookWorker, type RunbookWorker } from '../../worker/create-worker';
import { startTestStack, type TestStack } from '../support/stack';
import { installQuietRuntime, uniqueTaskQueue } from '../support/temporal';

const ROOT = path.resolve(__dirname, '..', '..');

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

let stack: TestStack;
let worker: RunbookWorker;
let workerRun: Promise<void>;
let env: NodeJS.ProcessEnv;
let stackDir: string;
const taskQueue = uniqueTaskQueue('doctor');

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

const CHECKS = [
  'configuration',
  'temporal',
  'search attributes',
  'workers',
  'cosmos db',
  'arm: read the account',
  'backup policy',
  'priority-based execution',
  'arm: restorable account',
  'arm: databases and containers',
];

beforeAll(async () => {
  // The account as docs/production.md recommends it, so every check is ok: priority-based execution on (the
  // emulator's default is Azure's, off, which the doctor warns about).
  stack = await startTestStack({ cosmosOptions: { priorityBasedExecution: true } });
  stackDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmos-runbook-doctor-stack-'));
  await stack.cosmosClient().databases.createIfNotExists({ id: 'demo' });
  env = {
    PATH: process.env.PATH,
    ...stack.env,
    TEMPORAL_TASK_QUEUE: taskQueue,
    // No .local/stack.env of the developer's own stack may leak in.
    STACK_DIR: stackDir,
    COSMOS_RUNBOOK_STACK_ENV: 'off',
  };
  installQuietRuntime();
}, 180_000);

afterAll(async () => {
  if (worker) {
    worker.worker.shutdown();
    await workerRun;
    await worker.close();
  }
  await stack?.close();
  fs.rmSync(stackDir, { recursive: true, force: true });
});

test('without a worker, doctor fails the workers line with the command that starts one', async () => {
  const r = await cli(['doctor']);
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(
    new RegExp(`^FAIL  workers +no worker polls task queue ${taskQueue}: a run would wait$`, 'm')
  );
  expect(r.stdout).toContain(`fix: start one: \`npm run worker\` (with TEMPORAL_TASK_QUEUE=${taskQueue})`);
});

test('against the local stack with a worker polling, every check is ok', async () => {
  worker = await createRunbookWorker(loadWorkerConfig({ ...env, ARM_POLL_INTERVAL_MS: '50' }, stackDir));
  workerRun = worker.worker.run();
  const r = await cli(['doctor']);
  expect({ code: r.code, out: explain(r) }).toMatchObject({ code: 0 });
  const lines = r.stdout.trimEnd().split('\n');
  expect(lines.map((l) => /^(\S+) +(.+?) {2,}/.exec(l)?.slice(1, 3))).toEqual(CHECKS.map((c) => ['ok', c]));
  expect(r.stdout).not.toContain('fix:');
  // Secrets never printed.
  expect(r.stdout).not.toContain(stack.env.COSMOS_KEY);
  expect(r.stdout).not.toContain(stack.env.LOCAL_ARM_TOKEN);

  const json = await cli(['doctor', '--json']);
  expect(json.code).toBe(0);
  const checks = JSON.parse(json.stdout) as CheckResult[];
  expect(checks.map((c) => [c.check, c.verdict])).toEqual(CHECKS.map((c) => [c, 'ok']));
});

test('an identity that may not read restorable accounts fails that line, naming the permission', async () => {
  stack.arm.control.setRestorePermission(false);
  try {
    const r = await cli(['doctor', '--json']);
    expect(r.code).toBe(1);
    const checks = JSON.parse(r.stdout) as CheckResult[];
    const failed = checks.filter((c) => c.verdict !== 'ok');
    expect(failed).toEqual([
      {
        check: 'arm: restorable account',
        verdict: 'fail',
        detail: expect.stringContaining('403 AuthorizationFailed'),
        fix: expect.stringContaining('Microsoft.DocumentDB/locations/restorableDatabaseAccounts/*'),
      },
    ]);
  } finally {
    stack.arm.control.setRestorePermission(true);
  }
});

test('--json: results and errors alike are one JSON document on stdout, whatever the command', async () => {
  const config = await cli(['config', '--json']);
  expect(config.code).toBe(0);
  expect(JSON.parse(config.stdout)).toMatchObject({
    configuration: {
      TEMPORAL_TASK_QUEUE: { value: taskQueue, source: 'environment' },
      COSMOS_KEY: { value: '(set, not shown)', source: 'environment' },
    },
  });
  // An error of the command (no module of that name), and a usage error (an unknown option).
  const missing = await cli(['approve', 'no-such-migration', '--json']);
  expect(missing.code).toBe(1);
  expect(JSON.parse(missing.stdout)).toEqual({
    error: {
      message: expect.stringMatching(/no-such-migration/),
      hint: expect.stringContaining('npm run migrate -- up no-such-migration'),
    },
  });
  const usage = await cli(['status', '--bogus', '--json']);
  expect(usage.code).toBe(1);
  expect(JSON.parse(usage.stdout)).toEqual({ error: { message: "unknown option '--bogus'" } });
});

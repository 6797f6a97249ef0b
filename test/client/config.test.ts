/**
 * One configuration for the worker and the `migrate` CLI: the same variables give the same Temporal connection, the
 * same migrations folder and the same stack-file rule; the CLI reports bad configuration one line per problem and
 * `migrate config` shows where each value came from, never a key.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadClientConfig } from '../../client/config';
import { loadWorkerConfig } from '../../worker/config';
import { SettingsError } from '../../worker/settings';

const exec = promisify(execFile);
const root = path.join(__dirname, '..', '..');
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'client-config-'));
  fs.mkdirSync(path.join(dir, 'migrations'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const production = {
  TEMPORAL_ADDRESS: 'prod.tmprl.invalid:7233',
  TEMPORAL_NAMESPACE: 'prod.abc12',
  TEMPORAL_API_KEY: 'api-key-value',
  COSMOS_ENDPOINT: 'https://prod-account.documents.azure.com:443/',
  AZURE_SUBSCRIPTION_ID: '11111111-2222-3333-4444-555555555555',
  AZURE_RESOURCE_GROUP: 'prod-rg',
  COSMOS_ACCOUNT: 'prod-account',
};

test('the worker and the CLI read the same variables the same way', () => {
  fs.writeFileSync(path.join(dir, 'ca.pem'), 'ca');
  const env = {
    ...production,
    STACK_DIR: path.join(dir, '.local'),
    INIT_CWD: dir,
    MIGRATIONS_DIR: 'migrations',
    TEMPORAL_TLS_CA: 'ca.pem',
    TEMPORAL_TLS_SERVER_NAME: 'prod.tmprl.invalid',
  };
  const worker = loadWorkerConfig(env);
  const cli = loadClientConfig(env);
  expect(cli.temporal).toEqual(worker.temporal);
  expect(worker.temporal).toEqual({
    address: production.TEMPORAL_ADDRESS,
    namespace: production.TEMPORAL_NAMESPACE,
    taskQueue: 'cosmos-runbook',
    apiKey: 'api-key-value',
    tls: { serverRootCaPath: path.join(dir, 'ca.pem'), serverName: 'prod.tmprl.invalid' },
  });
  expect(cli.migrationsDir).toBe(worker.migrationsDir);
  expect(cli.migrationsDir).toBe(path.join(dir, 'migrations'));
  expect(cli.azure).toEqual(worker.azure);
  // An API key alone means TLS with the system CAs, for both.
  const { TEMPORAL_TLS_CA: _ca, TEMPORAL_TLS_SERVER_NAME: _sn, ...keyOnly } = env;
  expect(loadClientConfig(keyOnly).temporal.tls).toBe(true);
  expect(loadWorkerConfig(keyOnly).temporal.tls).toBe(true);
});

test('the CLI needs no Azure settings, but refuses wrong ones with one problem per line', () => {
  const env = { STACK_DIR: path.join(dir, '.local'), INIT_CWD: dir };
  expect(loadClientConfig(env).azure).toBeUndefined();
  let problems: string[] = [];
  try {
    loadClientConfig({ ...env, TEMPORAL_ADDRESS: 'nope', TEMPORAL_TLS: 'maybe', TEMPORAL_TLS_CERT: 'missing.pem' });
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    problems = err.problems;
  }
  expect(problems).toEqual([
    'TEMPORAL_ADDRESS: must be host:port',
    'TEMPORAL_TLS: must be true or false',
    'TEMPORAL_TLS_CERT: file not found',
  ]);
});

async function migrate(
  args: string[],
  env: NodeJS.ProcessEnv
): Promise<{ code: number; stdout: string; stderr: string }> {
  const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
  return exec(tsx, [path.join(root, 'client', 'cli.ts'), ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH, STACK_DIR: path.join(dir, '.local'), ...env },
    timeout: 60_000,
  }).then(
    (r) => ({ code: 0, ...r }),
    (e: unknown) => e as { code: number; stdout: string; stderr: string }
  );
}

test('migrate config shows each value and its source, never a key; bad configuration is one line per problem', async () => {
  const shown = await migrate(['config'], { ...production, COSMOS_KEY: 'cosmos-key-value' });
  expect(shown.code).toBe(0);
  expect(shown.stdout).toMatch(/TEMPORAL_ADDRESS +prod\.tmprl\.invalid:7233 +\[environment\]/);
  expect(shown.stdout).toMatch(/TEMPORAL_API_KEY +\(set, not shown\) +\[environment\]/);
  expect(shown.stdout).toMatch(/COSMOS_KEY +\(set, not shown\) +\[environment\]/);
  expect(shown.stdout).toMatch(/TEMPORAL_TASK_QUEUE +cosmos-runbook +\[default\]/);
  expect(shown.stdout).not.toMatch(/api-key-value|cosmos-key-value/);

  const bad = await migrate(['status'], { TEMPORAL_ADDRESS: 'nope', ARM_ENDPOINT: 'http://x' });
  expect(bad.code).toBe(1);
  expect(bad.stderr.trim().split('\n')).toEqual([
    'error: TEMPORAL_ADDRESS: must be host:port',
    'error: ARM_ENDPOINT: must be an https:// URL',
  ]);
}, 90_000);

/**
 * The worker's configuration as a user meets it: every problem at once, one line each, naming the variable;
 * `.local/stack.env` fills in what the environment does not set; `npm run worker` prints the lines and exits 1.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { loadWorkerConfig, WorkerConfigError } from '../../worker/config';

const exec = promisify(execFile);
const root = path.join(__dirname, '..', '..');
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'worker-config-'));
  fs.mkdirSync(path.join(dir, 'migrations'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadWorkerConfig(env, dir);
  } catch (err) {
    if (err instanceof WorkerConfigError) return err.problems;
    throw err;
  }
  return [];
}

const azure = {
  COSMOS_ENDPOINT: 'https://127.0.0.1:8081/',
  AZURE_SUBSCRIPTION_ID: 'sub',
  AZURE_RESOURCE_GROUP: 'rg',
  COSMOS_ACCOUNT: 'acct',
};

test('every missing or wrong variable is one line naming it', () => {
  expect(problemsOf({ TEMPORAL_ADDRESS: 'no-port', ARM_ENDPOINT: 'http://insecure' })).toEqual([
    'TEMPORAL_ADDRESS: must be host:port',
    'COSMOS_ENDPOINT: missing',
    'AZURE_SUBSCRIPTION_ID: missing',
    'AZURE_RESOURCE_GROUP: missing',
    'COSMOS_ACCOUNT: missing',
    'ARM_ENDPOINT: must be an https:// URL',
  ]);
});

test('defaults, and .local/stack.env under the real environment', () => {
  fs.mkdirSync(path.join(dir, '.local'));
  fs.writeFileSync(
    path.join(dir, '.local', 'stack.env'),
    Object.entries({ ...azure, TEMPORAL_TASK_QUEUE: 'from-file', COSMOS_KEY: 'k' })
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')
  );
  const config = loadWorkerConfig({ TEMPORAL_TASK_QUEUE: 'from-env' }, dir);
  expect(config.temporal).toEqual({ address: 'localhost:7233', namespace: 'default', taskQueue: 'from-env' });
  expect(config.azure).toMatchObject({ cosmosEndpoint: azure.COSMOS_ENDPOINT, cosmosKey: 'k', account: 'acct' });
  expect(config.migrationsDir).toBe(path.join(dir, 'migrations'));
});

test("the stack's certificate stays with the stack's endpoints, whatever NODE_EXTRA_CA_CERTS the shell sets", () => {
  const stackCert = path.join(dir, 'stack-cert.pem');
  const shellBundle = path.join(dir, 'system-bundle.pem');
  fs.writeFileSync(stackCert, 'stack');
  fs.writeFileSync(shellBundle, 'system');
  fs.mkdirSync(path.join(dir, '.local'));
  fs.writeFileSync(
    path.join(dir, '.local', 'stack.env'),
    Object.entries({ ...azure, NODE_EXTRA_CA_CERTS: stackCert })
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')
  );
  expect(loadWorkerConfig({ NODE_EXTRA_CA_CERTS: shellBundle }, dir).azure.caCertPath).toBe(stackCert);
  // A shell that points the worker at another Cosmos DB keeps its own CA.
  const elsewhere = { NODE_EXTRA_CA_CERTS: shellBundle, COSMOS_ENDPOINT: 'https://elsewhere.example/' };
  expect(loadWorkerConfig(elsewhere, dir).azure.caCertPath).toBe(shellBundle);
});

test('HOOKS_CONFIG is validated: one line per problem', () => {
  const file = path.join(dir, 'hooks.json');
  fs.writeFileSync(
    file,
    JSON.stringify({ notify: { webhooks: ['ftp://x'] }, stopApp: {}, healthChecks: [{ name: 'a' }], extra: 1 })
  );
  const problems = problemsOf({ ...azure, HOOKS_CONFIG: file });
  expect(problems).toEqual(
    expect.arrayContaining([
      'HOOKS_CONFIG: notify.webhooks.0: must be an http(s) URL',
      expect.stringMatching(/^HOOKS_CONFIG: stopApp\.command: /),
      'HOOKS_CONFIG: healthChecks.0: needs exactly one of "command" or "url"',
      expect.stringMatching(/^HOOKS_CONFIG: \(root\): .*extra/),
    ])
  );
  fs.writeFileSync(file, '{ not json');
  expect(problemsOf({ ...azure, HOOKS_CONFIG: file })[0]).toMatch(/^HOOKS_CONFIG: .* is not valid JSON/);
});

test('npm run worker with a bad configuration prints the problems and exits 1', async () => {
  const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
  const err = await exec(tsx, [path.join(root, 'worker', 'main.ts')], {
    cwd: dir,
    env: { PATH: process.env.PATH, COSMOS_ACCOUNT: 'acct' },
    timeout: 60_000,
  }).catch((e: unknown) => e as { code: number; stderr: string });
  expect(err).toMatchObject({ code: 1 });
  expect((err as { stderr: string }).stderr.trim().split('\n')).toEqual([
    'COSMOS_ENDPOINT: missing',
    'AZURE_SUBSCRIPTION_ID: missing',
    'AZURE_RESOURCE_GROUP: missing',
  ]);
});

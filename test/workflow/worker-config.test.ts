/**
 * The worker's configuration as a user meets it: every problem at once, one line each, naming the variable;
 * a running local stack's `stack.env` fills in what the environment does not set, a stale one (its stack gone) is
 * ignored and said so; local and non-local endpoints are never mixed; `npm run worker` prints the lines and exits 1.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { loadWorkerConfig, WorkerConfigError } from '../../worker/config';
import { boundHeapGrowth, HEAP_GROWING_PERCENT } from '../../worker/heap';
import { describeSettings } from '../../worker/settings';
import { stackOwnerVars } from '../../worker/stack-file';

const exec = promisify(execFile);
const root = path.join(__dirname, '..', '..');
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'worker-config-'));
  fs.mkdirSync(path.join(dir, 'migrations'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The tests' own stack folder, so a developer's running stack never leaks in. */
const own = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({ STACK_DIR: path.join(dir, '.local'), ...env });

/** A stack.env in the test's stack folder, owned by `owner` (default: this process, so "running"). */
function writeStackFile(vars: Record<string, string>, owner = stackOwnerVars()): string {
  fs.mkdirSync(path.join(dir, '.local'), { recursive: true });
  const file = path.join(dir, '.local', 'stack.env');
  fs.writeFileSync(
    file,
    Object.entries({ ...vars, ...owner })
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')
  );
  return file;
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

const localStack = {
  TEMPORAL_ADDRESS: '127.0.0.1:7233',
  COSMOS_ENDPOINT: 'https://127.0.0.1:8081/',
  COSMOS_KEY: 'emulator-key',
  AZURE_SUBSCRIPTION_ID: '00000000-0000-4000-8000-000000000001',
  AZURE_RESOURCE_GROUP: 'local-rg',
  COSMOS_ACCOUNT: 'local-account',
  ARM_ENDPOINT: 'https://127.0.0.1:8443',
  LOCAL_ARM_TOKEN: 'local-token-123',
};

const production = {
  TEMPORAL_ADDRESS: 'prod.tmprl.invalid:7233',
  TEMPORAL_NAMESPACE: 'prod.abc12',
  COSMOS_ENDPOINT: 'https://prod-account.documents.azure.com:443/',
  AZURE_SUBSCRIPTION_ID: '11111111-2222-3333-4444-555555555555',
  AZURE_RESOURCE_GROUP: 'prod-rg',
  COSMOS_ACCOUNT: 'prod-account',
};

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadWorkerConfig(own(env), dir);
  } catch (err) {
    if (err instanceof WorkerConfigError) return err.problems;
    throw err;
  }
  return [];
}

const azure = {
  COSMOS_ENDPOINT: 'https://127.0.0.1:8081/',
  ARM_ENDPOINT: 'https://127.0.0.1:8443',
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

test("defaults, and a running stack's stack.env under the real environment, each value with its source", () => {
  writeStackFile({ ...azure, TEMPORAL_TASK_QUEUE: 'from-file', COSMOS_KEY: 'secret-key-value' });
  const config = loadWorkerConfig(own({ TEMPORAL_TASK_QUEUE: 'from-env' }), dir);
  expect(config.temporal).toEqual({ address: 'localhost:7233', namespace: 'default', taskQueue: 'from-env' });
  expect(config.azure).toMatchObject({ cosmosEndpoint: azure.COSMOS_ENDPOINT, cosmosKey: 'secret-key-value' });
  expect(config.azure.account).toBe('acct');
  expect(config.migrationsDir).toBe(path.join(root, 'migrations'));
  expect(config.settings?.sources).toMatchObject({
    TEMPORAL_ADDRESS: 'default',
    TEMPORAL_TASK_QUEUE: 'environment',
    COSMOS_ENDPOINT: 'stack file',
    COSMOS_KEY: 'stack file',
    MIGRATIONS_DIR: 'default',
  });
  const log = describeSettings(config.settings!).join('\n');
  expect(log).toContain(`using .local/stack.env (the local stack, pid ${process.pid})`);
  expect(log).toMatch(/TEMPORAL_TASK_QUEUE +from-env +\[environment\]/);
  expect(log).toMatch(/COSMOS_KEY +\(set, not shown\) +\[stack file /);
  expect(log).not.toContain('secret-key-value');
});

test('production variables in a checkout with a stale stack.env (its stack gone): none of the file is used, and the log says so', async () => {
  const pid = await deadPid();
  writeStackFile(localStack, { LOCAL_STACK_PID: String(pid) });
  const config = loadWorkerConfig(own(production), dir);
  expect(config.temporal.address).toBe(production.TEMPORAL_ADDRESS);
  expect(config.azure).toEqual({
    cosmosEndpoint: production.COSMOS_ENDPOINT,
    subscriptionId: production.AZURE_SUBSCRIPTION_ID,
    resourceGroup: production.AZURE_RESOURCE_GROUP,
    account: production.COSMOS_ACCOUNT,
  });
  expect(Object.values(config.settings!.sources)).not.toContain('stack file');
  expect(config.settings?.notes).toEqual([
    `ignoring .local/stack.env: its stack (pid ${pid}) is not running; none of its settings are used`,
  ]);
});

test('local and non-local endpoints are never mixed: a running stack under production variables is refused', () => {
  writeStackFile(localStack);
  const problems = problemsOf({ COSMOS_ENDPOINT: production.COSMOS_ENDPOINT });
  expect(problems).toEqual([
    'endpoints: local and non-local endpoints are mixed: TEMPORAL_ADDRESS=127.0.0.1:7233 (local, stack file), ' +
      `COSMOS_ENDPOINT=${production.COSMOS_ENDPOINT} (not local, environment), ` +
      'ARM_ENDPOINT=https://127.0.0.1:8443 (local, stack file); ' +
      'point all of them at the local stack or all of them elsewhere',
  ]);
  // The emulator with public Azure ARM (ARM_ENDPOINT unset) is mixed too; a local token never goes to Azure.
  expect(problemsOf({ ...localStack, ARM_ENDPOINT: undefined, COSMOS_RUNBOOK_STACK_ENV: 'off' })).toEqual([
    expect.stringMatching(/^endpoints: .*ARM_ENDPOINT=https:\/\/management\.azure\.com \(not local, default\)/),
    expect.stringMatching(
      /^LOCAL_ARM_TOKEN: set \(environment\), but ARM_ENDPOINT is https:\/\/management\.azure\.com/
    ),
  ]);
});

test('COSMOS_RUNBOOK_STACK_ENV: a path uses that file whatever its state (with a warning); off never reads one', async () => {
  const pid = await deadPid();
  const file = writeStackFile(localStack, { LOCAL_STACK_PID: String(pid) });
  const explicit = loadWorkerConfig(own({ COSMOS_RUNBOOK_STACK_ENV: file }), dir);
  expect(explicit.azure.armEndpoint).toBe(localStack.ARM_ENDPOINT);
  expect(explicit.settings?.notes).toEqual([
    `using .local/stack.env (COSMOS_RUNBOOK_STACK_ENV; warning: its stack (pid ${pid}) is not running)`,
  ]);

  writeStackFile(localStack);
  expect(problemsOf({ COSMOS_RUNBOOK_STACK_ENV: 'off' })).toContain('COSMOS_ENDPOINT: missing');
  expect(problemsOf({ COSMOS_RUNBOOK_STACK_ENV: 'nowhere.env' })).toContain(
    `COSMOS_RUNBOOK_STACK_ENV: ${path.join(dir, 'nowhere.env')} not found`
  );
});

test('relative paths are resolved against the folder the command was run from (INIT_CWD under npm run)', () => {
  const ca = path.join(dir, 'ca.pem');
  fs.writeFileSync(ca, 'ca');
  const env = own({ ...azure, INIT_CWD: dir, MIGRATIONS_DIR: 'migrations', TEMPORAL_TLS_CA: 'ca.pem' });
  const config = loadWorkerConfig(env);
  expect(config.migrationsDir).toBe(path.join(dir, 'migrations'));
  // The worker honours TEMPORAL_TLS_CA (and the CLI's other TLS variables) like the CLI does.
  expect(config.temporal.tls).toEqual({ serverRootCaPath: ca });
  expect(problemsOf({ ...azure, MIGRATIONS_DIR: 'elsewhere' })).toEqual([
    `MIGRATIONS_DIR: ${path.join(dir, 'elsewhere')} is not a folder`,
  ]);
});

test("the stack's certificate stays with the stack's endpoints, whatever NODE_EXTRA_CA_CERTS the shell sets", () => {
  const stackCert = path.join(dir, 'stack-cert.pem');
  const shellBundle = path.join(dir, 'system-bundle.pem');
  fs.writeFileSync(stackCert, 'stack');
  fs.writeFileSync(shellBundle, 'system');
  writeStackFile({ ...azure, NODE_EXTRA_CA_CERTS: stackCert });
  expect(loadWorkerConfig(own({ NODE_EXTRA_CA_CERTS: shellBundle }), dir).azure.caCertPath).toBe(stackCert);
  // A shell that points the worker at another Cosmos DB keeps its own CA.
  const elsewhere = { NODE_EXTRA_CA_CERTS: shellBundle, COSMOS_ENDPOINT: 'https://localhost:9999/' };
  expect(loadWorkerConfig(own(elsewhere), dir).azure.caCertPath).toBe(shellBundle);
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

/** The worker's stdout: one JSON object per line (worker/logger.ts). */
function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function runWorker(env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
  return exec(tsx, [path.join(root, 'worker', 'main.ts')], {
    cwd: dir,
    env: { PATH: process.env.PATH, STACK_DIR: path.join(dir, '.local'), ...env },
    timeout: 60_000,
  }).then(
    (r) => ({ code: 0, ...r }),
    (e: unknown) => e as { code: number; stdout: string; stderr: string }
  );
}

test('npm run worker with a bad configuration prints the problems and exits 1', async () => {
  const err = await runWorker({ COSMOS_ACCOUNT: 'acct' });
  expect(err).toMatchObject({ code: 1 });
  // One JSON line per problem (worker/logger.ts), on stdout like every line of the worker.
  expect(jsonLines(err.stdout).map((r) => [r.level, r.msg])).toEqual([
    ['error', 'COSMOS_ENDPOINT: missing'],
    ['error', 'AZURE_SUBSCRIPTION_ID: missing'],
    ['error', 'AZURE_RESOURCE_GROUP: missing'],
  ]);
});

test('npm run worker with production variables beside a stale stack.env uses none of it and says so', async () => {
  const pid = await deadPid();
  writeStackFile(localStack, { LOCAL_STACK_PID: String(pid) });
  // Temporal at an address that cannot resolve: the worker logs its configuration, then fails to connect.
  const result = await runWorker({ ...production, MIGRATIONS_DIR: path.join(dir, 'migrations') });
  expect(result.code).toBe(1);
  const records = jsonLines(result.stdout);
  expect(records[0]?.msg).toBe(
    `ignoring .local/stack.env: its stack (pid ${pid}) is not running; none of its settings are used`
  );
  const configuration = records.find((r) => r.msg === 'configuration')?.configuration;
  expect(configuration).toMatchObject({
    TEMPORAL_ADDRESS: { value: 'prod.tmprl.invalid:7233', source: 'environment' },
    COSMOS_ENDPOINT: { value: 'https://prod-account.documents.azure.com:443/', source: 'environment' },
    TEMPORAL_TASK_QUEUE: { value: 'cosmos-runbook', source: 'default' },
  });
  // The heap policy of worker/heap.ts: peak memory flat with the run's size (bench figure 4).
  expect(records.map((r) => r.msg)).toContainEqual(expect.stringMatching(/^heap: --heap-growing-percent=50 /));
  expect(result.stdout).not.toMatch(/stack file|127\.0\.0\.1|LOCAL_ARM_TOKEN|local-token-123|ARM_ENDPOINT/);
  expect(records.at(-1)).toMatchObject({
    level: 'error',
    msg: expect.stringMatching(/^cannot reach Temporal at prod\.tmprl\.invalid:7233: /),
  });
}, 90_000);

test("the worker's heap policy leaves a --heap-growing-percent given to node alone", () => {
  // (Given a recorder, not V8: the flag would otherwise apply to the test process itself.)
  const set: string[] = [];
  const record = (flag: string) => void set.push(flag);
  expect(boundHeapGrowth([], record)).toBe(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  expect(boundHeapGrowth(['--heap-growing-percent=100'], record)).toBeUndefined();
  expect(boundHeapGrowth(['--max-old-space-size=2048', '--heap_growing_percent=20'], record)).toBeUndefined();
  expect(set).toEqual([`--heap-growing-percent=${HEAP_GROWING_PERCENT}`]);
});

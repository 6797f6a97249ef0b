/**
 * `npm run stack -- up | status | down` as a user runs it, on free ports and a private folder (STACK_DIR), so it
 * never touches a developer's own .local/ stack: every part answers through the real clients, stack.env is all a
 * client needs, `down` leaves no process behind, failures are one clear line instead of a hang, and a Temporal server
 * that dies is started again on its data while the rest keeps running.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import dotenv from 'dotenv';
import { createArmClient, createCosmosClient } from '../../activities/clients';
import { azureSettingsFromStackEnv, readStackEnv, STACK_ENV_KEYS } from '../../local/stack-env';
import { freePort } from '../../local/temporal-server';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { goSignal, waitForGo } from './workflows';

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: (message: string) => console.error(message),
};

const ROOT = path.resolve(__dirname, '..', '..');
const run = promisify(execFile);

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npm run stack -- <args>` in `dir`; never throws, so tests can assert on failures too. */
async function stack(dir: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  try {
    const { stdout, stderr } = await run('npm', ['run', '--silent', 'stack', '--', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env, STACK_DIR: dir },
      timeout: 110_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Every process in the stack's process group (the daemon and the Temporal server). */
async function groupPids(pgid: number): Promise<number[]> {
  const { stdout } = await run('ps', ['-o', 'pid=', '-g', String(pgid)]).catch(() => ({ stdout: '' }));
  return stdout
    .split('\n')
    .map((line) => Number(line.trim()))
    .filter((pid) => pid > 0);
}

async function portsFor(): Promise<string[]> {
  const [temporal, ui, cosmos, arm] = [await freePort(), await freePort(), await freePort(), await freePort()];
  return [
    '--temporal-port',
    String(temporal),
    '--temporal-ui-port',
    String(ui),
    '--cosmos-port',
    String(cosmos),
    '--arm-port',
    String(arm),
  ];
}

const dirs: string[] = [];
function newStackDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmos-runbook-stack-'));
  dirs.push(dir);
  return dir;
}

afterAll(async () => {
  // Whatever a failed test left running goes down here.
  for (const dir of dirs) {
    const pidFile = path.join(dir, 'stack.pid');
    if (fs.existsSync(pidFile)) {
      const pgid = Number(fs.readFileSync(pidFile, 'utf8'));
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('up starts every part, stack.env is all a client needs, down leaves no process behind', async () => {
  const dir = newStackDir();
  const ports = await portsFor();

  const up = await stack(dir, ['up', ...ports]);
  expect(up).toMatchObject({ code: 0, stderr: expect.not.stringContaining('stack:') });
  expect(up.stdout).toMatch(/Temporal\s+up/);

  // dotenv-compatible, every documented key, nothing quoted.
  const raw = fs.readFileSync(path.join(dir, 'stack.env'), 'utf8');
  // ... and the process that owns the stack (the background daemon), so readers can tell a live stack from a stale file.
  const parsedEnv = dotenv.parse(raw);
  expect(Object.keys(parsedEnv).sort()).toEqual(
    [...STACK_ENV_KEYS, 'LOCAL_STACK_PID', ...(parsedEnv.LOCAL_STACK_PID_START ? ['LOCAL_STACK_PID_START'] : [])].sort()
  );
  expect(parsedEnv.LOCAL_STACK_PID).toBe(fs.readFileSync(path.join(dir, 'stack.pid'), 'utf8').trim());
  expect(raw).not.toMatch(/["']/);
  const env = readStackEnv(dir)!;
  expect(env.TEMPORAL_ADDRESS).toBe(`127.0.0.1:${ports[1]}`);
  expect(env.TEMPORAL_UI_URL).toBe(`http://localhost:${ports[3]}`);
  expect(env.TEMPORAL_TASK_QUEUE).toBe('cosmos-runbook');
  expect(path.isAbsolute(env.NODE_EXTRA_CA_CERTS)).toBe(true);

  // Temporal answers the real CLI.
  const cli = process.env.TEMPORAL_CLI_PATH!;
  const health = await run(cli, ['operator', 'cluster', 'health', '--address', env.TEMPORAL_ADDRESS]);
  expect(health.stdout).toContain('SERVING');
  const attributes = await run(cli, ['operator', 'search-attribute', 'list', '--address', env.TEMPORAL_ADDRESS]);
  for (const name of ['MigrationId', 'MigrationPhase', 'CosmosContainer']) expect(attributes.stdout).toContain(name);

  // A document round trip through @azure/cosmos, with nothing but stack.env's values.
  const settings = azureSettingsFromStackEnv(env);
  const cosmos = createCosmosClient(settings);
  try {
    const { database } = await cosmos.databases.createIfNotExists({ id: 'launcher' });
    const { container } = await database.containers.createIfNotExists({
      id: 'things',
      partitionKey: { paths: ['/pk'] },
    });
    await container.items.create({ id: 'a', pk: 'p', n: 1 });
    const { resource: read } = await container.item('a', 'p').read<{ n: number }>();
    expect(read?.n).toBe(1);
    await container.item('a', 'p').replace({ id: 'a', pk: 'p', n: 2 });
    const { resources } = await container.items.query<{ n: number }>('SELECT c.n FROM c WHERE c.id = "a"').fetchAll();
    expect(resources).toEqual([{ n: 2 }]);
    await container.item('a', 'p').delete();
    const { resources: left } = await container.items.readAll().fetchAll();
    expect(left).toEqual([]);

    // ARM sees the same account and the database just made through the data plane.
    const arm = createArmClient(settings);
    const account = await arm.databaseAccounts.get(env.AZURE_RESOURCE_GROUP, env.COSMOS_ACCOUNT);
    expect(account.name).toBe('local-account');
    expect(account.backupPolicy?.type).toBe('Continuous');
    const db = await arm.sqlResources.getSqlDatabase(env.AZURE_RESOURCE_GROUP, env.COSMOS_ACCOUNT, 'launcher');
    expect(db.resource?.id).toBe('launcher');
  } finally {
    cosmos.dispose();
  }

  const status = await stack(dir, ['status']);
  expect(status.code).toBe(0);
  expect(status.stdout.match(/\bup\b/g)).toHaveLength(3);

  const again = await stack(dir, ['up', ...ports]);
  expect(again.code).toBe(0);
  expect(again.stdout).toContain('already up');

  const pgid = Number(fs.readFileSync(path.join(dir, 'stack.pid'), 'utf8'));
  const pids = await groupPids(pgid);
  expect(pids).toContain(pgid);
  expect(pids.length).toBeGreaterThanOrEqual(2); // the daemon and the Temporal server at least

  const down = await stack(dir, ['down']);
  expect(down.code).toBe(0);
  expect(pids.filter(alive)).toEqual([]);
  expect(fs.existsSync(path.join(dir, 'stack.env'))).toBe(false);
  expect(fs.existsSync(path.join(dir, 'stack.pid'))).toBe(false);
  // Data stays.
  expect(fs.existsSync(path.join(dir, 'temporal.db'))).toBe(true);
  expect(fs.existsSync(env.NODE_EXTRA_CA_CERTS)).toBe(true);

  const after = await stack(dir, ['status']);
  expect(after.code).not.toBe(0);
  expect(after.stdout).toContain('down');
});

test('a port in use fails at once with one line naming the port and the part', async () => {
  const dir = newStackDir();
  const busy = net.createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  const busyPort = (busy.address() as net.AddressInfo).port;
  try {
    const ports = await portsFor();
    const started = Date.now();
    const result = await stack(dir, ['up', ...ports, '--cosmos-port', String(busyPort)]);
    expect(result.code).not.toBe(0);
    expect(result.stderr.trim()).toBe(
      `stack: port ${busyPort} (Cosmos emulator) is already in use; stop what holds it or choose another port`
    );
    expect(Date.now() - started).toBeLessThan(30_000);

    const temporalBusy = await stack(dir, ['up', ...ports, '--temporal-port', String(busyPort)]);
    expect(temporalBusy.code).not.toBe(0);
    expect(temporalBusy.stderr).toContain(`port ${busyPort} (Temporal gRPC) is already in use`);
    expect(fs.existsSync(path.join(dir, 'stack.pid'))).toBe(false);
  } finally {
    busy.close();
  }
});

test('a Temporal server that dies while starting is reported with its own words, and nothing is left running', async () => {
  const dir = newStackDir();
  const fakeCli = path.join(dir, 'temporal');
  fs.writeFileSync(fakeCli, '#!/bin/sh\necho "FATAL: cannot open the database" >&2\nexit 3\n', { mode: 0o755 });

  const result = await stack(dir, ['up', ...(await portsFor())], { TEMPORAL_CLI_PATH: fakeCli });
  expect(result.code).not.toBe(0);
  expect(result.stderr).toMatch(/Temporal dev server \(pid \d+\) exited with code 3: FATAL: cannot open the database/);
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(fs.existsSync(path.join(dir, 'stack.pid'))).toBe(false);
  expect(fs.existsSync(path.join(dir, 'stack.env'))).toBe(false);
});

test('a Temporal server killed with SIGKILL is started again on the same data; the rest keeps running', async () => {
  const dir = newStackDir();
  expect((await stack(dir, ['up', ...(await portsFor())])).code).toBe(0);
  const env = readStackEnv(dir)!;
  const pgid = Number(fs.readFileSync(path.join(dir, 'stack.pid'), 'utf8'));
  const temporalPid = async () => {
    const { stdout } = await run('pgrep', ['-g', String(pgid), '-f', 'server start-dev']).catch(() => ({ stdout: '' }));
    return Number(stdout.trim().split('\n')[0]) || undefined;
  };
  const firstPid = (await temporalPid())!;
  expect(firstPid).toBeGreaterThan(0);

  // A workflow started before the kill, waiting for a signal: its state lives only in temporal.db.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: quietLogger });
  const workerConnection = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS });
  const taskQueue = 'supervised';
  const worker = await Worker.create({
    connection: workerConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: { greet: async (name: string) => `hello ${name}` },
  });
  const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
  const client = new Client({ connection });
  try {
    await worker.runUntil(async () => {
      const handle = await client.workflow.start(waitForGo, { taskQueue, workflowId: 'before-the-kill' });
      // Wait until the worker has run its first task: the workflow is then waiting in the server's history.
      while ((await handle.fetchHistory()).events!.length < 4) await sleep(100);

      process.kill(firstPid, 'SIGKILL');
      const cosmos = createCosmosClient(azureSettingsFromStackEnv(env));
      try {
        // The Cosmos emulator keeps answering while Temporal is down and restarting.
        await cosmos.databases.createIfNotExists({ id: 'while-temporal-restarts' });
      } finally {
        cosmos.dispose();
      }
      // Until the restart shows (a daemon that gave up or stopped would never show it: fail with what status says).
      let status = await stack(dir, ['status']);
      for (let i = 0; i < 60 && (!/supervised, 1 restart/.test(status.stdout) || status.code !== 0); i++) {
        await sleep(500);
        status = await stack(dir, ['status']);
      }
      expect(status.stdout).toMatch(
        /Temporal\s+up\s+.*\n\s+supervised, 1 restart, last exit \S+: Temporal dev server \(pid \d+\) exited with SIGKILL/
      );
      expect(status.stdout.match(/\bup\b/g)).toHaveLength(3);
      const secondPid = await temporalPid();
      expect(secondPid).toBeGreaterThan(0);
      expect(secondPid).not.toBe(firstPid);
      expect(alive(pgid)).toBe(true);

      // Same data: the workflow started before the kill is still there and completes.
      await handle.signal(goSignal, 'again');
      expect(await handle.result()).toBe('hello again');
    });
  } finally {
    await connection.close();
    await workerConnection.close();
  }
  expect(fs.readFileSync(path.join(dir, 'logs', 'stack.log'), 'utf8')).toMatch(
    /Temporal exited unexpectedly: .*SIGKILL[^]*Temporal: restarted \(pid \d+; 1 restart\(s\) so far\)/
  );

  expect((await stack(dir, ['down'])).code).toBe(0);
  expect(alive(pgid)).toBe(false);
  expect(fs.existsSync(path.join(dir, 'stack-parts.json'))).toBe(false);
});

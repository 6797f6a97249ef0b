/**
 * The Temporal dev server (`temporal server start-dev`) as a child process: the real server with the project's search
 * attributes registered, its output in a log file, ready only once it answers gRPC health checks.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { searchAttributeFlags } from '../common/search-attributes';
import { assertPortFree, StackError, waitUntil } from './readiness';

export interface TemporalDevServerOptions {
  /** Absolute path of the `temporal` binary (see ensureTemporalCli). */
  cli: string;
  /** gRPC port; 0: a free one. @default 7233 */
  port?: number;
  /** Web UI port; false: no UI. @default port + 1000 */
  uiPort?: number | false;
  /** SQLite file that keeps workflows across restarts; absent: in memory. */
  dbFile?: string;
  /** Where the server's stdout and stderr go. */
  logFile: string;
  /** @default 60000 */
  startTimeoutMs?: number;
  extraArgs?: string[];
}

export interface TemporalDevServer {
  /** host:port for clients and workers. */
  address: string;
  uiUrl?: string;
  pid: number;
  /** Called once if the server exits without stop() (it crashed or was killed). */
  onUnexpectedExit(listener: (reason: string) => void): void;
  stop(): Promise<void>;
}

/** The dynamic config the SDK's own test server uses; the version check would reach the internet. */
const DYNAMIC_CONFIG = [
  'frontend.enableServerVersionCheck=false',
  'frontend.enableUpdateWorkflowExecution=true',
  'frontend.enableUpdateWorkflowExecutionAsyncAccepted=true',
];

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** True when the frontend answers a gRPC health check with SERVING. */
export async function temporalServing(address: string, timeoutMs = 2000): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: timeoutMs });
    const { status } = await connection.withDeadline(Date.now() + timeoutMs, () => connection!.healthService.check({}));
    return Number(status) === 1; // grpc.health.v1 ServingStatus.SERVING
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

/** The last line the server wrote since `from`, usually the reason it stopped. */
function lastLogLine(file: string, from: number): string | undefined {
  try {
    const text = fs.readFileSync(file, 'utf8').slice(from);
    return text
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean)
      .pop()
      ?.slice(0, 300);
  } catch {
    return undefined;
  }
}

export async function startTemporalDevServer(options: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const port = options.port === 0 ? await freePort() : (options.port ?? 7233);
  const uiPort = options.uiPort === false ? undefined : (options.uiPort ?? port + 1000);
  await assertPortFree(port, 'Temporal gRPC');
  if (uiPort !== undefined) await assertPortFree(uiPort, 'Temporal web UI');

  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    ...(uiPort !== undefined ? ['--ui-port', String(uiPort)] : ['--headless']),
    ...(options.dbFile ? ['--db-filename', options.dbFile] : []),
    ...searchAttributeFlags(),
    ...DYNAMIC_CONFIG.flatMap((value) => ['--dynamic-config-value', value]),
    ...(options.extraArgs ?? []),
  ];
  fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
  if (options.dbFile) fs.mkdirSync(path.dirname(options.dbFile), { recursive: true });
  const logStart = fs.existsSync(options.logFile) ? fs.statSync(options.logFile).size : 0;
  const log = fs.openSync(options.logFile, 'a');
  const child = spawn(options.cli, args, { stdio: ['ignore', log, log] });
  fs.closeSync(log);

  let exitReason: string | undefined;
  let stopping = false;
  const listeners: ((reason: string) => void)[] = [];
  const exited = new Promise<void>((resolve) => {
    child.once('error', (err) => {
      exitReason = `could not start ${options.cli}: ${err.message}`;
      resolve();
    });
    child.once('exit', (code, signal) => {
      const said = lastLogLine(options.logFile, logStart);
      exitReason ??=
        `Temporal dev server (pid ${child.pid}) exited with ${signal ?? `code ${code}`}` +
        `${said ? `: ${said}` : ''} (log: ${options.logFile})`;
      if (!stopping) for (const listener of listeners) listener(exitReason);
      resolve();
    });
  });

  const address = `127.0.0.1:${port}`;
  const stop = async () => {
    if (exitReason) return;
    stopping = true;
    child.kill('SIGTERM');
    const killed = await Promise.race([exited.then(() => true), sleep(10_000, false)]);
    if (!killed) {
      child.kill('SIGKILL');
      await exited;
    }
  };

  try {
    await waitUntil(`Temporal dev server on ${address}`, () => temporalServing(address, 1000), {
      timeoutMs: options.startTimeoutMs ?? 60_000,
      abort: () => (exitReason ? new StackError(exitReason) : undefined),
    });
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    address,
    uiUrl: uiPort !== undefined ? `http://localhost:${uiPort}` : undefined,
    pid: child.pid!,
    onUnexpectedExit: (listener) => listeners.push(listener),
    stop,
  };
}

/**
 * The Temporal dev server (`temporal server start-dev`) as a child process: the real server with the project's search
 * attributes registered, its output in a log file, ready only once it answers gRPC health checks.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { searchAttributeFlags } from '../common/search-attributes';
import { assertPortFree, PortInUseError, StackError, waitUntil } from './readiness';

export interface TemporalDevServerOptions {
  /** Absolute path of the `temporal` binary (see ensureTemporalCli). */
  cli: string;
  /**
   * gRPC port; 0: a free one, and another free one when the server cannot bind it (another process took it between
   * the choice and the server's bind), at most `bindAttempts` times. A port given here is used or fails with
   * PortInUseError, never replaced. @default 7233
   */
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
  /** Starts on new free ports when `port` is 0 and a chosen port turns out taken. @default 4 */
  bindAttempts?: number;
  /** How a free port is chosen when `port` is 0 (a test hands out a taken one). @default freePort */
  choosePort?: () => Promise<number>;
  /** Why a start is tried again on another port. */
  log?: (line: string) => void;
}

export interface TemporalDevServer {
  /** host:port for clients and workers. */
  address: string;
  /** The gRPC port it bound (the one chosen when `port` was 0). */
  port: number;
  /** The web UI's port; absent: no UI. */
  uiPort?: number;
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

/**
 * A port free now: the OS's choice for port 0, read back and released. Another process may take it before the caller
 * binds it; a server that can bind port 0 itself should (the emulator and the ARM imitation do).
 */
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

/**
 * The Go server's words when a listener cannot bind (`net.Listen` fails with EADDRINUSE): "listen tcp
 * 127.0.0.1:PORT: bind: address already in use", the port in them when it says it.
 */
const BIND_FAILURE = /(?::(\d+))?: bind: address already in use/;

/** A PortInUseError when the server's log since `from` says a listener could not bind, naming the port it names. */
function bindFailure(file: string, from: number, port: number, uiPort: number | undefined): PortInUseError | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').slice(from);
  } catch {
    return undefined;
  }
  const match = BIND_FAILURE.exec(text);
  if (!match) return undefined;
  const named = match[1] ? Number(match[1]) : port;
  const what = named === port ? 'Temporal gRPC' : named === uiPort ? 'Temporal web UI' : 'Temporal dev server';
  return new PortInUseError(named, what, `the Temporal dev server could not bind it (log: ${file})`);
}

/**
 * Starts the server. With `port: 0` the port is chosen here and only the server binds it, so another process can take
 * it in between (`temporal server start-dev` has no port 0 of its own): that start fails with "address already in
 * use" and is tried again on another free port, the reason logged, at most `bindAttempts` times.
 */
export async function startTemporalDevServer(options: TemporalDevServerOptions): Promise<TemporalDevServer> {
  if (options.port !== 0) {
    const port = options.port ?? 7233;
    const uiPort = options.uiPort === false ? undefined : (options.uiPort ?? port + 1000);
    await assertPortFree(port, 'Temporal gRPC');
    if (uiPort !== undefined) await assertPortFree(uiPort, 'Temporal web UI');
    return startOnPorts(options, port, uiPort);
  }
  const attempts = options.bindAttempts ?? 4;
  for (let attempt = 1; ; attempt++) {
    const port = await (options.choosePort ?? freePort)();
    const uiPort = options.uiPort === false ? undefined : (options.uiPort ?? port + 1000);
    try {
      return await startOnPorts(options, port, uiPort);
    } catch (err) {
      // A web UI port the caller gave stays taken on any gRPC port: that one is theirs to free.
      const retry = err instanceof PortInUseError && err.port !== options.uiPort && attempt < attempts;
      if (!retry) throw err;
      options.log?.(
        `Temporal dev server could not bind: ${err.message.split(';')[0]} (taken after it was chosen); ` +
          `start ${attempt + 1} of at most ${attempts} on another free port`
      );
    }
  }
}

async function startOnPorts(
  options: TemporalDevServerOptions,
  port: number,
  uiPort: number | undefined
): Promise<TemporalDevServer> {
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
  let exitError: StackError | undefined;
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
      if (!stopping) exitError = bindFailure(options.logFile, logStart, port, uiPort);
      if (!stopping) for (const listener of listeners) listener(exitReason);
      resolve();
    });
  });

  const address = `127.0.0.1:${port}`;
  const stop = async () => {
    if (exitReason) return;
    stopping = true;
    child.kill('SIGTERM');
    // A timer cleared once the server is gone: one left running would keep the process (jest's too) alive for 10 s.
    const lingering = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(lingering);
  };

  try {
    await waitUntil(`Temporal dev server on ${address}`, () => temporalServing(address, 1000), {
      timeoutMs: options.startTimeoutMs ?? 60_000,
      abort: () => (exitReason ? (exitError ?? new StackError(exitReason)) : undefined),
    });
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    address,
    port,
    uiPort,
    uiUrl: uiPort !== undefined ? `http://localhost:${uiPort}` : undefined,
    pid: child.pid!,
    onUnexpectedExit: (listener) => listeners.push(listener),
    stop,
  };
}

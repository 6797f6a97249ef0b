/**
 * `npm run stack -- up | down | status`: the embedded local stack in the background. `up` starts local/daemon.ts
 * detached (logs in <dir>/logs/), waits until Temporal, the Cosmos emulator and the ARM imitation all answer, and
 * writes <dir>/stack.env. The stack supervises its Temporal server (restarted on the same data when it dies) and
 * `status` shows each part's restarts and last exit. `down` stops that process group and removes stack.env, the pid
 * file and the parts file, nothing else.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  DAEMON_SCRIPT,
  daemonLogPath,
  partsFilePath,
  pidFilePath,
  type DaemonConfig,
  type DaemonMessage,
  type PartsFile,
} from './daemon-protocol';
import { assertPortFree, httpsAnswers, StackError } from './readiness';
import { DEFAULT_PORTS, defaultStackDir, readStackEnv, stackEnvPath, type StackEnv } from './stack-env';
import { ensureTemporalCli } from './temporal-cli';

const PROJECT_ROOT = path.resolve(__dirname, '..');

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new InvalidArgumentError('not a port number (1-65535)');
  return port;
}

function parseSeconds(value: string): number {
  const seconds = Number(value);
  if (!(seconds > 0)) throw new InvalidArgumentError('not a positive number of seconds');
  return seconds;
}

/** The pid in stack.pid, alive or not. */
function recordedPid(dir: string): number | undefined {
  const file = pidFilePath(dir);
  const pid = fs.existsSync(file) ? Number(fs.readFileSync(file, 'utf8').trim()) : NaN;
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** The daemon's pid when it is alive (and really our daemon, not a recycled pid). */
function runningPid(dir: string): number | undefined {
  const file = pidFilePath(dir);
  if (!fs.existsSync(file)) return undefined;
  const pid = Number(fs.readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return undefined;
  try {
    if (!fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('daemon')) return undefined;
  } catch {
    // No /proc (macOS): trust the pid.
  }
  return pid;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function removeRunFiles(dir: string): void {
  fs.rmSync(stackEnvPath(dir), { force: true });
  fs.rmSync(pidFilePath(dir), { force: true });
  fs.rmSync(partsFilePath(dir), { force: true });
}

/** The daemon's record of its parts (restarts, last exit), when the running daemon `pid` wrote it. */
function readParts(dir: string, pid: number): PartsFile['parts'] {
  try {
    const file = JSON.parse(fs.readFileSync(partsFilePath(dir), 'utf8')) as PartsFile;
    return file.pid === pid ? file.parts : [];
  } catch {
    return [];
  }
}

interface PartStatus {
  name: string;
  up: boolean;
  address: string;
  /** What the daemon knows beyond "answers": supervised or not, restarts, the last exit. */
  detail?: string;
}

async function partStatuses(env: StackEnv): Promise<PartStatus[]> {
  const ca = fs.existsSync(env.NODE_EXTRA_CA_CERTS) ? fs.readFileSync(env.NODE_EXTRA_CA_CERTS, 'utf8') : undefined;
  // Loaded here, not at the top: the gRPC client costs a second of start-up that `down` does not need.
  const { temporalServing } = await import('./temporal-server');
  const [temporal, cosmos, arm] = await Promise.all([
    temporalServing(env.TEMPORAL_ADDRESS),
    httpsAnswers(env.COSMOS_ENDPOINT, ca),
    httpsAnswers(env.ARM_ENDPOINT, ca),
  ]);
  return [
    {
      name: 'Temporal',
      up: temporal,
      address: `${env.TEMPORAL_ADDRESS}${env.TEMPORAL_UI_URL ? `  (UI ${env.TEMPORAL_UI_URL})` : ''}`,
    },
    { name: 'Cosmos emulator', up: cosmos, address: env.COSMOS_ENDPOINT },
    { name: 'ARM imitation', up: arm, address: env.ARM_ENDPOINT },
  ];
}

/** "supervised, 1 restart, last exit 2026-…: …" for a part the daemon restarts; "in the stack's process" otherwise. */
function partDetail(state: PartsFile['parts'][number] | undefined): string | undefined {
  if (!state) return undefined;
  if (!state.supervised) return `in the stack's process (pid ${state.pid}), not restarted separately`;
  const words = [`supervised, ${state.restarts} restart${state.restarts === 1 ? '' : 's'}`];
  if (state.state === 'restarting') words.push('restarting now');
  if (state.state === 'failed') words.push('gave up restarting it');
  if (state.lastExit) words.push(`last exit ${state.lastExit.at}: ${state.lastExit.reason}`);
  return words.join(', ');
}

function withDetails(parts: PartStatus[], states: PartsFile['parts']): PartStatus[] {
  return parts.map((part) => ({
    ...part,
    detail: partDetail(states.find((s) => part.name.startsWith(s.name))),
  }));
}

function printParts(parts: PartStatus[]): void {
  for (const part of parts) {
    console.log(`  ${part.name.padEnd(16)} ${part.up ? 'up  ' : 'down'}  ${part.address}`);
    if (part.detail) console.log(`  ${''.padEnd(16)}       ${part.detail}`);
  }
}

interface UpOptions {
  temporalPort: number;
  temporalUiPort?: number;
  cosmosPort: number;
  armPort: number;
  timeout: number;
}

async function up(dir: string, options: UpOptions): Promise<number> {
  const existing = runningPid(dir);
  if (existing) {
    console.log(`The local stack is already up (pid ${existing}, ${dir}).`);
    const env = readStackEnv(dir);
    if (env) printParts(await partStatuses(env));
    return 0;
  }
  removeRunFiles(dir);

  const cli = await ensureTemporalCli();
  const config: DaemonConfig = {
    dir,
    cosmosPort: options.cosmosPort,
    armPort: options.armPort,
    temporalPort: options.temporalPort,
    temporalUiPort: options.temporalUiPort ?? options.temporalPort + 1000,
    cli,
    startTimeoutMs: options.timeout * 1000,
  };
  // Fail fast, before anything starts, on a port already taken.
  await assertPortFree(config.temporalPort, 'Temporal gRPC');
  await assertPortFree(config.temporalUiPort, 'Temporal web UI');
  await assertPortFree(config.cosmosPort, 'Cosmos emulator');
  await assertPortFree(config.armPort, 'ARM imitation');

  const logFile = daemonLogPath(dir);
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const logFd = fs.openSync(logFile, 'a');
  const daemon = spawn(process.execPath, ['--import', 'tsx', DAEMON_SCRIPT, JSON.stringify(config)], {
    cwd: PROJECT_ROOT,
    detached: true,
    stdio: ['ignore', logFd, logFd, 'ipc'],
  });
  fs.closeSync(logFd);
  fs.writeFileSync(pidFilePath(dir), `${daemon.pid}\n`);

  // Ctrl-C while waiting: take the half-started stack down with us rather than leave it running unseen.
  const interrupted = () =>
    void stopGroup(daemon.pid!).finally(() => {
      removeRunFiles(dir);
      console.error('stack: interrupted; stopped the stack that was starting');
      process.exit(130);
    });
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  const outcome = await new Promise<DaemonMessage>((resolve) => {
    const timer = setTimeout(
      () => resolve({ type: 'error', message: `the stack did not come up within ${options.timeout} s` }),
      options.timeout * 1000 + 5000
    );
    daemon.once('message', (message: DaemonMessage) => {
      clearTimeout(timer);
      resolve(message);
    });
    daemon.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ type: 'error', message: `the stack process exited with ${signal ?? `code ${code}`} while starting` });
    });
  });

  process.off('SIGINT', interrupted);
  process.off('SIGTERM', interrupted);
  if (outcome.type === 'error') {
    await stopGroup(daemon.pid!);
    removeRunFiles(dir);
    throw new StackError(`${outcome.message} (log: ${logFile})`);
  }
  daemon.disconnect();
  daemon.unref();
  console.log(`The local stack is up (pid ${daemon.pid}):`);
  printParts(await partStatuses(outcome.env));
  const envFile = stackEnvPath(dir);
  const shown = path.relative(process.cwd(), envFile).startsWith('..')
    ? envFile
    : path.relative(process.cwd(), envFile);
  console.log(`Variables: ${envFile}  (in a shell: set -a; . ${shown}; set +a)`);
  console.log(`Logs: ${path.dirname(logFile)}/  ·  stop with: npm run stack -- down`);
  return 0;
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** SIGTERM to the whole group (daemon + Temporal server), then SIGKILL if it lingers; returns once all are gone. */
async function stopGroup(pgid: number, graceMs = 20_000): Promise<void> {
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pgid, signal);
    } catch {
      // Already gone.
    }
  };
  signalGroup('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (groupAlive(pgid) && Date.now() < deadline) await sleep(100);
  if (!groupAlive(pgid)) return;
  signalGroup('SIGKILL');
  const killDeadline = Date.now() + 5000;
  while (groupAlive(pgid) && Date.now() < killDeadline) await sleep(100);
  if (groupAlive(pgid)) throw new StackError(`processes of group ${pgid} survive SIGKILL; check with: ps -g ${pgid}`);
}

async function down(dir: string): Promise<number> {
  const pid = runningPid(dir);
  if (!pid) {
    // The daemon died without stopping its group (killed, or crashed): its Temporal server may still hold the data
    // and the ports. The group keeps the daemon's id while any member lives, and Linux reuses no id still in use.
    const leftover = recordedPid(dir);
    if (leftover && groupAlive(leftover)) {
      await stopGroup(leftover);
      removeRunFiles(dir);
      console.log(`Stopped what was left of the local stack (process group ${leftover}); its data stays in ${dir}.`);
      return 0;
    }
    removeRunFiles(dir);
    console.log(`The local stack is not running (${dir}).`);
    return 0;
  }
  await stopGroup(pid);
  removeRunFiles(dir);
  console.log(`The local stack is stopped; its data stays in ${dir}.`);
  return 0;
}

async function status(dir: string): Promise<number> {
  const pid = runningPid(dir);
  const env = readStackEnv(dir);
  if (pid && !env) {
    console.log(`The local stack is starting (pid ${pid}, ${dir}); see ${daemonLogPath(dir)}`);
    return 1;
  }
  if (!pid || !env) {
    console.log(`The local stack is down (${dir}). Start it with: npm run stack -- up`);
    return 1;
  }
  const parts = withDetails(await partStatuses(env), readParts(dir, pid));
  console.log(`The local stack (pid ${pid}, ${dir}):`);
  printParts(parts);
  return parts.every((part) => part.up) ? 0 : 1;
}

function run(action: () => Promise<number>): Promise<void> {
  return action().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`stack: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    }
  );
}

const program = new Command('stack')
  .description('The embedded local stack: Temporal dev server, Cosmos emulator, ARM imitation')
  .addOption(new Option('--dir <path>', 'folder for the stack data, logs and stack.env').env('STACK_DIR'))
  .showHelpAfterError();
const dirOf = () => path.resolve(program.opts<{ dir?: string }>().dir ?? defaultStackDir());

program
  .command('up')
  .description('start the stack in the background and write stack.env')
  .addOption(
    new Option('--temporal-port <port>', 'Temporal gRPC port')
      .env('TEMPORAL_PORT')
      .argParser(parsePort)
      .default(DEFAULT_PORTS.temporal)
  )
  .addOption(
    new Option('--temporal-ui-port <port>', 'Temporal web UI port (default: Temporal port + 1000)')
      .env('TEMPORAL_UI_PORT')
      .argParser(parsePort)
  )
  .addOption(
    new Option('--cosmos-port <port>', 'Cosmos emulator port')
      .env('COSMOS_PORT')
      .argParser(parsePort)
      .default(DEFAULT_PORTS.cosmos)
  )
  .addOption(
    new Option('--arm-port <port>', 'ARM imitation port')
      .env('ARM_PORT')
      .argParser(parsePort)
      .default(DEFAULT_PORTS.arm)
  )
  .addOption(
    new Option('--timeout <seconds>', 'how long each part may take to answer').argParser(parseSeconds).default(90)
  )
  .action((options: UpOptions) => run(() => up(dirOf(), options)));

program
  .command('down')
  .description('stop the stack; its data stays')
  .action(() => run(() => down(dirOf())));

program
  .command('status')
  .description(
    'show each part of the stack, up or down, with its address, restarts and last exit (exit 1 when not all up)'
  )
  .action(() => run(() => status(dirOf())));

program.parseAsync().catch((err: unknown) => {
  console.error(`stack: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

/**
 * The background stack started by `npm run stack -- up`: runs startStack() until SIGTERM, in its own process group
 * (the launcher starts it detached) so `down` can stop it and the Temporal dev server together. It tells the launcher
 * over IPC when the stack answers, or why it could not start, and then keeps going on its own: a Temporal server that
 * dies is started again on the same data (local/supervisor.ts) while the rest keeps running, and every change of a
 * part's state is written to stack-parts.json for `status`.
 */
import fs from 'node:fs';
import { startStack, type RunningStack, type StackOptions } from './stack';
import { partsFilePath, pidFilePath, type DaemonConfig, type DaemonMessage, type PartsFile } from './daemon-protocol';
import { stackEnvPath, writeStackEnv } from './stack-env';

const stamp = () => new Date().toISOString();
const log = (line: string) => process.stdout.write(`${stamp()} ${line}\n`);

/** Atomically, so `status` never reads half a file. */
function writeParts(dir: string, stack: RunningStack): void {
  const file = partsFilePath(dir);
  const content: PartsFile = { pid: process.pid, parts: stack.parts() };
  fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(content, null, 2)}\n`);
  fs.renameSync(`${file}.tmp`, file);
}

function send(message: DaemonMessage): void {
  if (process.send && process.connected) process.send(message);
}

async function main(config: DaemonConfig): Promise<void> {
  const options: StackOptions = {
    dir: config.dir,
    cosmosPort: config.cosmosPort,
    armPort: config.armPort,
    temporal: { mode: 'child', cli: config.cli, port: config.temporalPort, uiPort: config.temporalUiPort },
    startTimeoutMs: config.startTimeoutMs,
    log,
    onPartChange: () => {
      if (stack) writeParts(config.dir, stack);
    },
  };
  log(`starting the local stack in ${config.dir}`);
  let stack: RunningStack | undefined;
  try {
    stack = await startStack(options);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log(`could not start: ${message}`);
    send({ type: 'error', message });
    process.exit(1);
  }

  let stopping = false;
  const shutdown = async (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    log(`stopping (${reason})`);
    fs.rmSync(stackEnvPath(config.dir), { force: true });
    await stack.stop();
    fs.rmSync(partsFilePath(config.dir), { force: true });
    const pidFile = pidFilePath(config.dir);
    if (fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim() === String(process.pid)) fs.rmSync(pidFile);
    log('stopped');
    process.exit(code);
  };
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.on(signal, () => void shutdown(signal, 0));
  }

  writeParts(config.dir, stack);
  writeStackEnv(config.dir, stack.env);
  log(`ready; wrote ${stackEnvPath(config.dir)}`);
  send({ type: 'ready', env: stack.env });
}

const config = JSON.parse(process.argv[2] ?? '{}') as DaemonConfig;
main(config).catch((err: unknown) => {
  log(`fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});

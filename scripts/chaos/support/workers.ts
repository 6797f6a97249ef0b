/**
 * Worker processes as users start them (`tsx worker/main.ts`, configured by the environment), each in one process
 * so a SIGKILL is a crash with no goodbye, restarted at once after each kill as a service manager would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { onInterrupt } from './cleanup';
import { chaosRandom } from './random';

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..', '..');
const START_TIMEOUT_MS = 180_000;

export class WorkerProcess {
  private child: ChildProcess | undefined;
  /** true once it printed "worker listening"; false while starting or after it ended. */
  listening = false;

  constructor(
    readonly name: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly logFile: string
  ) {}

  /** Starts it and resolves once it listens on its task queue. */
  async start(): Promise<void> {
    const log = fs.openSync(this.logFile, 'a');
    const child = spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
      cwd: PROJECT_ROOT,
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`${this.name} did not start:\n${output}`)), START_TIMEOUT_MS);
      const onData = (chunk: Buffer) => {
        fs.writeSync(log, chunk);
        if (this.listening) return;
        output += chunk.toString();
        if (output.includes('worker listening on task queue')) {
          this.listening = true;
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('close', () => fs.closeSync(log));
      child.once('exit', (code, signal) => {
        this.listening = false;
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${code ?? signal}) before it listened:\n${output}`));
      });
    });
  }

  /** SIGKILL, resolved once the process is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  }

  /** SIGTERM (the worker shuts down gracefully), SIGKILL if it lingers. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await gone;
    clearTimeout(timer);
  }
}

/** A few workers on one task queue; `killOneAndRestart` crashes a random listening one and starts it again. */
export class WorkerPool {
  readonly workers: WorkerProcess[];

  constructor(count: number, env: NodeJS.ProcessEnv, logDir: string) {
    this.workers = Array.from(
      { length: count },
      (_, i) => new WorkerProcess(`worker-${i + 1}`, env, path.join(logDir, `worker-${i + 1}.log`))
    );
  }

  private forget: (() => void) | undefined;

  async start(): Promise<void> {
    this.forget = onInterrupt(() => Promise.all(this.workers.map((w) => w.kill())).then(() => undefined));
    await Promise.all(this.workers.map((w) => w.start()));
  }

  /**
   * Kills one listening worker at random and starts it again; resolves with its name once it listens again (undefined
   * when none listened), so the next kill waits for it. A restart that fails rejects: the case cannot go on.
   */
  async killOneAndRestart(): Promise<string | undefined> {
    const up = this.workers.filter((w) => w.listening);
    const victim = up[chaosRandom().below(up.length)];
    if (!victim) return undefined;
    await victim.kill();
    await victim.start();
    return victim.name;
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop()));
    this.forget?.();
  }
}

/** Runs a hook's shell command (from the worker's configuration only) with a timeout and cancellation. */
import { spawn } from 'node:child_process';

export interface CommandResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** The last few hundred characters of stderr (or stdout), to say why in an error. */
  tail: string;
}

const TAIL_CHARS = 400;

export function runCommand(
  command: string,
  options: { env: Record<string, string>; timeoutSeconds: number; signal?: AbortSignal }
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out = (out + chunk.toString()).slice(-TAIL_CHARS)));
    child.stderr.on('data', (chunk: Buffer) => (err = (err + chunk.toString()).slice(-TAIL_CHARS)));
    let timedOut = false;
    // Kill the whole process group: a hook is often a script that starts children.
    const kill = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, options.timeoutSeconds * 1000);
    const onAbort = () => kill();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (error) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      reject(error);
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve({ exitCode, signal, timedOut, tail: (err || out).trim() });
    });
  });
}

/** "exit code 3: <tail>", "timed out after 30s", "killed by SIGKILL". */
export function describeFailure(result: CommandResult, timeoutSeconds: number): string {
  if (result.timedOut) return `timed out after ${timeoutSeconds}s`;
  const how = result.exitCode !== null ? `exit code ${result.exitCode}` : `killed by ${result.signal}`;
  return result.tail ? `${how}: ${result.tail}` : how;
}

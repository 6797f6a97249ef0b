/**
 * Starts bench/hand-process.ts: the fair peer, the one-at-a-time loop or the application, each in its own Node
 * process beside the worker's, with the stack's environment (the same Cosmos client settings as a worker).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { AppCounts, AppOptions } from './application';
import type { BenchEnv } from './env';

export type HandRequest =
  | { mode: 'bulk'; container: string }
  | { mode: 'sequential'; container: string; limit: number }
  | ({ mode: 'app'; container: string } & AppOptions);

export interface HandProcess {
  pid: number;
  /** Sends `go`: the loop starts (its clock starts here, the process and its client are already warm). */
  go(): void;
  send(line: string): void;
  /** The `result` line's JSON, once the process prints it. */
  result<T>(): Promise<T>;
}

export async function startHand(env: BenchEnv, request: HandRequest): Promise<HandProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(__dirname, 'hand-process.ts'), JSON.stringify(request)],
    {
      cwd: path.join(__dirname, '..'),
      env: { ...process.env, ...env.stack.env, COSMOS_RUNBOOK_STACK_ENV: 'off' },
      stdio: ['pipe', 'pipe', 'pipe'],
    }
  );
  let out = '';
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => {
    err = (err + chunk.toString()).slice(-4000);
  });
  let closed = false;
  // 'close', not 'exit': the process's stdout is read to its end first.
  const exited = new Promise<void>((resolve) =>
    child.once('close', () => {
      closed = true;
      resolve();
    })
  );
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    let i: number;
    while ((i = out.indexOf('\n')) >= 0) {
      lines.push(out.slice(0, i));
      out = out.slice(i + 1);
    }
    for (const wake of waiters.splice(0)) wake();
  });
  void exited.then(() => {
    for (const wake of waiters.splice(0)) wake();
  });
  const line = async (prefix: string): Promise<string> => {
    for (;;) {
      const found = lines.find((l) => l.startsWith(prefix));
      if (found !== undefined) return found;
      if (closed) {
        throw new Error(
          `the bench's ${request.mode} process exited (${child.exitCode ?? child.signalCode}): ${err.trim()}`
        );
      }
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  await line('ready');
  return {
    pid: child.pid!,
    go: () => child.stdin.write('go\n'),
    send: (l: string) => child.stdin.write(`${l}\n`),
    async result<T>() {
      const r = await line('result ');
      await exited;
      return JSON.parse(r.slice('result '.length)) as T;
    },
  };
}

/** Runs one loop to its end in its own process: documents written and seconds from `go`. */
export async function runHandLoop(
  env: BenchEnv,
  request: Extract<HandRequest, { mode: 'bulk' | 'sequential' }>
): Promise<{ written: number; seconds: number }> {
  const hand = await startHand(env, request);
  hand.go();
  return hand.result();
}

export type { AppCounts };

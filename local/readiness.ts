/**
 * Small waits the launcher needs, each with a deadline and an error that names what is wrong: a port already taken,
 * a server that never answers. Nothing here waits forever.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import https from 'node:https';
import net from 'node:net';

export class StackError extends Error {
  override name = 'StackError';
}

/**
 * A part could not bind its port because another process holds it ("could not bind", EADDRINUSE): not a crash of the
 * part. With a port chosen by the stack the start is tried again on another one; with a port the user gave, it is the
 * error they see.
 */
export class PortInUseError extends StackError {
  override name = 'PortInUseError';
  constructor(
    readonly port: number,
    readonly what: string,
    detail = 'stop what holds it or choose another port'
  ) {
    super(`port ${port} (${what}) is already in use; ${detail}`);
  }
}

/** Fails with "port N (what) is already in use" when something listens there. Port 0 is always free. */
export async function assertPortFree(port: number, what: string, host = '127.0.0.1'): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new PortInUseError(port, what)
          : new StackError(`cannot listen on ${host}:${port} for ${what}: ${err.message}`)
      );
    });
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve()));
  });
}

/** Whether an HTTPS server answers at `url` (any status counts), trusting `ca`. */
export function httpsAnswers(url: string, ca: string | undefined, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = https.get(url, { ca, timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
  });
}

/**
 * Polls `check` until it returns true. Rejects with `${what} did not answer within N s` at the deadline, or at once with
 * the error `abort()` returns (e.g. the process died).
 */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  { timeoutMs, intervalMs = 200, abort }: { timeoutMs: number; intervalMs?: number; abort?: () => Error | undefined }
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const aborted = abort?.();
    if (aborted) throw aborted;
    if (await check()) return;
    if (Date.now() > deadline) throw new StackError(`${what} did not answer within ${Math.round(timeoutMs / 1000)} s`);
    await sleep(intervalMs);
  }
}

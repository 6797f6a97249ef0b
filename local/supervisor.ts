/**
 * Supervision of the stack's child processes (today the Temporal dev server): a part that exits without being asked
 * to is started again with the same options (same data file, same ports) a few times, with backoff, every exit and
 * restart logged and kept for `npm run stack -- status`. The other parts keep running; only stop() ends a part.
 * A restart that cannot bind its port (another process took it while the part was down) is told apart from a crash:
 * logged as "could not bind", and tried again on the same port like any failed restart (clients know only that one).
 */
import { PortInUseError } from './readiness';

/** What `status` shows of one part. */
export interface PartState {
  name: string;
  /** up; restarting (exited, waiting for or in its restart); failed (supervision gave up); stopped (by stop()). */
  state: 'up' | 'restarting' | 'failed' | 'stopped';
  /** Whether a dead part is started again (false: it lives in the stack's own process). */
  supervised: boolean;
  pid?: number;
  /** Restarts that brought the part back up. */
  restarts: number;
  /**
   * The last time it exited unasked, and how (or why a restart failed). `kind`: `exit`, the process ended (a crash,
   * a kill); `could-not-bind`, a restart found its port taken by another process (the part did not crash: it never
   * ran); `start-failed`, a restart failed otherwise.
   */
  lastExit?: { at: string; reason: string; kind: 'exit' | 'could-not-bind' | 'start-failed' };
}

/** A child process the supervisor can watch and stop (TemporalDevServer is one). */
export interface SupervisedProcess {
  pid: number;
  /** Called once if the process exits without stop(). */
  onUnexpectedExit(listener: (reason: string) => void): void;
  stop(): Promise<void>;
}

export interface SupervisionOptions {
  /** Restarts in a row (the part not staying up for `stableMs` in between) before giving up. @default 5 */
  maxRestarts?: number;
  /** Delay before the n-th restart in a row: backoffMs × 2^(n−1), at most 30 s. @default 1000 */
  backoffMs?: number;
  /** Up this long, the part's run of restarts starts again from the first (short) delay. @default 60000 */
  stableMs?: number;
}

export interface Supervised<T> {
  /** The running process, or undefined while it restarts or after supervision gave up. */
  current(): T | undefined;
  state(): PartState;
  /** Stops the part for good (a restart waiting or in progress is cancelled, or stopped once it is up). */
  stop(): Promise<void>;
}

/**
 * Starts the part with `start()` (a failure of this first start is thrown: there is nothing to supervise yet) and
 * keeps it running. `start()` must use the same data and ports every time, so a restart continues where it stopped.
 */
export async function supervise<T extends SupervisedProcess>(
  name: string,
  start: () => Promise<T>,
  options: SupervisionOptions & { log: (line: string) => void; onChange?: (state: PartState) => void }
): Promise<Supervised<T>> {
  const maxRestarts = options.maxRestarts ?? 5;
  const backoffMs = options.backoffMs ?? 1000;
  const stableMs = options.stableMs ?? 60_000;
  const { log } = options;

  let current: T | undefined = await start();
  let upSince = Date.now();
  let inARow = 0;
  let stopped = false;
  let wake: (() => void) | undefined;
  let restarting: Promise<void> | undefined;
  const state: PartState = { name, state: 'up', supervised: true, pid: current.pid, restarts: 0 };
  const changed = () => options.onChange?.({ ...state });

  const watch = (proc: T) => proc.onUnexpectedExit((reason) => void onExit(reason));

  const onExit = async (reason: string) => {
    if (stopped) return;
    current = undefined;
    if (Date.now() - upSince >= stableMs) inARow = 0;
    Object.assign(state, {
      state: 'restarting',
      pid: undefined,
      lastExit: { at: new Date().toISOString(), reason, kind: 'exit' },
    });
    log(`${name} exited unexpectedly: ${reason}`);
    changed();
    restarting = restartLoop();
    await restarting;
  };

  const restartLoop = async () => {
    while (!stopped) {
      inARow += 1;
      if (inARow > maxRestarts) {
        state.state = 'failed';
        log(
          `${name}: gave up after ${maxRestarts} restarts in a row; the other parts keep running ` +
            '(npm run stack -- down, then up, to start it again)'
        );
        changed();
        return;
      }
      const delay = Math.min(backoffMs * 2 ** (inARow - 1), 30_000);
      log(`${name}: restarting in ${delay} ms (restart ${inARow} of at most ${maxRestarts} in a row)`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
      if (stopped) return;
      try {
        const proc = await start();
        if (stopped) {
          await proc.stop();
          return;
        }
        current = proc;
        upSince = Date.now();
        state.restarts += 1;
        Object.assign(state, { state: 'up', pid: proc.pid });
        log(`${name}: restarted (pid ${proc.pid}; ${state.restarts} restart(s) so far)`);
        changed();
        watch(proc);
        return;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        const bind = err instanceof PortInUseError;
        const reason = bind ? `could not bind (not a crash): ${message}` : `restart failed: ${message}`;
        state.lastExit = { at: new Date().toISOString(), reason, kind: bind ? 'could-not-bind' : 'start-failed' };
        log(`${name}: ${reason}`);
        changed();
      }
    }
  };

  watch(current);
  return {
    current: () => current,
    state: () => ({ ...state }),
    async stop() {
      stopped = true;
      wake?.();
      await restarting;
      await current?.stop();
      current = undefined;
      Object.assign(state, { state: 'stopped', pid: undefined });
      changed();
    },
  };
}

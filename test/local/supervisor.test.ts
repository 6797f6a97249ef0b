/**
 * The stack's supervisor (local/supervisor.ts) with stand-in processes: an unasked exit is restarted with the same
 * start function, counted and logged; restarts in a row are bounded (then it gives up and says so); stop() ends it for
 * good, also while a restart waits. The real server under it: test/foundation/launcher.test.ts.
 */
import { PortInUseError } from '../../local/readiness';
import { supervise, type PartState, type SupervisedProcess } from '../../local/supervisor';

class StandIn implements SupervisedProcess {
  private listener?: (reason: string) => void;
  stopped = false;
  constructor(readonly pid: number) {}
  onUnexpectedExit(listener: (reason: string) => void): void {
    this.listener = listener;
  }
  die(reason: string): void {
    this.listener?.(reason);
  }
  async stop(): Promise<void> {
    this.stopped = true;
  }
}

function harness(failFrom = Infinity) {
  const started: StandIn[] = [];
  const states: PartState[] = [];
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  let calls = 0;
  const start = async () => {
    calls += 1;
    if (calls > failFrom) throw new Error(`cannot start (attempt ${calls})`);
    const proc = new StandIn(100 + started.length);
    started.push(proc);
    return proc;
  };
  const onChange = (state: PartState) => {
    states.push(state);
    for (const wake of waiters.splice(0)) wake();
  };
  const until = async (condition: () => boolean) => {
    while (!condition()) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  return { started, states, lines, start, onChange, until, log: (line: string) => lines.push(line) };
}

test('a process that dies is started again with the same start(), counted, logged', async () => {
  const h = harness();
  const part = await supervise('Temporal', h.start, { backoffMs: 1, log: h.log, onChange: h.onChange });
  expect(part.state()).toMatchObject({ state: 'up', pid: 100, restarts: 0, supervised: true });

  h.started[0]!.die('exited with SIGKILL');
  await h.until(() => part.state().restarts === 1);
  expect(part.state()).toMatchObject({ state: 'up', pid: 101, lastExit: { reason: 'exited with SIGKILL' } });
  expect(part.current()).toBe(h.started[1]);
  expect(h.states.map((s) => s.state)).toEqual(['restarting', 'up']);
  expect(h.lines).toEqual([
    'Temporal exited unexpectedly: exited with SIGKILL',
    'Temporal: restarting in 1 ms (restart 1 of at most 5 in a row)',
    'Temporal: restarted (pid 101; 1 restart(s) so far)',
  ]);

  await part.stop();
  expect(h.started[1]!.stopped).toBe(true);
  expect(part.state()).toMatchObject({ state: 'stopped', restarts: 1 });
  h.started[1]!.die('late exit after stop'); // ignored
  expect(h.started).toHaveLength(2);
});

test('restarts that keep failing stop after maxRestarts in a row, with growing delays; the part is marked failed', async () => {
  const h = harness(1);
  const part = await supervise('Temporal', h.start, { backoffMs: 1, maxRestarts: 3, log: h.log, onChange: h.onChange });
  h.started[0]!.die('crashed');
  await h.until(() => part.state().state === 'failed');
  expect(h.lines.filter((l) => l.includes('restarting in'))).toEqual([
    'Temporal: restarting in 1 ms (restart 1 of at most 3 in a row)',
    'Temporal: restarting in 2 ms (restart 2 of at most 3 in a row)',
    'Temporal: restarting in 4 ms (restart 3 of at most 3 in a row)',
  ]);
  expect(h.lines.at(-1)).toMatch(/^Temporal: gave up after 3 restarts in a row; the other parts keep running/);
  expect(part.state()).toMatchObject({ restarts: 0, lastExit: { reason: 'restart failed: cannot start (attempt 4)' } });
  expect(part.current()).toBeUndefined();
  await part.stop();
});

test('stop() while a restart waits cancels it: nothing is started after stop', async () => {
  const h = harness();
  const part = await supervise('Temporal', h.start, { backoffMs: 60_000, log: h.log, onChange: h.onChange });
  h.started[0]!.die('crashed');
  await h.until(() => part.state().state === 'restarting');
  await part.stop();
  expect(h.started).toHaveLength(1);
  expect(part.state().state).toBe('stopped');
});

test('a restart whose port another process took is "could not bind", not a crash: logged so, and tried again', async () => {
  const h = harness();
  let portTaken = true;
  const start = async () => {
    if (h.started.length > 0 && portTaken) {
      portTaken = false;
      throw new PortInUseError(7233, 'Temporal gRPC');
    }
    return h.start();
  };
  const part = await supervise('Temporal', start, { backoffMs: 1, log: h.log, onChange: h.onChange });
  h.started[0]!.die('exited with SIGKILL');
  await h.until(() => part.state().lastExit?.kind === 'could-not-bind');
  expect(part.state().lastExit?.reason).toBe(
    'could not bind (not a crash): port 7233 (Temporal gRPC) is already in use; stop what holds it or choose another port'
  );
  await h.until(() => part.state().restarts === 1);
  expect(part.state()).toMatchObject({ state: 'up', pid: 101 });
  expect(h.lines).toContain(
    'Temporal: could not bind (not a crash): port 7233 (Temporal gRPC) is already in use; stop what holds it or choose another port'
  );
  await part.stop();
});

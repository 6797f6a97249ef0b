/** What a chaos case started, stopped even when the run is interrupted (Ctrl-C): worker processes, stacks. */
const cleanups = new Set<() => Promise<void>>();

/** Registers `stop`; the returned function unregisters it (call it once the case stopped it itself). */
export function onInterrupt(stop: () => Promise<void>): () => void {
  cleanups.add(stop);
  return () => cleanups.delete(stop);
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (interrupted) return;
    interrupted = true;
    console.error(`chaos: ${signal}, stopping what the cases started`);
    void Promise.allSettled([...cleanups].map((stop) => stop())).then(() => process.exit(130));
  });
}

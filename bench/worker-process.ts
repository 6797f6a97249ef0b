/**
 * The bench's worker, a process of its own so that its peak RSS can be read (/proc/<pid>/status VmHWM) and it can be
 * killed with SIGKILL mid-run. The same code path as `npm run worker` (loadWorkerConfig → boundHeapGrowth → createRunbookWorker), with
 * the workflow bundle the bench built once (BENCH_WORKFLOW_BUNDLE) instead of bundling at every start, so a new
 * worker polls within a second or two. Prints `ready` once it polls.
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadWorkerConfig } from '../worker/config';
import { createRunbookWorker } from '../worker/create-worker';
import { boundHeapGrowth } from '../worker/heap';

async function main(): Promise<void> {
  const config = loadWorkerConfig();
  boundHeapGrowth();
  const codePath = process.env.BENCH_WORKFLOW_BUNDLE;
  if (!codePath) throw new Error('BENCH_WORKFLOW_BUNDLE is not set: this process is started by npm run bench');
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: ['SIGINT', 'SIGTERM'] });
  const runbookWorker = await createRunbookWorker(config, { workflowBundle: { codePath } });
  const running = runbookWorker.worker.run();
  process.stdout.write('ready\n');
  try {
    await running;
  } finally {
    await runbookWorker.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench worker: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

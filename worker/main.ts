/**
 * `npm run worker`: a runbook worker configured from the environment (and the local stack's `.local/stack.env` while
 * that stack runs; worker/settings.ts). It prints where each setting came from (never a key's value). Bad
 * configuration stops it at once with one line per problem; SIGINT/SIGTERM shut it down gracefully.
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadWorkerConfig, WorkerConfigError, type WorkerConfig } from './config';
import { createRunbookWorker } from './create-worker';
import { boundHeapGrowth } from './heap';
import { describeSettings } from './settings';

async function main(): Promise<void> {
  let config: WorkerConfig;
  try {
    config = loadWorkerConfig();
  } catch (err) {
    if (!(err instanceof WorkerConfigError)) throw err;
    for (const line of err.problems) console.error(line);
    process.exit(1);
  }
  if (config.settings) for (const line of describeSettings(config.settings)) console.log(line);
  const heapFlag = boundHeapGrowth();
  if (heapFlag)
    console.log(`heap: ${heapFlag} (peak memory flat with the run's size; give node your own to change it)`);
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: ['SIGINT', 'SIGTERM'] });
  const runbookWorker = await createRunbookWorker(config);
  console.log(
    `worker listening on task queue ${config.temporal.taskQueue} (${config.temporal.address}, namespace ${config.temporal.namespace}); ` +
      `migrations from ${config.migrationsDir}${config.hooksFile ? `, hooks from ${config.hooksFile}` : ''}`
  );
  try {
    await runbookWorker.worker.run();
  } finally {
    await runbookWorker.close();
  }
  console.log('worker stopped');
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

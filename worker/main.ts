/**
 * `npm run worker` (`cosmos-runbook worker`): a runbook worker configured from the environment (and the local stack's
 * `.local/stack.env` while that stack runs; worker/settings.ts). Everything it says is one JSON line on stdout
 * (worker/logger.ts; LOG_LEVEL, LOG_FORMAT=pretty): where each setting came from (never a key's value), the SDK's own
 * lines and the workflow's phase lines. Bad configuration stops it at once with one line per problem;
 * SIGINT/SIGTERM shut it down gracefully. METRICS_BIND_ADDRESS serves Prometheus metrics (worker/telemetry.ts);
 * OTEL_EXPORTER_OTLP_ENDPOINT exports traces (worker/tracing.ts).
 */
import { Runtime } from '@temporalio/worker';
import { loadWorkerConfig, WorkerConfigError, type WorkerConfig } from './config';
import { createRunbookWorker } from './create-worker';
import { boundHeapGrowth } from './heap';
import { createLogger, logSettings } from './logger';
import { settingsRecord } from './settings';
import { metricsBindAddress, runtimeOptions } from './telemetry';
import { startTracing } from './tracing';

export async function runWorker(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const logging = logSettings(env);
  const log = createLogger(logging.settings);
  const metrics = metricsBindAddress(env);
  let config: WorkerConfig;
  try {
    config = loadWorkerConfig(env);
  } catch (err) {
    if (!(err instanceof WorkerConfigError)) throw err;
    for (const line of [...logging.problems, ...err.problems]) log.error(line);
    if (metrics.problem) log.error(metrics.problem);
    process.exit(1);
  }
  const problems = [...logging.problems, ...(metrics.problem ? [metrics.problem] : [])];
  if (problems.length) {
    for (const line of problems) log.error(line);
    process.exit(1);
  }
  if (config.settings) {
    for (const note of config.settings.notes) log.info(note);
    log.info({ configuration: settingsRecord(config.settings) }, 'configuration');
  }
  const heapFlag = boundHeapGrowth();
  if (heapFlag) log.info(`heap: ${heapFlag} (peak memory flat with the run's size; give node your own to change it)`);
  Runtime.install(
    runtimeOptions(log, {
      ...(metrics.address ? { metricsAddress: metrics.address } : {}),
      shutdownSignals: ['SIGINT', 'SIGTERM'],
    })
  );
  if (metrics.address) log.info(`metrics: http://${metrics.address}/metrics (Prometheus)`);
  const tracing = startTracing('cosmos-runbook-worker', env, (message) => log.warn(message));
  if (tracing) log.info('traces: exported over OTLP/HTTP (OTEL_EXPORTER_OTLP_ENDPOINT)');
  let runbookWorker: Awaited<ReturnType<typeof createRunbookWorker>>;
  try {
    runbookWorker = await createRunbookWorker(config, tracing ? { tracing } : {});
  } catch (err) {
    // Temporal unreachable, a migration module that does not load: one line, as for a bad configuration.
    log.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  }
  log.info(
    {
      taskQueue: config.temporal.taskQueue,
      temporalAddress: config.temporal.address,
      namespace: config.temporal.namespace,
      migrationsDir: config.migrationsDir,
      ...(config.hooksFile ? { hooksFile: config.hooksFile } : {}),
    },
    `worker listening on task queue ${config.temporal.taskQueue}`
  );
  try {
    await runbookWorker.worker.run();
  } finally {
    await runbookWorker.close();
    // The spans still buffered (the last activities', the workflow's) reach the collector before the process ends.
    await tracing?.shutdown();
  }
  log.info('worker stopped');
}

if (require.main === module) {
  runWorker().catch((err) => {
    // The logger may not exist yet (or be the reason): one JSON line by hand, as the logger would write it.
    const message = err instanceof Error ? err.message : String(err);
    process.stdout.write(`${JSON.stringify({ level: 'error', time: new Date().toISOString(), msg: message })}\n`);
    process.exit(1);
  });
}

/**
 * The Temporal SDK runtime of the worker process: its logger (worker/logger.ts) and, with METRICS_BIND_ADDRESS, one
 * Prometheus endpoint (`http://<address>/metrics`) served by the SDK's core
 * (node_modules/@temporalio/worker/lib/runtime-options.d.ts PrometheusMetricsExporter). The same endpoint carries
 * Temporal's own worker metrics (temporal_*) and the runbook's (cosmos_runbook_*: activities/metrics.ts,
 * workflows/metrics.ts), which are recorded through the SDK's metric meters and so exported by the same core.
 * Unset, the SDK's meters are no-ops (node_modules/@temporalio/worker/lib/runtime.js: noopMetricMeter).
 */
import type { RuntimeOptions } from '@temporalio/worker';
import type { Logger as Pino } from 'pino';
import { temporalLogger } from './logger';

export const METRICS_BIND_ADDRESS = 'METRICS_BIND_ADDRESS';

/** host:port (a bracketed IPv6 host too), as the SDK's exporter binds it. */
const BIND_ADDRESS = /^(?:[^\s:[\]]+|\[[^\]\s]+\]):\d{1,5}$/;

/** The metrics address, or a problem line. Blank counts as unset (no endpoint). */
export function metricsBindAddress(env: NodeJS.ProcessEnv = process.env): { address?: string; problem?: string } {
  const value = env[METRICS_BIND_ADDRESS]?.trim();
  if (!value) return {};
  if (!BIND_ADDRESS.test(value)) return { problem: `${METRICS_BIND_ADDRESS}: must be host:port (e.g. 0.0.0.0:9464)` };
  return { address: value };
}

export function runtimeOptions(
  logger: Pino,
  options: { metricsAddress?: string; shutdownSignals?: NodeJS.Signals[] } = {}
): RuntimeOptions {
  return {
    logger: temporalLogger(logger),
    ...(options.shutdownSignals ? { shutdownSignals: options.shutdownSignals } : {}),
    telemetryOptions: {
      // The core's own log lines (connection retries, poller errors) are forwarded to the same logger instead of
      // being printed by the core on stderr in its own format.
      logging: { forward: {}, filter: { core: 'WARN', other: 'ERROR' } },
      ...(options.metricsAddress
        ? {
            metrics: {
              // `_total` on counters, as Prometheus names them: cosmos_runbook_documents_migrated_total.
              prometheus: { bindAddress: options.metricsAddress, countersTotalSuffix: true },
            },
          }
        : {}),
    },
  };
}

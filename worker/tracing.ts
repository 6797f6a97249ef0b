/**
 * Traces: the Temporal OpenTelemetry interceptors (@temporalio/interceptors-opentelemetry 1.24) on the CLI's client,
 * the worker's workflows and activities, exported over OTLP/HTTP (JSON) when OTEL_EXPORTER_OTLP_ENDPOINT (or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set. Unset, nothing is started: no provider is registered, so the page spans
 * of activities/cosmos/page-spans.ts go to @opentelemetry/api's no-op tracer, and the workflow bundle carries no
 * tracing interceptor.
 *
 * Wired as the package's own plugin wires it (node_modules/@temporalio/interceptors-opentelemetry/src/plugin.ts):
 * OpenTelemetryWorkflowClientInterceptor on the client; OpenTelemetryActivityInboundInterceptor (the activity's span,
 * parent of the page spans through the context manager) and OpenTelemetryActivityOutboundInterceptor (trace ids on
 * activity log lines); the workflow interceptor module (lib/workflow-interceptors.js) in the bundle; and the
 * `exporter` sink through which the workflow isolate hands its spans to the same span processor
 * (src/worker/index.ts makeWorkflowExporter). The plugin class itself is marked experimental; the interceptors are not.
 *
 * The standard variables are read by the SDK as the OpenTelemetry spec says
 * (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/): the endpoint (`/v1/traces` is
 * appended to OTEL_EXPORTER_OTLP_ENDPOINT; a TRACES endpoint is used as is), OTEL_EXPORTER_OTLP_HEADERS,
 * OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (resources envDetectorSync; the service name wins over a
 * service.name in the attributes), OTEL_BSP_* for the batch processor. Only the endpoint is taken from the `env`
 * given to startTracing (the same that decides whether tracing is on); the SDK reads the others from process.env.
 */
import { context, diag, DiagLogLevel, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { envDetectorSync, Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ClientInterceptors } from '@temporalio/client';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
  type OpenTelemetrySinks,
} from '@temporalio/interceptors-opentelemetry';
import type { InjectedSinks, WorkerOptions } from '@temporalio/worker';

export const OTEL_ENDPOINT_VARIABLES = ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] as const;

/** The workflow interceptor module that must be in the workflow bundle (workflowsPath or bundleWorkflowCode). */
export const WORKFLOW_TRACING_MODULE =
  require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

export interface Tracing {
  /** Interceptors for every Temporal Client the process creates. */
  clientInterceptors: ClientInterceptors;
  /** The worker's interceptors (activities; the workflow module) and the sink the workflow spans leave through. */
  workerOptions: Required<Pick<WorkerOptions, 'interceptors' | 'sinks'>>;
  /** Ends every span still buffered with the collector, then stops (the worker's last step). */
  shutdown(): Promise<void>;
}

/**
 * Where the spans go, from the same variables that turn tracing on: the traces endpoint as is, or the base endpoint
 * with `v1/traces` (the spec's rule, which the exporter applies to process.env; explicit so `env` is the one read).
 */
function tracesUrl(env: NodeJS.ProcessEnv): string {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return traces;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT!.trim();
  return `${base}${base.endsWith('/') ? '' : '/'}v1/traces`;
}

/** True when an OTLP endpoint is configured (blank counts as unset). */
export function tracingEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return OTEL_ENDPOINT_VARIABLES.some((name) => Boolean(env[name]?.trim()));
}

/** The process's one provider, shared by every caller of startTracing (a worker and a client in one process). */
let shared: { tracing: Tracing; users: number; stop(): Promise<void> } | undefined;

/**
 * Starts tracing for this process when an endpoint is set (undefined otherwise): one provider registered globally,
 * with AsyncLocalStorage as context manager so a span started in an activity is the child of the activity's span,
 * and W3C trace context as propagator (what the interceptors put in Temporal headers, src/instrumentation.ts).
 * `serviceName` is the default that OTEL_SERVICE_NAME overrides. A second call in the same process (`npm start`
 * runs a worker and a client) shares the first's provider; it is shut down (flushed) when its last user shuts it
 * down.
 */
export function startTracing(
  serviceName: string,
  env: NodeJS.ProcessEnv = process.env,
  warn?: (message: string) => void
): Tracing | undefined {
  if (!tracingEnabled(env)) return undefined;
  if (shared) {
    shared.users += 1;
  } else {
    // The SDK reports a failed export (collector unreachable, refused) through its diagnostics logger, silent
    // unless one is set (@opentelemetry/core globalErrorHandler → diag.error).
    if (warn) diag.setLogger(diagnostics(warn), DiagLogLevel.WARN);
    const { stop, ...wiring } = registerProvider(serviceName, env, warn);
    shared = { users: 1, stop, tracing: { ...wiring, shutdown: release } };
  }
  return shared.tracing;

  async function release(): Promise<void> {
    if (!shared || --shared.users > 0) return;
    const last = shared;
    shared = undefined;
    await last.stop();
  }
}

function registerProvider(
  serviceName: string,
  env: NodeJS.ProcessEnv,
  warn: ((message: string) => void) | undefined
): Omit<Tracing, 'shutdown'> & { stop: () => Promise<void> } {
  const resource = Resource.default()
    .merge(new Resource({ 'service.name': serviceName }))
    .merge(envDetectorSync.detect());
  const processor = new BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl(env) }));
  const provider = new BasicTracerProvider({ resource, spanProcessors: [processor] });
  provider.register({ contextManager: new AsyncLocalStorageContextManager().enable() });
  const sinks: InjectedSinks<OpenTelemetrySinks> = { exporter: makeWorkflowExporter(processor, resource) };
  return {
    clientInterceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] },
    workerOptions: {
      interceptors: {
        client: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] },
        workflowModules: [WORKFLOW_TRACING_MODULE],
        activity: [
          (ctx) => ({
            inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
            outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
          }),
        ],
      },
      sinks,
    },
    stop: async () => {
      // The last export failing (the collector gone) must not fail the worker's stop: a warning, as for any export.
      await provider.shutdown().catch((err: unknown) => {
        warn?.(`traces: the last spans were not exported (${err instanceof Error ? err.message : String(err)})`);
      });
      trace.disable();
      propagation.disable();
      context.disable();
      diag.disable();
    },
  };
}

function diagnostics(warn: (message: string) => void) {
  const say = (message: string) => warn(`traces: ${message}`);
  const quiet = () => undefined;
  return { error: say, warn: say, info: quiet, debug: quiet, verbose: quiet };
}

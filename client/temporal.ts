/** The Temporal client the CLI talks through, connected from the configuration with a short deadline. */
import { Client, Connection } from '@temporalio/client';
import { temporalTlsOption } from '../worker/settings';
import { startTracing } from '../worker/tracing';
import type { ClientConfig } from './config';
import { CliError } from './errors';

export interface TemporalSession {
  client: Client;
  connection: Connection;
  close(): Promise<void>;
}

export async function connectTemporal(config: ClientConfig): Promise<TemporalSession> {
  const { address, namespace, apiKey, tls } = config.temporal;
  let connection: Connection;
  try {
    // The same TLS rules as the worker (worker/settings.ts).
    const tlsOption = temporalTlsOption(tls);
    connection = await Connection.connect({
      address,
      connectTimeout: 5_000,
      ...(apiKey ? { apiKey } : {}),
      ...(tlsOption !== undefined ? { tls: tlsOption } : {}),
    });
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new CliError(
      `cannot reach Temporal at ${address}: ${why}`,
      config.stackEnvFile
        ? `is the stack up? (npm run stack -- up; settings read from ${config.stackEnvFile})`
        : 'is the stack up? (npm run stack -- up), or set TEMPORAL_ADDRESS to your cluster'
    );
  }
  // Traces (worker/tracing.ts) when OTEL_EXPORTER_OTLP_ENDPOINT is set: the client's calls (start, signal, query)
  // are spans, and the workflow's spans are their children through the Temporal headers.
  const tracing = startTracing('cosmos-runbook-cli');
  const client = new Client({
    connection,
    namespace,
    ...(tracing ? { interceptors: tracing.clientInterceptors } : {}),
  });
  return {
    client,
    connection,
    async close() {
      await connection.close();
      await tracing?.shutdown();
    },
  };
}

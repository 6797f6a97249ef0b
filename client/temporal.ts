/** The Temporal client the CLI talks through, connected from the configuration with a short deadline. */
import fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import type { ClientConfig } from './config';
import { CliError } from './errors';

export interface TemporalSession {
  client: Client;
  connection: Connection;
  close(): Promise<void>;
}

function read(file: string | undefined): Buffer | undefined {
  return file ? fs.readFileSync(file) : undefined;
}

export async function connectTemporal(config: ClientConfig): Promise<TemporalSession> {
  const { address, namespace, apiKey, tls } = config.temporal;
  let connection: Connection;
  try {
    connection = await Connection.connect({
      address,
      apiKey,
      connectTimeout: 5_000,
      tls:
        typeof tls === 'object'
          ? {
              serverNameOverride: tls.serverName,
              serverRootCACertificate: read(tls.serverRootCaPath),
              clientCertPair:
                tls.clientCertPath && tls.clientKeyPath
                  ? { crt: read(tls.clientCertPath)!, key: read(tls.clientKeyPath)! }
                  : undefined,
            }
          : tls,
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
  const client = new Client({ connection, namespace });
  return { client, connection, close: () => connection.close() };
}

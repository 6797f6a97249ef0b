/** Starts the local Cosmos emulator in-process for a test file: port 0, a temp data folder, a real @azure/cosmos client. */
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { CosmosClient } from '@azure/cosmos';
import { ensureCertificate, type StackCertificate } from '../../local/tls';
import { startLocalCosmos } from '../../local/cosmos';
import type { LocalCosmos, LocalCosmosOptions } from '../../local/cosmos/types';

export interface TestEmulator {
  cosmos: LocalCosmos;
  client: CosmosClient;
  certificate: StackCertificate;
  dataDir: string;
  /** A new client (e.g. with other retry options); disposed by stop(). */
  newClient(retryOptions?: { maxRetryAttemptCount?: number; maxWaitTimeInSeconds?: number }): CosmosClient;
  /** Stops the emulator and disposes the clients; keeps the data folder (for restart tests). */
  stop(): Promise<void>;
}

/** One certificate for all test files (a 2048-bit key takes a while to make). */
export function testCertificate(): StackCertificate {
  return ensureCertificate(path.join(os.tmpdir(), 'cosmos-runbook-test-tls'));
}

export function tempDataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'local-cosmos-'));
}

export async function startTestEmulator(options: Partial<LocalCosmosOptions> = {}): Promise<TestEmulator> {
  const certificate = options.certificate ?? testCertificate();
  const dataDir = options.dataDir ?? tempDataDir();
  const cosmos = await startLocalCosmos({ port: 0, ...options, certificate, dataDir });
  const clients: CosmosClient[] = [];
  const newClient = (retryOptions?: { maxRetryAttemptCount?: number; maxWaitTimeInSeconds?: number }) => {
    const client = new CosmosClient({
      endpoint: cosmos.endpoint,
      key: cosmos.key,
      agent: new https.Agent({ keepAlive: true, ca: certificate.cert }),
      connectionPolicy: {
        enableEndpointDiscovery: true,
        ...(retryOptions ? { retryOptions: { fixedRetryIntervalInMilliseconds: 0, ...retryOptions } } : {}),
      },
    });
    clients.push(client);
    return client;
  };
  const client = newClient();
  return {
    cosmos,
    client,
    certificate,
    dataDir,
    newClient,
    async stop() {
      clients.forEach((c) => c.dispose());
      await cosmos.close();
    },
  };
}

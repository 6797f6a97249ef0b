/**
 * The shared Temporal dev server of the test run (started once by global-setup.ts). Each test file opens its own
 * connections with these helpers and closes them in afterAll; unique task queues keep tests from stealing each
 * other's tasks.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';

export const TEST_NAMESPACE = 'default';

/** host:port of the shared dev server. */
export function testTemporalAddress(): string {
  const address = process.env.TEMPORAL_ADDRESS;
  if (!address) throw new Error('TEMPORAL_ADDRESS is not set: run the tests with jest (test/support/global-setup.ts)');
  return address;
}

/** A client of the shared server; close it with `client.connection.close()`. */
export async function testClient(): Promise<Client> {
  const connection = await Connection.connect({ address: testTemporalAddress() });
  return new Client({ connection, namespace: TEST_NAMESPACE });
}

let runtimeInstalled = false;

/**
 * Workers log every state change at INFO; tests want warnings only. Installs the SDK runtime once per test file
 * (jest gives each file its own module registry); a file that installed its own runtime keeps it.
 */
export function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Already installed by the test file itself.
  }
}

/** A worker connection to the shared server (with a quiet runtime); close it with `connection.close()`. */
export function testNativeConnection(): Promise<NativeConnection> {
  installQuietRuntime();
  return NativeConnection.connect({ address: testTemporalAddress() });
}

/** A task queue no other test uses. */
export function uniqueTaskQueue(prefix = 'test'): string {
  return `${prefix}-${randomUUID()}`;
}

/** Jest global teardown: stops the shared Temporal dev server started by global-setup.ts and removes its log. */
import fs from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const shared = globalThis.__TEMPORAL_TEST_SERVER__;
  globalThis.__TEMPORAL_TEST_SERVER__ = undefined;
  await shared?.server.stop();
  if (shared) fs.rmSync(shared.logFile, { force: true });
}

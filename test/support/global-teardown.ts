/** Jest global teardown: stops the shared Temporal dev server started by global-setup.ts, removes its log and the bundle. */
import fs from 'node:fs';
import path from 'node:path';
import { BUNDLE_ENV } from './workflow-bundle';

export default async function globalTeardown(): Promise<void> {
  const bundle = process.env[BUNDLE_ENV];
  if (bundle) fs.rmSync(path.dirname(bundle), { recursive: true, force: true });
  const shared = globalThis.__TEMPORAL_TEST_SERVER__;
  globalThis.__TEMPORAL_TEST_SERVER__ = undefined;
  await shared?.server.stop();
  if (shared) fs.rmSync(shared.logFile, { force: true });
}

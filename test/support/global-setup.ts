/**
 * Jest global setup: ONE Temporal dev server (the real CLI) for the whole run, with the runbook's search attributes,
 * started as the local stack starts it (local/temporal-server.ts): on a free port, and on another one when a process
 * takes the chosen port before the server binds it. Test files reach it through TEMPORAL_ADDRESS (see
 * test/support/temporal.ts). A missing CLI fails the run with the command that fixes it; nothing is skipped and
 * nothing is downloaded.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findTemporalCli } from '../../local/temporal-cli';
import { startTemporalDevServer, type TemporalDevServer } from '../../local/temporal-server';
import { BUNDLE_ENV, writeRunbookBundle } from './workflow-bundle';

declare global {
  var __TEMPORAL_TEST_SERVER__: { server: TemporalDevServer; logFile: string } | undefined;
}

export default async function globalSetup(): Promise<void> {
  const cli = findTemporalCli();
  if (!cli) {
    throw new Error(
      'The Temporal CLI is not installed. Run `npx tsx scripts/ensure-temporal.ts` (npm test does it first), ' +
        'or set TEMPORAL_CLI_PATH to a `temporal` binary.'
    );
  }
  // One workflow bundle for every test file's workers (test/support/workflow-bundle.ts).
  const bundleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'runbook-bundle-'));
  process.env[BUNDLE_ENV] = await writeRunbookBundle(bundleDir);

  const logFile = path.join(os.tmpdir(), `cosmos-runbook-jest-temporal-${process.pid}.log`);
  // In memory, no UI; it waits for the gRPC health check as long as a loaded machine needs (60 s).
  const server = await startTemporalDevServer({
    cli,
    port: 0,
    uiPort: false,
    logFile,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  globalThis.__TEMPORAL_TEST_SERVER__ = { server, logFile };
  process.env.TEMPORAL_ADDRESS = server.address;
  process.env.TEMPORAL_NAMESPACE = 'default';
  process.env.TEMPORAL_CLI_PATH = cli;
}

/**
 * Jest global setup: ONE Temporal dev server (the real CLI) for the whole run, with the runbook's search attributes.
 * Test files reach it through TEMPORAL_ADDRESS (see test/support/temporal.ts). A missing CLI fails the run with the
 * command that fixes it; nothing is skipped and nothing is downloaded.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { RUNBOOK_SEARCH_ATTRIBUTES } from '../../common/search-attributes';
import { findTemporalCli } from '../../local/temporal-cli';
import { freePort } from '../../local/temporal-server';
import { BUNDLE_ENV, writeRunbookBundle } from './workflow-bundle';

const ATTEMPTS = 3;

declare global {
  var __TEMPORAL_TEST_ENV__: TestWorkflowEnvironment | undefined;
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

  // Core gives the server 5 s to answer; on a busy 2-core machine that can be too short, so try again.
  let lastError: unknown;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const port = await freePort();
    try {
      const env = await TestWorkflowEnvironment.createLocal({
        server: {
          port,
          executable: { type: 'existing-path', path: cli },
          searchAttributes: [...RUNBOOK_SEARCH_ATTRIBUTES],
          log: { format: 'pretty', level: 'error' },
          extraArgs: ['--dynamic-config-value', 'frontend.enableServerVersionCheck=false'],
        },
      });
      globalThis.__TEMPORAL_TEST_ENV__ = env;
      process.env.TEMPORAL_ADDRESS = env.address;
      process.env.TEMPORAL_NAMESPACE = 'default';
      process.env.TEMPORAL_CLI_PATH = cli;
      return;
    } catch (err) {
      lastError = err;
      killServerOnPort(cli, port);
      process.stderr.write(`Temporal dev server did not start (attempt ${attempt}/${ATTEMPTS}): ${String(err)}\n`);
    }
  }
  throw new Error(`The Temporal dev server (${cli}) did not start after ${ATTEMPTS} attempts: ${String(lastError)}`);
}

/** A server that missed core's deadline may still be starting: kill it (found by our binary and port) before retrying. */
function killServerOnPort(cli: string, port: number): void {
  const pids = fs.existsSync('/proc') ? fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name)) : [];
  for (const pid of pids) {
    try {
      const args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (args[0] === cli && args.includes('start-dev') && args[args.indexOf('--port') + 1] === String(port)) {
        process.kill(Number(pid), 'SIGKILL');
      }
    } catch {
      // The process ended meanwhile, or there is no /proc.
    }
  }
}

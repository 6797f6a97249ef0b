/**
 * The runbook's workflow bundle, built once per jest run: global-setup.ts writes it to a file and names it in
 * RUNBOOK_WORKFLOW_BUNDLE, and each test file's workers load that file instead of bundling again (about 4 s of
 * webpack per file on a 2-core machine). Run outside jest's global setup (a single file through another runner), it
 * bundles as before.
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

export const BUNDLE_ENV = 'RUNBOOK_WORKFLOW_BUNDLE';

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: (message: string) => console.error(message),
};

export function bundleRunbookWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quietLogger });
}

/** Builds the bundle into `dir` (global setup); returns the file it names in RUNBOOK_WORKFLOW_BUNDLE. */
export async function writeRunbookBundle(dir: string): Promise<string> {
  const bundle = await bundleRunbookWorkflows();
  const file = path.join(dir, 'workflow-bundle.json');
  fs.writeFileSync(file, JSON.stringify(bundle));
  return file;
}

let loaded: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The run's shared bundle (read once per test file), or a fresh one when no global setup built it. */
export function runbookWorkflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  const file = process.env[BUNDLE_ENV];
  loaded ??=
    file && fs.existsSync(file)
      ? fs.promises.readFile(file, 'utf8').then((json) => JSON.parse(json) as WorkflowBundleWithSourceMap)
      : bundleRunbookWorkflows();
  return loaded;
}

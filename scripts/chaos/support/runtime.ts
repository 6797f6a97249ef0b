/** The Temporal SDK runtime of the chaos process: warnings only (its clients and any in-process worker log at INFO). */
import { DefaultLogger, Runtime } from '@temporalio/worker';

export function installQuietRuntime(): void {
  Runtime.install({ logger: new DefaultLogger('WARN') });
}

/** What every command needs, made once and closed at the end: configuration, the Temporal connection, the registry. */
import type { MigrationRegistry } from '../activities/deps';
import { loadClientConfig, type ClientConfig } from './config';
import { connectTemporal, type TemporalSession } from './temporal';
import { jsonOutput } from './output';
import { openRegistry } from './target';

export class CliContext {
  readonly config: ClientConfig;
  private session?: TemporalSession;
  private registry?: MigrationRegistry;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.config = loadClientConfig(env);
    // Which stack.env was used or ignored, and why: on stderr, so command output stays clean.
    for (const note of this.config.settings?.notes ?? []) process.stderr.write(`config: ${note}\n`);
  }

  async temporal(): Promise<TemporalSession> {
    this.session ??= await connectTemporal(this.config);
    return this.session;
  }

  async migrations(): Promise<MigrationRegistry> {
    this.registry ??= await openRegistry(this.config);
    return this.registry;
  }

  async close(): Promise<void> {
    await this.session?.close().catch(() => undefined);
  }
}

/** Lines for people: stdout, or stderr with `--json` (stdout then carries the JSON result: client/output.ts). */
export function print(...lines: string[]): void {
  (jsonOutput() ? process.stderr : process.stdout).write(`${lines.join('\n')}\n`);
}

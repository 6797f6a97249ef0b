/** What the launcher (local/cli.ts) and the background stack (local/daemon.ts) agree on. */
import path from 'node:path';
import type { StackEnv } from './stack-env';

import type { PartState } from './supervisor';

export interface DaemonConfig {
  dir: string;
  cosmosPort: number;
  armPort: number;
  temporalPort: number;
  temporalUiPort: number;
  cli: string;
  startTimeoutMs: number;
}

/** Sent once over IPC: the stack answers, or why it could not start. */
export type DaemonMessage = { type: 'ready'; env: StackEnv } | { type: 'error'; message: string };

export const DAEMON_SCRIPT = path.join(__dirname, 'daemon.ts');

/** Holds the daemon's pid, which is also its process group (the Temporal server is in that group). */
export function pidFilePath(dir: string): string {
  return path.join(dir, 'stack.pid');
}

export function daemonLogPath(dir: string): string {
  return path.join(dir, 'logs', 'stack.log');
}

/** The parts' states (restarts, last exit), rewritten by the daemon on every change; read by `status`. */
export function partsFilePath(dir: string): string {
  return path.join(dir, 'stack-parts.json');
}

export interface PartsFile {
  /** The daemon that wrote it: a file left by another process is stale. */
  pid: number;
  parts: PartState[];
}

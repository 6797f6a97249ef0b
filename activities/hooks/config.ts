/**
 * The worker's hooks configuration (HOOKS_CONFIG): the only place commands and webhook URLs come from.
 * Workflow input never names a command (ARCHITECTURE §7).
 */
export interface CommandHook {
  /** Run with /bin/sh -c, environment extended with MIGRATION_ID, WORKFLOW_ID, PHASE. */
  command: string;
  /** @default 300 */
  timeoutSeconds?: number;
}

export interface HealthCheckHook {
  name: string;
  /** Healthy when the command exits 0 ... */
  command?: string;
  /** ... or when GET url answers 2xx. */
  url?: string;
  timeoutSeconds?: number;
}

export interface HooksConfig {
  /** Webhooks that receive Slack-compatible JSON ({"text": ...}) on every phase change. */
  notify?: { webhooks?: string[]; command?: string };
  stopApp?: CommandHook;
  startApp?: CommandHook;
  healthChecks?: HealthCheckHook[];
}

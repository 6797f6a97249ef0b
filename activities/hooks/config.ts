/**
 * The worker's hooks configuration (HOOKS_CONFIG): the only place commands and webhook URLs come from.
 * Workflow input never names a command (docs/architecture.md §7).
 */
import fs from 'node:fs';
import { z } from 'zod';

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
  /** Run at the cutover of an online migration (e.g. to flip a feature flag to the new shape's writers). */
  cutover?: CommandHook;
  /** Run by a rollback after the cutover of a copy (docs/runbook.md "Copy mode"): point the application back at the source. */
  rollbackCutover?: CommandHook;
  healthChecks?: HealthCheckHook[];
}

const timeoutSeconds = z.number().positive().max(86_400).optional();
const commandHook = z.object({ command: z.string().min(1), timeoutSeconds }).strict();
const httpUrl = z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' });

export const hooksConfigSchema = z
  .object({
    notify: z
      .object({ webhooks: z.array(httpUrl).optional(), command: z.string().min(1).optional() })
      .strict()
      .optional(),
    stopApp: commandHook.optional(),
    startApp: commandHook.optional(),
    cutover: commandHook.optional(),
    rollbackCutover: commandHook.optional(),
    healthChecks: z
      .array(
        z
          .object({
            name: z.string().min(1),
            command: z.string().min(1).optional(),
            url: httpUrl.optional(),
            timeoutSeconds,
          })
          .strict()
          .refine((check) => Boolean(check.command) !== Boolean(check.url), {
            message: 'needs exactly one of "command" or "url"',
          })
      )
      .optional(),
  })
  .strict();

/** Validates a parsed HOOKS_CONFIG; returns one line per problem (empty when it is valid). */
export function hooksConfigProblems(value: unknown): { config?: HooksConfig; problems: string[] } {
  const result = hooksConfigSchema.safeParse(value);
  if (result.success) return { config: result.data, problems: [] };
  return {
    problems: result.error.issues.map(
      (issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`
    ),
  };
}

/** Reads and validates the HOOKS_CONFIG file; throws one line per problem, each prefixed with the file name. */
export function loadHooksConfig(file: string): HooksConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`HOOKS_CONFIG: cannot read ${file}: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`HOOKS_CONFIG: ${file} is not valid JSON: ${(err as Error).message}`);
  }
  const { config, problems } = hooksConfigProblems(value);
  if (!config) throw new Error(problems.map((line) => `HOOKS_CONFIG ${file}: ${line}`).join('\n'));
  return config;
}

/**
 * The worker's configuration (ARCHITECTURE §8): the environment, plus `.local/stack.env` when present (it never
 * overrides a variable that is set). Every problem is reported at once, one line each, naming the variable.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { environmentWithStack } from '../common/stack-environment';
import type { AzureSettings } from '../activities/clients';
import { hooksConfigProblems, type HooksConfig } from '../activities/hooks/config';

export interface WorkerConfig {
  temporal: {
    address: string;
    namespace: string;
    taskQueue: string;
    apiKey?: string;
    /** mTLS client certificate and key (file paths). */
    tls?: { certPath: string; keyPath: string };
  };
  azure: AzureSettings;
  migrationsDir: string;
  hooks: HooksConfig;
  /** Where the hooks came from, for the startup line. */
  hooksFile?: string;
}

export class WorkerConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`worker configuration is invalid:\n${problems.join('\n')}`);
    this.name = 'WorkerConfigError';
  }
}

const text = z.string().trim().min(1);
const existingFile = text.refine((p) => fs.existsSync(p) && fs.statSync(p).isFile(), { message: 'file not found' });
const httpsUrl = z.url({ protocol: /^https$/, error: 'must be an https:// URL' });

const envSchema = z.object({
  TEMPORAL_ADDRESS: text.regex(/^[^\s:]+:\d+$/, { message: 'must be host:port' }).default('localhost:7233'),
  TEMPORAL_NAMESPACE: text.default('default'),
  TEMPORAL_TASK_QUEUE: text.default('cosmos-runbook'),
  TEMPORAL_API_KEY: text.optional(),
  TEMPORAL_TLS_CERT: existingFile.optional(),
  TEMPORAL_TLS_KEY: existingFile.optional(),
  COSMOS_ENDPOINT: httpsUrl,
  COSMOS_KEY: text.optional(),
  AZURE_SUBSCRIPTION_ID: text,
  AZURE_RESOURCE_GROUP: text,
  COSMOS_ACCOUNT: text,
  ARM_ENDPOINT: httpsUrl.optional(),
  LOCAL_ARM_TOKEN: text.optional(),
  NODE_EXTRA_CA_CERTS: existingFile.optional(),
  MIGRATIONS_DIR: text.default('migrations'),
  HOOKS_CONFIG: existingFile.optional(),
  ARM_POLL_INTERVAL_MS: z.coerce.number().int().positive().optional(),
});

/** Blank variables count as unset (a `FOO=` line in a shell profile should not make FOO "present but empty"). */
function present(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1].trim() !== '')
  );
}

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): WorkerConfig {
  const merged = present(environmentWithStack(env, cwd).vars);
  const parsed = envSchema.safeParse(merged);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? 'environment');
      problems.push(
        `${name}: ${merged[name] === undefined && issue.code === 'invalid_type' ? 'missing' : issue.message}`
      );
    }
  }
  const e = parsed.data;
  if (e && Boolean(e.TEMPORAL_TLS_CERT) !== Boolean(e.TEMPORAL_TLS_KEY)) {
    problems.push(
      `${e.TEMPORAL_TLS_CERT ? 'TEMPORAL_TLS_KEY' : 'TEMPORAL_TLS_CERT'}: missing (mTLS needs both a certificate and a key)`
    );
  }
  const migrationsDir = path.resolve(cwd, e?.MIGRATIONS_DIR ?? 'migrations');
  if (e && !(fs.existsSync(migrationsDir) && fs.statSync(migrationsDir).isDirectory())) {
    problems.push(`MIGRATIONS_DIR: ${migrationsDir} is not a folder`);
  }
  let hooks: HooksConfig = {};
  if (e?.HOOKS_CONFIG) {
    let value: unknown;
    try {
      value = JSON.parse(fs.readFileSync(e.HOOKS_CONFIG, 'utf8'));
    } catch (err) {
      problems.push(`HOOKS_CONFIG: ${e.HOOKS_CONFIG} is not valid JSON (${(err as Error).message})`);
    }
    if (value !== undefined) {
      const checked = hooksConfigProblems(value);
      problems.push(...checked.problems.map((p) => `HOOKS_CONFIG: ${p}`));
      hooks = checked.config ?? {};
    }
  }
  if (problems.length || !e) throw new WorkerConfigError(problems);
  return {
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      ...(e.TEMPORAL_API_KEY ? { apiKey: e.TEMPORAL_API_KEY } : {}),
      ...(e.TEMPORAL_TLS_CERT && e.TEMPORAL_TLS_KEY
        ? { tls: { certPath: e.TEMPORAL_TLS_CERT, keyPath: e.TEMPORAL_TLS_KEY } }
        : {}),
    },
    azure: {
      cosmosEndpoint: e.COSMOS_ENDPOINT,
      ...(e.COSMOS_KEY ? { cosmosKey: e.COSMOS_KEY } : {}),
      subscriptionId: e.AZURE_SUBSCRIPTION_ID,
      resourceGroup: e.AZURE_RESOURCE_GROUP,
      account: e.COSMOS_ACCOUNT,
      ...(e.ARM_ENDPOINT ? { armEndpoint: e.ARM_ENDPOINT } : {}),
      ...(e.LOCAL_ARM_TOKEN ? { armToken: e.LOCAL_ARM_TOKEN } : {}),
      ...(e.NODE_EXTRA_CA_CERTS ? { caCertPath: e.NODE_EXTRA_CA_CERTS } : {}),
      ...(e.ARM_POLL_INTERVAL_MS ? { armPollIntervalMs: e.ARM_POLL_INTERVAL_MS } : {}),
    },
    migrationsDir,
    hooks,
    ...(e.HOOKS_CONFIG ? { hooksFile: e.HOOKS_CONFIG } : {}),
  };
}

/**
 * `.local/stack.env`: how everything else finds a running local stack. Plain KEY=value lines without quotes, so the
 * same file works with dotenv, with `set -a; . .local/stack.env` in a shell, and as worker configuration.
 */
import fs from 'node:fs';
import path from 'node:path';
import dotenv from 'dotenv';
import type { AzureSettings } from '../activities/clients';
import { stackOwnerVars } from '../worker/stack-file';

export interface StackEnv {
  TEMPORAL_ADDRESS: string;
  TEMPORAL_NAMESPACE: string;
  TEMPORAL_TASK_QUEUE: string;
  TEMPORAL_UI_URL: string;
  COSMOS_ENDPOINT: string;
  COSMOS_KEY: string;
  AZURE_SUBSCRIPTION_ID: string;
  AZURE_RESOURCE_GROUP: string;
  COSMOS_ACCOUNT: string;
  ARM_ENDPOINT: string;
  /** Absolute path of the stack's self-signed certificate, trusted by Node clients. */
  NODE_EXTRA_CA_CERTS: string;
  /** The bearer token the ARM imitation accepts; new for every stack. */
  LOCAL_ARM_TOKEN: string;
}

export const STACK_ENV_KEYS: readonly (keyof StackEnv)[] = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_TASK_QUEUE',
  'TEMPORAL_UI_URL',
  'COSMOS_ENDPOINT',
  'COSMOS_KEY',
  'AZURE_SUBSCRIPTION_ID',
  'AZURE_RESOURCE_GROUP',
  'COSMOS_ACCOUNT',
  'ARM_ENDPOINT',
  'NODE_EXTRA_CA_CERTS',
  'LOCAL_ARM_TOKEN',
];

/** Fixed identity of the local account: the same on every machine, obviously not a real subscription. */
export const LOCAL_SUBSCRIPTION_ID = '00000000-0000-4000-8000-000000000001';
export const LOCAL_RESOURCE_GROUP = 'local-rg';
export const LOCAL_ACCOUNT = 'local-account';
export const DEFAULT_TASK_QUEUE = 'cosmos-runbook';

export const DEFAULT_PORTS = { temporal: 7233, temporalUi: 8233, cosmos: 8081, arm: 8443 } as const;

/** `.local/` at the project root, or STACK_DIR. */
export function defaultStackDir(): string {
  return path.resolve(process.env.STACK_DIR ?? path.join(__dirname, '..', '.local'));
}

export function stackEnvPath(stackDir: string): string {
  return path.join(stackDir, 'stack.env');
}

/**
 * The variables, then the lines naming the process that owns the stack (LOCAL_STACK_PID, LOCAL_STACK_PID_START):
 * the worker and the CLI use the file only while that process runs (worker/stack-file.ts).
 */
export function formatStackEnv(env: StackEnv, owner: Record<string, string> = stackOwnerVars()): string {
  const entries: [string, string][] = [
    ...STACK_ENV_KEYS.map((key): [string, string] => [key, env[key]]),
    ...Object.entries(owner),
  ];
  return (
    entries
      .map(([key, value]) => {
        // Unquoted values must survive both dotenv and a POSIX shell: no whitespace, quotes, # or shell metacharacters.
        if (!/^[\w.:/@+=,-]*$/.test(value)) throw new Error(`stack.env: ${key} has characters a shell would mangle`);
        return `${key}=${value}`;
      })
      .join('\n') + '\n'
  );
}

/**
 * Writes the file atomically (readers never see half of it), readable by the user only (it holds keys), naming this
 * process as the stack's owner: call it from the process that runs the stack.
 */
export function writeStackEnv(stackDir: string, env: StackEnv, owner = stackOwnerVars()): string {
  const file = stackEnvPath(stackDir);
  fs.mkdirSync(stackDir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, formatStackEnv(env, owner), { mode: 0o600 });
  fs.renameSync(tmp, file);
  return file;
}

/** The stack's variables, or undefined when no stack.env exists. Throws naming the keys missing from a broken file. */
export function readStackEnv(stackDir: string): StackEnv | undefined {
  const file = stackEnvPath(stackDir);
  if (!fs.existsSync(file)) return undefined;
  const parsed = dotenv.parse(fs.readFileSync(file, 'utf8'));
  const missing = STACK_ENV_KEYS.filter((key) => parsed[key] === undefined);
  if (missing.length) throw new Error(`${file} lacks ${missing.join(', ')}; run \`npm run stack -- up\` again`);
  return Object.fromEntries(STACK_ENV_KEYS.map((key) => [key, parsed[key]])) as unknown as StackEnv;
}

/** The same values as the settings the Azure client factory takes. */
export function azureSettingsFromStackEnv(env: StackEnv): AzureSettings {
  return {
    cosmosEndpoint: env.COSMOS_ENDPOINT,
    cosmosKey: env.COSMOS_KEY,
    subscriptionId: env.AZURE_SUBSCRIPTION_ID,
    resourceGroup: env.AZURE_RESOURCE_GROUP,
    account: env.COSMOS_ACCOUNT,
    armEndpoint: env.ARM_ENDPOINT,
    armToken: env.LOCAL_ARM_TOKEN,
    caCertPath: env.NODE_EXTRA_CA_CERTS,
  };
}

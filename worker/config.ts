/**
 * The worker's configuration: the shared settings (worker/settings.ts; docs/architecture.md §9) with
 * the worker's requirements (the Azure account, a migrations folder, valid hooks) and in the shapes the worker uses.
 */
import fs from 'node:fs';
import { parseAllowedContainers, type AllowedContainers } from '../common/allowed-containers';
import type { AzureSettings } from '../activities/clients';
import { hooksConfigProblems, type HooksConfig } from '../activities/hooks/config';
import {
  invocationDir,
  loadSettings,
  regionList,
  temporalSettings,
  type Settings,
  type TemporalSettings,
} from './settings';

export interface WorkerConfig {
  temporal: TemporalSettings;
  azure: AzureSettings;
  migrationsDir: string;
  hooks: HooksConfig;
  /** Where the hooks came from, for the startup line. */
  hooksFile?: string;
  /** The history container (MIGRATIONS_HISTORY_CONTAINER). @default 'migrations-history' */
  historyContainer?: string;
  /** COSMOS_RUNBOOK_ALLOWED_CONTAINERS: the containers the activities may touch; absent: every container. */
  allowedContainers?: AllowedContainers;
  /** Where every value came from, for the startup log (absent when the config is built by hand, as in tests). */
  settings?: Settings;
}

/** The worker's name for the shared SettingsError: one line per problem in `problems`. */
export { SettingsError as WorkerConfigError } from './settings';

function readHooks(file: string): { config: HooksConfig; problems: string[] } {
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    return { config: {}, problems: [`HOOKS_CONFIG: ${file} is not valid JSON (${(err as Error).message})`] };
  }
  const checked = hooksConfigProblems(value);
  return { config: checked.config ?? {}, problems: checked.problems.map((p) => `HOOKS_CONFIG: ${p}`) };
}

/**
 * @param cwd the folder relative paths are resolved against. @default INIT_CWD (npm run) or the working folder
 * @throws WorkerConfigError (SettingsError) with one line per problem
 */
export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env, cwd = invocationDir(env)): WorkerConfig {
  let hooks: HooksConfig = {};
  const settings = loadSettings(env, {
    purpose: 'worker',
    cwd,
    check: (values) => {
      if (!values.HOOKS_CONFIG) return [];
      const checked = readHooks(values.HOOKS_CONFIG);
      hooks = checked.config;
      return checked.problems;
    },
  });
  const e = settings.values;
  // The worker's schema requires these; the shared type marks them optional for the CLI.
  const required = (value: string | undefined) => value!;
  return {
    temporal: temporalSettings(e),
    azure: {
      cosmosEndpoint: required(e.COSMOS_ENDPOINT),
      ...(e.COSMOS_KEY ? { cosmosKey: e.COSMOS_KEY } : {}),
      subscriptionId: required(e.AZURE_SUBSCRIPTION_ID),
      resourceGroup: required(e.AZURE_RESOURCE_GROUP),
      account: required(e.COSMOS_ACCOUNT),
      ...(e.ARM_ENDPOINT ? { armEndpoint: e.ARM_ENDPOINT } : {}),
      ...(e.ARM_AUDIENCE ? { armAudience: e.ARM_AUDIENCE } : {}),
      ...(e.COSMOS_PREFERRED_REGIONS ? { preferredRegions: regionList(e.COSMOS_PREFERRED_REGIONS) } : {}),
      ...(e.LOCAL_ARM_TOKEN ? { armToken: e.LOCAL_ARM_TOKEN } : {}),
      ...(e.NODE_EXTRA_CA_CERTS ? { caCertPath: e.NODE_EXTRA_CA_CERTS } : {}),
      ...(e.ARM_POLL_INTERVAL_MS ? { armPollIntervalMs: e.ARM_POLL_INTERVAL_MS } : {}),
    },
    migrationsDir: e.MIGRATIONS_DIR,
    hooks,
    ...(e.HOOKS_CONFIG ? { hooksFile: e.HOOKS_CONFIG } : {}),
    historyContainer: e.MIGRATIONS_HISTORY_CONTAINER,
    ...(e.COSMOS_RUNBOOK_ALLOWED_CONTAINERS
      ? { allowedContainers: parseAllowedContainers(e.COSMOS_RUNBOOK_ALLOWED_CONTAINERS).allowed }
      : {}),
    settings,
  };
}

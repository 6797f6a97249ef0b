/**
 * The one configuration of the worker and the `migrate` CLI (docs/architecture.md §9): one zod schema,
 * one rule for where each value comes from, one rule for relative paths.
 *
 * - A variable set in the environment wins.
 * - The local stack's `stack.env` (`$STACK_DIR/stack.env`, default `.local/stack.env` in the project) fills in what
 *   the environment leaves unset, but only while the stack that wrote it is running (the pid it names is alive and
 *   is still that process), or when COSMOS_RUNBOOK_STACK_ENV names a file explicitly (`off` never reads one).
 *   A stale file is ignored, and the notes say so.
 * - Otherwise the documented default.
 * - Relative paths (MIGRATIONS_DIR, HOOKS_CONFIG, TEMPORAL_TLS_*, NODE_EXTRA_CA_CERTS, STACK_DIR and
 *   COSMOS_RUNBOOK_STACK_ENV) are resolved against the folder the command was run from: INIT_CWD under `npm run`
 *   (npm itself moves to the project root), else the working folder. MIGRATIONS_DIR unset is the project's
 *   `migrations/`.
 * - Local endpoints (loopback) mixed with non-local ones are refused: that is a stack file or a shell leaking into
 *   a production configuration, or the other way round.
 *
 * Every problem is reported at once, one line each, naming the variable.
 */
import fs from 'node:fs';
import path from 'node:path';
import dotenv from 'dotenv';
import { z } from 'zod';
import { parseAllowedContainers } from '../common/allowed-containers';
import { PACKAGE_ROOT } from './package-root';
import { stackOwner } from './stack-file';

/** The package root (common/package-root.ts): the project in a checkout, the installed package otherwise. */
export const PROJECT_ROOT = PACKAGE_ROOT;
export const DEFAULT_TASK_QUEUE = 'cosmos-runbook';
export const DEFAULT_HISTORY_CONTAINER = 'migrations-history';
/** Names a stack.env to use whatever its state, or `off` to never read one. */
export const STACK_ENV_OVERRIDE = 'COSMOS_RUNBOOK_STACK_ENV';

export type Purpose = 'worker' | 'cli';
export type Source = 'environment' | 'stack file' | 'default';

const text = z.string().trim().min(1);
const existingFile = text.refine((p) => fs.existsSync(p) && fs.statSync(p).isFile(), { message: 'file not found' });
const httpsUrl = z.url({ protocol: /^https$/, error: 'must be an https:// URL' });
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s):// URL' });
const flag = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['1', 'true', 'yes', 'on', '0', 'false', 'no', 'off'], { error: 'must be true or false' }))
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

/** The variables, in the order problems are reported. Required-for-the-worker fields are made optional for the CLI. */
const shape = {
  TEMPORAL_ADDRESS: text.regex(/^[^\s:]+:\d+$|^\[[^\]\s]+\]:\d+$/, { message: 'must be host:port' }),
  TEMPORAL_NAMESPACE: text,
  TEMPORAL_TASK_QUEUE: text,
  TEMPORAL_API_KEY: text.optional(),
  TEMPORAL_TLS: flag.optional(),
  TEMPORAL_TLS_CERT: existingFile.optional(),
  TEMPORAL_TLS_KEY: existingFile.optional(),
  TEMPORAL_TLS_CA: existingFile.optional(),
  TEMPORAL_TLS_SERVER_NAME: text.optional(),
  TEMPORAL_UI_URL: httpUrl.optional(),
  COSMOS_ENDPOINT: httpsUrl,
  COSMOS_KEY: text.optional(),
  AZURE_SUBSCRIPTION_ID: text,
  AZURE_RESOURCE_GROUP: text,
  COSMOS_ACCOUNT: text,
  COSMOS_DATABASE: text.optional(),
  ARM_ENDPOINT: httpsUrl.optional(),
  /** The audience of ARM tokens (sovereign clouds); absent: ARM_ENDPOINT's origin, or public Azure's. */
  ARM_AUDIENCE: httpsUrl.optional(),
  /** Comma-separated regions to read from, in order, e.g. "West Europe,North Europe". */
  COSMOS_PREFERRED_REGIONS: text.optional(),
  LOCAL_ARM_TOKEN: text.optional(),
  NODE_EXTRA_CA_CERTS: existingFile.optional(),
  MIGRATIONS_DIR: text,
  MIGRATIONS_HISTORY_CONTAINER: text,
  HOOKS_CONFIG: existingFile.optional(),
  ARM_POLL_INTERVAL_MS: z.coerce.number().int().positive().optional(),
  /** `database/container` patterns the worker's activities may touch (common/allowed-containers.ts). */
  COSMOS_RUNBOOK_ALLOWED_CONTAINERS: text
    .superRefine((value, ctx) => {
      for (const problem of parseAllowedContainers(value).problems) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
};
type Key = keyof typeof shape;
export const SETTING_KEYS = Object.keys(shape) as Key[];

const WORKER_REQUIRED = ['COSMOS_ENDPOINT', 'AZURE_SUBSCRIPTION_ID', 'AZURE_RESOURCE_GROUP', 'COSMOS_ACCOUNT'] as const;

const workerSchema = z.object(shape);
const cliSchema = z.object({
  ...shape,
  ...Object.fromEntries(WORKER_REQUIRED.map((k) => [k, shape[k].optional()])),
});
type Parsed = z.infer<typeof workerSchema>;
/** For the CLI the worker's required Azure fields may be absent. */
export type SettingValues = Omit<Parsed, (typeof WORKER_REQUIRED)[number]> &
  Partial<Pick<Parsed, (typeof WORKER_REQUIRED)[number]>>;

const DEFAULTS: Partial<Record<Key, string>> = {
  TEMPORAL_ADDRESS: 'localhost:7233',
  TEMPORAL_NAMESPACE: 'default',
  TEMPORAL_TASK_QUEUE: DEFAULT_TASK_QUEUE,
  MIGRATIONS_DIR: path.join(PROJECT_ROOT, 'migrations'),
  MIGRATIONS_HISTORY_CONTAINER: DEFAULT_HISTORY_CONTAINER,
};

const PATH_KEYS: readonly Key[] = [
  'TEMPORAL_TLS_CERT',
  'TEMPORAL_TLS_KEY',
  'TEMPORAL_TLS_CA',
  'NODE_EXTRA_CA_CERTS',
  'MIGRATIONS_DIR',
  'HOOKS_CONFIG',
];
/** Never printed: only whether they are set and where from. */
export const SECRET_KEYS: readonly string[] = ['TEMPORAL_API_KEY', 'COSMOS_KEY', 'LOCAL_ARM_TOKEN'];

export interface Settings {
  purpose: Purpose;
  values: SettingValues;
  /** Where each value that is set came from. */
  sources: Partial<Record<Key, Source>>;
  /** The stack.env that filled in values, if any. */
  stackFile?: string;
  /** Lines for the start-up log: which stack.env was used or ignored, and why. */
  notes: string[];
  /** The folder relative paths were resolved against. */
  base: string;
}

export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`configuration is invalid:\n${problems.join('\n')}`);
    this.name = 'SettingsError';
  }
}

/** Blank variables count as unset (a `FOO=` line in a shell profile should not make FOO "present but empty"). */
function present(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1].trim() !== '')
  );
}

/** The folder a user ran the command from: npm moves to the project root and records the original in INIT_CWD. */
export function invocationDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.INIT_CWD || process.cwd());
}

/** The folder of the embedded stack: STACK_DIR, or `.local/` in the project. */
export function stackDir(env: NodeJS.ProcessEnv = process.env, base = invocationDir(env)): string {
  return env.STACK_DIR?.trim() ? path.resolve(base, env.STACK_DIR) : path.join(PROJECT_ROOT, '.local');
}

function shown(file: string, base: string): string {
  const relative = path.relative(base, file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

interface StackChoice {
  vars: Record<string, string>;
  file?: string;
  notes: string[];
  problems: string[];
}

/** Which stack.env, if any, fills in the settings the environment leaves unset. */
function chooseStackFile(own: Record<string, string>, base: string): StackChoice {
  const override = own[STACK_ENV_OVERRIDE]?.trim();
  if (override && /^(off|none|no|false|0)$/i.test(override)) {
    return { vars: {}, notes: [`no stack file (${STACK_ENV_OVERRIDE}=${override})`], problems: [] };
  }
  const explicit = override !== undefined;
  const file = explicit ? path.resolve(base, override) : path.join(stackDir(own, base), 'stack.env');
  if (!fs.existsSync(file)) {
    return explicit
      ? { vars: {}, notes: [], problems: [`${STACK_ENV_OVERRIDE}: ${file} not found`] }
      : { vars: {}, notes: [], problems: [] };
  }
  let vars: Record<string, string>;
  try {
    vars = present(dotenv.parse(fs.readFileSync(file, 'utf8')));
  } catch (err) {
    const why = `${file} cannot be read (${(err as Error).message})`;
    return explicit
      ? { vars: {}, notes: [], problems: [`${STACK_ENV_OVERRIDE}: ${why}`] }
      : { vars: {}, notes: [`ignoring ${why}`], problems: [] };
  }
  const owner = stackOwner(vars);
  const name = shown(file, base);
  if (explicit) {
    const state = owner.running ? `its stack is running, pid ${owner.pid}` : `warning: ${owner.why}`;
    return { vars, file, notes: [`using ${name} (${STACK_ENV_OVERRIDE}; ${state})`], problems: [] };
  }
  if (!owner.running) {
    return {
      vars: {},
      notes: [`ignoring ${name}: ${owner.why}; none of its settings are used`],
      problems: [],
    };
  }
  return { vars, file, notes: [`using ${name} (the local stack, pid ${owner.pid})`], problems: [] };
}

function hostOf(key: 'TEMPORAL_ADDRESS' | 'COSMOS_ENDPOINT' | 'ARM_ENDPOINT', value: string): string {
  if (key === 'TEMPORAL_ADDRESS') return value.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return new URL(value).hostname.replace(/^\[|\]$/g, '');
}

export function isLocalHost(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::1';
}

/** Loopback endpoints next to remote ones: refused, naming each endpoint and where it came from. */
function mixingProblems(values: SettingValues, sources: Settings['sources']): string[] {
  const endpoints: { key: Key; value: string; local: boolean; source: string }[] = [];
  const add = (key: 'TEMPORAL_ADDRESS' | 'COSMOS_ENDPOINT' | 'ARM_ENDPOINT', value: string | undefined) => {
    if (value)
      endpoints.push({ key, value, local: isLocalHost(hostOf(key, value)), source: sources[key] ?? 'default' });
  };
  add('TEMPORAL_ADDRESS', values.TEMPORAL_ADDRESS);
  add('COSMOS_ENDPOINT', values.COSMOS_ENDPOINT);
  add('ARM_ENDPOINT', values.ARM_ENDPOINT);
  if (values.COSMOS_ENDPOINT && !values.ARM_ENDPOINT) {
    endpoints.push({ key: 'ARM_ENDPOINT', value: 'https://management.azure.com', local: false, source: 'default' });
  }
  const problems: string[] = [];
  const local = endpoints.filter((e) => e.local);
  if (local.length && local.length < endpoints.length) {
    const list = endpoints.map((e) => `${e.key}=${e.value} (${e.local ? 'local' : 'not local'}, ${e.source})`);
    problems.push(
      `endpoints: local and non-local endpoints are mixed: ${list.join(', ')}; ` +
        'point all of them at the local stack or all of them elsewhere'
    );
  }
  const arm = endpoints.find((e) => e.key === 'ARM_ENDPOINT');
  if (values.LOCAL_ARM_TOKEN && arm && !arm.local) {
    problems.push(
      `LOCAL_ARM_TOKEN: set (${sources.LOCAL_ARM_TOKEN}), but ARM_ENDPOINT is ${arm.value}; ` +
        'the token is for the local ARM imitation only (production uses DefaultAzureCredential)'
    );
  }
  return problems;
}

/**
 * The settings of the worker or the CLI from the environment (and a running local stack's stack.env).
 * Throws SettingsError with one line per problem.
 */
export function loadSettings(
  env: NodeJS.ProcessEnv = process.env,
  options: { purpose: Purpose; cwd?: string; check?: (values: SettingValues) => string[] }
): Settings {
  const own = present(env);
  const base = path.resolve(options.cwd ?? invocationDir(env));
  const stack = chooseStackFile(own, base);
  const problems = [...stack.problems];

  const merged: Partial<Record<Key, string>> = {};
  const sources: Partial<Record<Key, Source>> = {};
  for (const key of SETTING_KEYS) {
    if (own[key] !== undefined) {
      merged[key] = own[key];
      sources[key] = 'environment';
    } else if (stack.vars[key] !== undefined) {
      merged[key] = stack.vars[key];
      sources[key] = 'stack file';
    } else if (DEFAULTS[key] !== undefined) {
      merged[key] = DEFAULTS[key];
      sources[key] = 'default';
    }
  }
  // The stack's endpoints come with the stack's certificate: a NODE_EXTRA_CA_CERTS of the shell (often the system
  // bundle) must not replace it unless the shell also points COSMOS_ENDPOINT elsewhere.
  if (!own.COSMOS_ENDPOINT && stack.vars.COSMOS_ENDPOINT && stack.vars.NODE_EXTRA_CA_CERTS) {
    merged.NODE_EXTRA_CA_CERTS = stack.vars.NODE_EXTRA_CA_CERTS;
    sources.NODE_EXTRA_CA_CERTS = 'stack file';
  }
  for (const key of PATH_KEYS) {
    const value = merged[key];
    if (value !== undefined) merged[key] = path.resolve(base, value);
  }

  const parsed = (options.purpose === 'worker' ? workerSchema : cliSchema).safeParse(merged);
  const from = (key: string) =>
    sources[key as Key] === 'stack file' && stack.file ? ` (from ${shown(stack.file, base)})` : '';
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? 'environment');
      const missing = merged[name as Key] === undefined && issue.code === 'invalid_type';
      problems.push(`${name}: ${missing ? 'missing' : issue.message}${from(name)}`);
    }
  }
  const values = parsed.data as SettingValues | undefined;
  if (values) {
    if (Boolean(values.TEMPORAL_TLS_CERT) !== Boolean(values.TEMPORAL_TLS_KEY)) {
      problems.push(
        `${values.TEMPORAL_TLS_CERT ? 'TEMPORAL_TLS_KEY' : 'TEMPORAL_TLS_CERT'}: missing (mTLS needs both a certificate and a key)`
      );
    }
    if (
      options.purpose === 'worker' &&
      !(fs.existsSync(values.MIGRATIONS_DIR) && fs.statSync(values.MIGRATIONS_DIR).isDirectory())
    ) {
      problems.push(`MIGRATIONS_DIR: ${values.MIGRATIONS_DIR} is not a folder${from('MIGRATIONS_DIR')}`);
    }
    problems.push(...mixingProblems(values, sources));
    problems.push(...(options.check?.(values) ?? []));
  }
  if (problems.length || !values) throw new SettingsError(problems);
  return {
    purpose: options.purpose,
    values,
    sources,
    ...(stack.file ? { stackFile: stack.file } : {}),
    notes: stack.notes,
    base,
  };
}

/** The start-up log: each setting that is set, its value (secrets: only "set") and where it came from. */
export function describeSettings(settings: Settings): string[] {
  const keys = SETTING_KEYS.filter((k) => settings.sources[k] !== undefined);
  const width = Math.max(...keys.map((k) => k.length));
  const lines = keys.map((key) => {
    const raw = settings.values[key];
    const value = SECRET_KEYS.includes(key) ? '(set, not shown)' : String(raw);
    const source = settings.sources[key] === 'stack file' ? `stack file ${settings.stackFile}` : settings.sources[key];
    return `  ${key.padEnd(width)}  ${value}  [${source}]`;
  });
  return [...settings.notes, 'configuration:', ...lines];
}

/** TLS to Temporal: mTLS files / a CA / a server name; or true (system CAs) for TEMPORAL_TLS or an API key. */
export type TemporalTls =
  boolean | { clientCertPath?: string; clientKeyPath?: string; serverRootCaPath?: string; serverName?: string };

export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  apiKey?: string;
  tls?: TemporalTls;
  /** The web UI, for links. */
  uiUrl?: string;
}

export function temporalSettings(values: SettingValues): TemporalSettings {
  const files = {
    ...(values.TEMPORAL_TLS_CERT ? { clientCertPath: values.TEMPORAL_TLS_CERT } : {}),
    ...(values.TEMPORAL_TLS_KEY ? { clientKeyPath: values.TEMPORAL_TLS_KEY } : {}),
    ...(values.TEMPORAL_TLS_CA ? { serverRootCaPath: values.TEMPORAL_TLS_CA } : {}),
    ...(values.TEMPORAL_TLS_SERVER_NAME ? { serverName: values.TEMPORAL_TLS_SERVER_NAME } : {}),
  };
  // An API key implies TLS (Temporal Cloud) unless TEMPORAL_TLS=false says otherwise.
  const tls: TemporalTls | undefined = Object.keys(files).length
    ? files
    : (values.TEMPORAL_TLS ?? (values.TEMPORAL_API_KEY ? true : undefined));
  return {
    address: values.TEMPORAL_ADDRESS,
    namespace: values.TEMPORAL_NAMESPACE,
    taskQueue: values.TEMPORAL_TASK_QUEUE,
    ...(values.TEMPORAL_API_KEY ? { apiKey: values.TEMPORAL_API_KEY } : {}),
    ...(tls !== undefined ? { tls } : {}),
    ...(values.TEMPORAL_UI_URL ? { uiUrl: values.TEMPORAL_UI_URL } : {}),
  };
}

/** The `tls` option of both Connection.connect (client) and NativeConnection.connect (worker). */
export function temporalTlsOption(tls: TemporalTls | undefined):
  | boolean
  | undefined
  | {
      serverNameOverride?: string;
      serverRootCACertificate?: Buffer;
      clientCertPair?: { crt: Buffer; key: Buffer };
    } {
  if (tls === undefined || typeof tls === 'boolean') return tls;
  return {
    ...(tls.serverName ? { serverNameOverride: tls.serverName } : {}),
    ...(tls.serverRootCaPath ? { serverRootCACertificate: fs.readFileSync(tls.serverRootCaPath) } : {}),
    ...(tls.clientCertPath && tls.clientKeyPath
      ? { clientCertPair: { crt: fs.readFileSync(tls.clientCertPath), key: fs.readFileSync(tls.clientKeyPath) } }
      : {}),
  };
}

/** The configuration as one structured log record: each variable that is set, its value (secrets: not) and source. */
export function settingsRecord(settings: Settings): Record<string, { value: string; source: string }> {
  const keys = SETTING_KEYS.filter((k) => settings.sources[k] !== undefined);
  return Object.fromEntries(
    keys.map((key) => [
      key,
      {
        value: SECRET_KEYS.includes(key) ? '(set, not shown)' : String(settings.values[key]),
        source:
          settings.sources[key] === 'stack file' ? `stack file ${settings.stackFile}` : String(settings.sources[key]),
      },
    ])
  );
}

/** COSMOS_PREFERRED_REGIONS: "West Europe, North Europe" → ["West Europe", "North Europe"]. */
export function regionList(value: string): string[] {
  return value
    .split(',')
    .map((region) => region.trim())
    .filter(Boolean);
}

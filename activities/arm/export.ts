/**
 * exportContainer: the container's definition as ARM reports it (the manual runbook's `backup-state.json`), kept so
 * container steps can be undone and a restored container can be given its properties back.
 */
import type { ContainerExport, ContainerRef } from '../../common/activities';
import { exportScripts } from '../cosmos/scripts';
import type { ActivityDeps } from '../deps';

/** What the ARM helpers need of the activity dependencies. */
export type ArmDeps = Pick<ActivityDeps, 'arm' | 'account' | 'armPollIntervalMs'>;

export function isNotFound(err: unknown): boolean {
  return (err as { statusCode?: number }).statusCode === 404;
}

/** System fields the SDK maps `_rid`, `_ts`, `_etag` to (and any `_` field it passes through). */
const SYSTEM_FIELDS = new Set(['rid', 'ts', 'etag', 'self']);

/** ARM `resource` without its system fields: what a PUT may send back. */
function withoutSystemFields(resource: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(resource).filter(
      ([key, value]) => !key.startsWith('_') && !SYSTEM_FIELDS.has(key) && value !== undefined
    )
  );
}

/** Dedicated throughput as ARM reports it: manual RU/s, or autoscale's maximum (and the RU/s it runs at now). */
export interface ThroughputSetting {
  throughput?: number;
  autoscaleMaxThroughput?: number;
}

/**
 * The container's dedicated throughput settings, or undefined when it has none (shared database throughput,
 * serverless). With autoscale ARM returns `autoscaleSettings.maxThroughput` next to `throughput`
 * (ThroughputSettingsResource in @azure/arm-cosmosdb dist/commonjs/models/index.d.ts).
 */
export async function readThroughputSetting(deps: ArmDeps, ref: ContainerRef): Promise<ThroughputSetting | undefined> {
  const { resourceGroup, name } = deps.account;
  try {
    const settings = await deps.arm.sqlResources.getSqlContainerThroughput(
      resourceGroup,
      name,
      ref.database,
      ref.container
    );
    const resource = settings.resource;
    if (!resource) return undefined;
    const max = resource.autoscaleSettings?.maxThroughput;
    return {
      ...(resource.throughput !== undefined ? { throughput: resource.throughput } : {}),
      ...(max !== undefined ? { autoscaleMaxThroughput: max } : {}),
    };
  } catch (err) {
    // 404: no dedicated throughput. 400: serverless accounts have no throughput settings at all.
    const status = (err as { statusCode?: number }).statusCode;
    if (status === 404 || status === 400) return undefined;
    throw err;
  }
}

/** The container's dedicated RU/s now (with autoscale, what it runs at), or undefined when it has none. */
export async function readContainerThroughput(deps: ArmDeps, ref: ContainerRef): Promise<number | undefined> {
  return (await readThroughputSetting(deps, ref))?.throughput;
}

/** Throughput in words: "manual 400 RU/s", "autoscale up to 4000 RU/s", "shared". */
export function describeThroughput(setting: ThroughputSetting | undefined): string {
  if (setting?.autoscaleMaxThroughput !== undefined) return `autoscale up to ${setting.autoscaleMaxThroughput} RU/s`;
  if (setting?.throughput !== undefined) return `manual ${setting.throughput} RU/s`;
  return 'shared';
}

/** Whether the container's throughput is what the export says (same mode; manual RU/s or autoscale maximum). */
export function sameThroughput(exported: ThroughputSetting, current: ThroughputSetting | undefined): boolean {
  if (exported.autoscaleMaxThroughput !== undefined) {
    return current?.autoscaleMaxThroughput === exported.autoscaleMaxThroughput;
  }
  if (exported.throughput === undefined) return true;
  return current?.autoscaleMaxThroughput === undefined && current?.throughput === exported.throughput;
}

/**
 * The container's definition and dedicated throughput (manual or autoscale); with `scripts`, also its stored
 * procedures, triggers and UDFs (read through the data plane), which a point-in-time restore does not bring back.
 */
export async function exportContainer(
  deps: ArmDeps & Partial<Pick<ActivityDeps, 'cosmos'>>,
  ref: ContainerRef,
  options: { scripts?: boolean } = {}
): Promise<ContainerExport | null> {
  const { resourceGroup, name } = deps.account;
  let got;
  try {
    got = await deps.arm.sqlResources.getSqlContainer(resourceGroup, name, ref.database, ref.container);
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
  const setting = await readThroughputSetting(deps, ref);
  const throughput = got.options?.throughput ?? setting?.throughput;
  const max = got.options?.autoscaleSettings?.maxThroughput ?? setting?.autoscaleMaxThroughput;
  if (options.scripts && !deps.cosmos) throw new Error('exporting scripts needs a Cosmos client');
  const scripts =
    options.scripts && deps.cosmos ? await exportScripts({ ...deps, cosmos: deps.cosmos }, ref) : undefined;
  return {
    database: ref.database,
    container: ref.container,
    resource: withoutSystemFields({ ...(got.resource ?? {}) }),
    ...(throughput !== undefined ? { throughput } : {}),
    ...(max !== undefined ? { autoscaleMaxThroughput: max } : {}),
    ...(scripts ? { scripts } : {}),
    exportedAt: new Date().toISOString(),
  };
}

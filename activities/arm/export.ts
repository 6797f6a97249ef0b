/**
 * exportContainer: the container's definition as ARM reports it (the manual runbook's `backup-state.json`), kept so
 * container steps can be undone and a restored container can be given its properties back.
 */
import type { ContainerExport, ContainerRef } from '../../common/activities';
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

/** The container's dedicated throughput, or undefined when it has none (shared database throughput, serverless). */
export async function readContainerThroughput(deps: ArmDeps, ref: ContainerRef): Promise<number | undefined> {
  const { resourceGroup, name } = deps.account;
  try {
    const settings = await deps.arm.sqlResources.getSqlContainerThroughput(
      resourceGroup,
      name,
      ref.database,
      ref.container
    );
    return settings.resource?.throughput ?? undefined;
  } catch (err) {
    // 404: no dedicated throughput. 400: serverless accounts have no throughput settings at all.
    const status = (err as { statusCode?: number }).statusCode;
    if (status === 404 || status === 400) return undefined;
    throw err;
  }
}

export async function exportContainer(deps: ArmDeps, ref: ContainerRef): Promise<ContainerExport | null> {
  const { resourceGroup, name } = deps.account;
  let got;
  try {
    got = await deps.arm.sqlResources.getSqlContainer(resourceGroup, name, ref.database, ref.container);
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
  const throughput = got.options?.throughput ?? (await readContainerThroughput(deps, ref));
  return {
    database: ref.database,
    container: ref.container,
    resource: withoutSystemFields({ ...(got.resource ?? {}) }),
    ...(throughput !== undefined ? { throughput } : {}),
    exportedAt: new Date().toISOString(),
  };
}

/**
 * Which container a migration acts on, and so which workflow id its run has. One run per container at a time: the id
 * is `cosmos-runbook/<account>/<database>/<container>`, so Temporal itself refuses a second run on the same container.
 */
import { loadRegistry } from '../activities/registry';
import type { LoadedMigration, MigrationRegistry } from '../activities/deps';
import type { ClientConfig } from './config';
import { CliError } from './errors';

export const WORKFLOW_ID_PREFIX = 'cosmos-runbook';
/** Dry runs (`plan`) get their own id, so a plan can be made while a run holds the container. */
export const PLAN_WORKFLOW_ID_PREFIX = 'cosmos-runbook-plan';

export interface Target {
  migration: LoadedMigration;
  database: string;
  container: string;
}

export function runbookWorkflowId(account: string, database: string, container: string, plan = false): string {
  return `${plan ? PLAN_WORKFLOW_ID_PREFIX : WORKFLOW_ID_PREFIX}/${account}/${database}/${container}`;
}

export async function openRegistry(config: ClientConfig): Promise<MigrationRegistry> {
  try {
    return await loadRegistry(config.migrationsDir);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new CliError(message, 'fix the module(s) above, or set MIGRATIONS_DIR to your migrations folder');
  }
}

export function findMigration(registry: MigrationRegistry, id: string): LoadedMigration {
  const found = registry.list().find((m) => m.definition.id === id);
  if (found) return found;
  const known = registry
    .list()
    .map((m) => m.definition.id)
    .join(', ');
  throw new CliError(
    `unknown migration "${id}" in ${registry.dir}`,
    known ? `known migrations: ${known}` : 'create one with `npm run migrate -- new <name>`'
  );
}

/** The module's container, or the override; the database from the override, the module, or COSMOS_DATABASE. */
export function resolveTarget(
  migration: LoadedMigration,
  overrides: { database?: string; container?: string },
  defaultDatabase?: string
): Target {
  const { definition } = migration;
  const moduleContainer = typeof definition.container === 'string' ? definition.container : definition.container.name;
  const container = overrides.container ?? moduleContainer;
  const database = overrides.database ?? definition.database ?? defaultDatabase;
  if (!database) {
    throw new CliError(
      `migration "${definition.id}" names no database`,
      'add `database` to the module, pass --database <name>, or set COSMOS_DATABASE'
    );
  }
  if (!container) throw new CliError(`migration "${definition.id}" names no container`, 'pass --container <name>');
  return { migration, database, container };
}

export function requireAccount(config: ClientConfig): string {
  if (!config.account) {
    throw new CliError(
      'COSMOS_ACCOUNT is not set (the Cosmos DB account the run acts on)',
      'set COSMOS_ACCOUNT, or bring the local stack up with `npm run stack -- up`'
    );
  }
  return config.account;
}

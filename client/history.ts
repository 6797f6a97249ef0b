/**
 * The last history record of each migration, for `status`. The runbook keeps its history in Cosmos DB (the
 * `recordHistory` activity writes it, `readHistory` reads it); when the CLI has no Cosmos settings, or cannot read
 * them, the reports of the runs Temporal still keeps stand in (they carry the same fields).
 */
import type { HistoryRecord } from '../common/activities';
import type { ActivityDeps, LoadedMigration } from '../activities/deps';
import { createCosmosClient } from '../activities/clients';
import { readHistory } from '../activities/cosmos/history';
import { DEFAULT_HISTORY_CONTAINER } from '../worker/settings';
import type { CliContext } from './context';
import { listRuns, runReport } from './runs';
import { PLAN_WORKFLOW_ID_PREFIX, resolveTarget } from './target';

function databasesOf(modules: LoadedMigration[], defaultDatabase: string | undefined): Set<string> {
  const databases = new Set<string>();
  for (const m of modules) {
    try {
      databases.add(resolveTarget(m, {}, defaultDatabase).database);
    } catch {
      // a module without a database has no history to read
    }
  }
  return databases;
}

async function fromCosmos(ctx: CliContext, modules: LoadedMigration[]): Promise<Map<string, HistoryRecord>> {
  const cosmos = createCosmosClient(ctx.config.azure!);
  try {
    // readHistory needs only the data-plane client and the control containers' names.
    const deps = {
      cosmos,
      control: {
        historyContainer: ctx.config.historyContainer ?? DEFAULT_HISTORY_CONTAINER,
        leaseContainer: 'migrations-leases',
      },
    } as ActivityDeps;
    const records = new Map<string, HistoryRecord>();
    const known = new Set(modules.map((m) => m.definition.id));
    for (const database of databasesOf(modules, ctx.config.database)) {
      for (const record of await readHistory(deps, database)) {
        if (!known.has(record.migrationId) || record.status === 'dry-run') continue;
        const current = records.get(record.migrationId);
        if (!current || current.finishedAt < record.finishedAt) records.set(record.migrationId, record);
      }
    }
    return records;
  } finally {
    cosmos.dispose();
  }
}

/** Newest record per migration id, from the runs Temporal still keeps. */
async function fromTemporal(ctx: CliContext, modules: LoadedMigration[]): Promise<Map<string, HistoryRecord>> {
  const { client } = await ctx.temporal();
  const records = new Map<string, HistoryRecord>();
  await Promise.all(
    modules.map(async (m) => {
      const id = m.definition.id;
      const closed = (await listRuns(client, { migrationId: id, limit: 20 })).filter(
        (r) => r.status !== 'RUNNING' && !r.workflowId.startsWith(`${PLAN_WORKFLOW_ID_PREFIX}/`)
      );
      for (const run of closed) {
        const report = await runReport(client, run).catch(() => undefined);
        if (!report || report.status === 'dry-run') continue;
        records.set(id, {
          migrationId: id,
          checksum: report.checksum,
          direction: report.direction,
          status: report.status,
          startedAt: report.startedAt,
          finishedAt: report.finishedAt,
          counters: report.counters,
          workflowId: report.workflowId,
          runId: run.runId,
          database: report.database,
          container: report.container,
          t0: report.snapshot?.t0,
          reason: report.reason,
        });
        break;
      }
    })
  );
  return records;
}

export async function lastHistoryRecords(
  ctx: CliContext,
  modules: LoadedMigration[]
): Promise<{ records: Map<string, HistoryRecord>; source: string }> {
  if (ctx.config.azure) {
    try {
      return {
        records: await fromCosmos(ctx, modules),
        source: `the migrations history in Cosmos DB (${ctx.config.azure.cosmosEndpoint})`,
      };
    } catch (err) {
      process.stderr.write(
        `warning: cannot read the migrations history from Cosmos DB (${(err as Error).message.split('\n')[0]}); ` +
          'showing the runs Temporal still keeps\n'
      );
    }
  }
  return { records: await fromTemporal(ctx, modules), source: 'the runs Temporal still keeps' };
}

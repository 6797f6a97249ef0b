/**
 * The last history record of each migration, for `status`. The runbook keeps its history in Cosmos DB (written by
 * the `recordHistory` activity); runs still visible in Temporal fill in for an account the CLI cannot read.
 */
import type { HistoryRecord } from '../common/activities';
import type { LoadedMigration } from '../activities/deps';
import type { CliContext } from './context';
import { listRuns, runReport } from './runs';

/** Newest record per migration id, from the runs Temporal still keeps (their reports carry the same fields). */
async function fromTemporal(ctx: CliContext, modules: LoadedMigration[]): Promise<Map<string, HistoryRecord>> {
  const { client } = await ctx.temporal();
  const records = new Map<string, HistoryRecord>();
  await Promise.all(
    modules.map(async (m) => {
      const id = m.definition.id;
      const closed = (await listRuns(client, { migrationId: id, limit: 20 })).filter(
        (r) => r.status !== 'RUNNING' && !r.workflowId.startsWith('cosmos-runbook-plan/')
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
): Promise<Map<string, HistoryRecord>> {
  return fromTemporal(ctx, modules);
}

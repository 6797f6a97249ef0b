/**
 * `status`: without an id, every module in MIGRATIONS_DIR with its last history record (the manual runbook's
 * `migrate:status`) and the runs in progress; with an id, the live `status` query of its run.
 */
import type { HistoryRecord } from '../../common/activities';
import type { LoadedMigration } from '../../activities/deps';
import type { RunbookStatus } from '../../common/status';
import { statusQuery } from '../../workflows/messages';
import { print, type CliContext } from '../context';
import { emit } from '../output';
import { CliError } from '../errors';
import { formatStatus, migrateCommand, table } from '../format';
import { latestRun, listRuns, runReport } from '../runs';
import { lastHistoryRecords } from '../history';
import { runFor, type SignalOptions } from './signals';
import { targetFlags } from './run';

export interface StatusOptions extends SignalOptions {
  json?: boolean;
}

/** applied / pending / rolled back ..., in the words of the manual runbook's `migrate:status`. */
export function stateOf(record: HistoryRecord | undefined): string {
  if (!record) return 'pending';
  if (record.status === 'completed') return record.direction === 'up' ? 'applied' : 'reverted (down)';
  if (record.status === 'rolled-back') return 'rolled back';
  return record.status;
}

export function checksumNote(module: LoadedMigration, record: HistoryRecord | undefined): string {
  if (!record) return '';
  return record.checksum === module.checksum ? 'unchanged' : 'changed since applied';
}

export async function statusCommand(
  ctx: CliContext,
  migrationId: string | undefined,
  options: StatusOptions
): Promise<number> {
  if (migrationId) return runStatus(ctx, migrationId, options);
  const registry = await ctx.migrations();
  const modules = registry.list();
  const { client } = await ctx.temporal();
  const [{ records, source }, running] = await Promise.all([
    lastHistoryRecords(ctx, modules),
    listRuns(client, { running: true }),
  ]);
  if (options.json) {
    emit({
      migrations: modules.map((m) => ({
        id: m.definition.id,
        file: m.file,
        checksum: m.checksum,
        state: stateOf(records.get(m.definition.id)),
        last: records.get(m.definition.id) ?? null,
      })),
      running,
    });
    return 0;
  }
  print(`Migrations in ${registry.dir} (last records from ${source})`);
  print(
    modules.length === 0
      ? '  (none: create one with `npm run migrate -- new <name>`)'
      : table(
          ['migration', 'state', 'when', 'container', 'module'],
          modules.map((m) => {
            const record = records.get(m.definition.id);
            return [
              m.definition.id,
              stateOf(record),
              record?.finishedAt ?? '',
              record ? `${record.database}/${record.container}` : '',
              checksumNote(m, record),
            ];
          })
        )
  );
  print('', 'Runs in progress');
  print(
    running.length === 0
      ? '  (none)'
      : table(
          ['migration', 'phase', 'container', 'started', 'workflow id'],
          running.map((r) => [
            r.migrationId ?? '?',
            r.phase ?? '?',
            r.container ?? '?',
            r.startTime.toISOString(),
            r.workflowId,
          ])
        )
  );
  return 0;
}

async function runStatus(ctx: CliContext, migrationId: string, options: StatusOptions): Promise<number> {
  const { client } = await ctx.temporal();
  let handle;
  try {
    handle = await runFor(ctx, migrationId, options);
  } catch (err) {
    // No run in progress: say how the last one ended instead.
    const last = await latestRun(client, migrationId);
    if (!last) throw err;
    const report = await runReport(client, last).catch(() => undefined);
    if (options.json) {
      emit({ running: false, last, report: report ?? null });
      return 0;
    }
    print(
      `no run of ${migrationId} is in progress; the last one (${last.workflowId}) ` +
        (report
          ? `ended ${report.status}${report.reason ? ` — ${report.reason}` : ''} at ${report.finishedAt}`
          : `is ${last.status.toLowerCase()}`) +
        `; see \`${migrateCommand('report', migrationId)}\``
    );
    return 0;
  }
  let status: RunbookStatus;
  try {
    status = await client.withDeadline(Date.now() + 10_000, () => handle.query(statusQuery));
  } catch (err) {
    throw new CliError(
      `the run ${handle.workflowId} does not answer the status query: ${(err as Error).message.split('\n')[0]}`,
      `is a worker polling task queue "${ctx.config.temporal.taskQueue}"? (npm run worker)`
    );
  }
  if (options.json) emit(status);
  else print(...formatStatus(status, handle.workflowId, targetFlags(options)));
  return 0;
}

/** `report <id>`: the result of the latest run of a migration (markdown, or `--json`). */
import { print, type CliContext } from '../context';
import { CliError } from '../errors';
import { emit } from '../output';
import { migrateCommand } from '../format';
import { latestRun, runReport } from '../runs';

export interface ReportOptions {
  json?: boolean;
  plan?: boolean;
}

export async function reportCommand(ctx: CliContext, migrationId: string, options: ReportOptions): Promise<number> {
  const { client } = await ctx.temporal();
  const run = await latestRun(client, migrationId, { includePlans: options.plan });
  if (!run) {
    throw new CliError(`no run of "${migrationId}" found`, `start one with \`${migrateCommand('up', migrationId)}\``);
  }
  if (run.status === 'RUNNING') {
    throw new CliError(
      `the latest run of ${migrationId} (${run.workflowId}) is still in progress (phase ${run.phase ?? '?'})`,
      `see where it is with \`${migrateCommand('status', migrationId)}\``
    );
  }
  const report = await runReport(client, run).catch((err: unknown) => {
    throw new CliError(
      `the latest run of ${migrationId} (${run.workflowId}) ended ${run.status.toLowerCase()} without a report: ` +
        `${(err as Error).message.split('\n')[0]}`
    );
  });
  if (options.json) emit(report);
  else print(report.markdown);
  return 0;
}

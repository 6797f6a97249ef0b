/** `up` / `down` / `plan`: start a run of the runbook and (unless --detach) follow it to its report. */
import type { Direction } from '../../common/activities';
import { parseRunbookInput, type RunbookInput } from '../../common/runbook-input';
import { approveSignal } from '../../workflows/messages';
import { print, type CliContext } from '../context';
import { CliError } from '../errors';
import { emit } from '../output';
import { followRun, reportExitCode, reportOutcome } from '../follow';
import { priceOf } from '../../common/cost';
import { DEFAULT_RU_PRICE, formatPlan, migrateCommand, workerCommand, type RuPrice } from '../format';
import { currentUser, startRun, workerPolls } from '../runs';
import { findMigration, requireAccount, resolveTarget } from '../target';
import { waitForApprovalGate } from './signals';

export interface RunOptions {
  database?: string;
  container?: string;
  batchSize?: number;
  ruBudget?: number;
  concurrency?: number;
  maxFailures?: number;
  monitorDuration?: string;
  monitorInterval?: string;
  rollback?: 'auto' | 'down' | 'restore' | 'manual';
  dryRun?: boolean;
  approvalTimeout?: string;
  /** plan: price per million RU and its currency (client/format.ts DEFAULT_RU_PRICE). */
  ruPrice?: number;
  currency?: string;
  /** --yes */
  yes?: boolean;
  /** commander's `--no-approval` sets approval=false. */
  approval?: boolean;
  detach?: boolean;
}

/** A duration flag: plain digits are milliseconds on the wire, so "90" means 90 seconds here (what a human means). */
function durationFlag(value: string | undefined): string | number | undefined {
  if (value === undefined) return undefined;
  return /^\d+$/.test(value) ? `${value}s` : value;
}

export function runbookInputFrom(
  migrationId: string,
  direction: Direction,
  target: { database: string; container: string },
  options: RunOptions
): RunbookInput {
  const input: RunbookInput = {
    migration: migrationId,
    direction,
    database: target.database,
    container: target.container,
  };
  if (options.approval === false || options.approvalTimeout !== undefined) {
    input.approval = {
      required: options.approval !== false,
      ...(options.approvalTimeout !== undefined ? { timeout: durationFlag(options.approvalTimeout)! } : {}),
    };
  }
  if (options.batchSize !== undefined) input.batchSize = options.batchSize;
  if (options.ruBudget !== undefined) input.ruBudget = options.ruBudget;
  if (options.concurrency !== undefined) input.concurrency = options.concurrency;
  if (options.maxFailures !== undefined) input.maxFailures = options.maxFailures;
  if (options.monitorDuration !== undefined || options.monitorInterval !== undefined) {
    input.monitor = {
      ...(options.monitorDuration !== undefined ? { duration: durationFlag(options.monitorDuration)! } : {}),
      ...(options.monitorInterval !== undefined ? { interval: durationFlag(options.monitorInterval)! } : {}),
    };
  }
  if (options.rollback !== undefined) input.rollback = options.rollback;
  if (options.dryRun) input.dryRun = true;
  // The workflow validates again; checking here names the wrong flag before anything starts.
  try {
    parseRunbookInput(input);
  } catch (err) {
    throw new CliError((err as Error).message.replace('invalid runbook input:\n', 'invalid option: '));
  }
  return input;
}

/** Flags a printed command must repeat to reach the same run. */
export function targetFlags(options: { database?: string; container?: string }): string {
  return [
    options.database ? `--database ${options.database}` : '',
    options.container ? `--container ${options.container}` : '',
  ]
    .filter(Boolean)
    .join(' ');
}

export async function runCommand(
  ctx: CliContext,
  migrationId: string,
  direction: Direction,
  options: RunOptions,
  plan = false
): Promise<number> {
  const registry = await ctx.migrations();
  const target = resolveTarget(findMigration(registry, migrationId), options, ctx.config.database);
  const account = requireAccount(ctx.config);
  const input = plan
    ? runbookInputFrom(migrationId, direction, target, {
        ...options,
        dryRun: true,
        approval: false,
        approvalTimeout: undefined,
        monitorDuration: '0s',
      })
    : runbookInputFrom(migrationId, direction, target, options);
  const { client } = await ctx.temporal();
  const handle = await startRun(client, { taskQueue: ctx.config.temporal.taskQueue, account, target, input, plan });
  const extra = targetFlags(options);
  const what = plan ? 'plan (dry run)' : input.dryRun ? `${direction} (dry run)` : direction;
  print(`started ${what} of ${migrationId} on ${target.database}/${target.container}: workflow ${handle.workflowId}`);
  if (ctx.config.temporal.uiUrl)
    print(`  web UI: ${workflowUrl(ctx.config.temporal.uiUrl, ctx.config.temporal.namespace, handle.workflowId)}`);

  if (!(await workerPolls(client, ctx.config.temporal.taskQueue))) {
    print(
      `warning: no worker polls task queue "${ctx.config.temporal.taskQueue}"; the run waits until one does ` +
        `(start one with \`${workerCommand()}\`)`
    );
  }

  const by = `${currentUser()} (--yes)`;
  if (options.detach) {
    const approvalRequired = input.approval?.required !== false;
    if (options.yes && !plan && approvalRequired) {
      print(`--yes: approving ${migrationId} as ${by} once preflight asks`);
      await waitForApprovalGate(handle, migrationId);
      await handle.signal(approveSignal, { by, comment: 'approved at start with --yes' });
    }
    print(
      `detached; follow it with \`${migrateCommand('status', migrationId, extra)}\`` +
        (input.approval && (input.approval as { required?: boolean }).required === false
          ? ''
          : options.yes
            ? ''
            : `; it waits for \`${migrateCommand('approve', migrationId, extra)}\``)
    );
    emit({ migration: migrationId, workflowId: handle.workflowId, detached: true });
    return 0;
  }

  const report = await followRun(client, handle, {
    migrationId,
    commandExtra: extra,
    taskQueue: ctx.config.temporal.taskQueue,
    autoApprove:
      options.yes && !plan
        ? {
            delayMs: 0,
            notice: `--yes: approving ${migrationId} at once as ${by} (no human review of the plan)`,
            by,
            comment: 'approved with --yes',
          }
        : undefined,
  });
  print('');
  if (plan) {
    if (!report.plan)
      throw new CliError(
        `the dry run ended (${report.status}) without a plan${report.reason ? `: ${report.reason}` : ''}`
      );
    const price: RuPrice = {
      perMillionRu: options.ruPrice ?? DEFAULT_RU_PRICE.perMillionRu,
      currency: options.currency ?? DEFAULT_RU_PRICE.currency,
    };
    print(
      `Plan for ${migrationId} (${direction}) on ${report.database}/${report.container}`,
      ...formatPlan(report.plan, price).map((l) => `  ${l}`)
    );
    emit({
      migration: migrationId,
      direction,
      database: report.database,
      container: report.container,
      plan: report.plan,
      price: { ...price, total: report.plan.cost ? priceOf(report.plan.cost.totalRu, price.perMillionRu) : 0 },
    });
    return report.status === 'dry-run' ? 0 : 2;
  }
  print(report.markdown, '', reportOutcome(report));
  emit(report);
  return reportExitCode(report);
}

export function workflowUrl(uiUrl: string, namespace: string, workflowId: string): string {
  return `${uiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

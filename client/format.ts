/** Text the CLI shows: durations, sizes, the plan, the status of a run, the decision it waits for. */
import type { MigrationPlan } from '../common/activities';
import { priceOf } from '../common/cost';
import type { MonitorPoint, PendingDecision, RunbookStatus } from '../common/status';

/** A duration given in seconds, in words ("0.4s", "42s", "2m 05s", "3h 07m"); under 10 s with a tenth. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '?';
  if (seconds < 9.95) return `${Math.max(0, Math.round(seconds * 10) / 10)}s`;
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${h}h ${String(m % 60).padStart(2, '0')}m`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export const n = (value: number) => value.toLocaleString('en-US');

/** `npm run migrate -- <command> <id>` plus the flags the run was started with, so the printed line works as is. */
export function migrateCommand(command: string, migrationId: string, extra = ''): string {
  return `npm run migrate -- ${command} ${migrationId}${extra ? ` ${extra}` : ''}`;
}

/** What the run waits for and the exact commands that answer it. */
export function describeDecision(decision: PendingDecision, migrationId: string, extra = ''): string[] {
  const cmd = (c: string) => `\`${migrateCommand(c, migrationId, extra)}\``;
  switch (decision.kind) {
    case 'approve':
      return [
        `waiting for approval${decision.deadline ? ` (until ${decision.deadline})` : ''}`,
        ...(decision.rollback ? [`  if it goes wrong: ${decision.rollback}`] : []),
        `  approve: ${cmd('approve')}   abort: ${cmd('abort')}`,
      ];
    case 'approve-restore':
      return [
        `the rollback needs approval before it deletes and restores the container: ${decision.reason}`,
        `  approve: ${cmd('approve')}   abort: ${cmd('abort')}`,
      ];
    case 'accept-restore':
      return [
        `the restored container differs from the state at T0: ${decision.reason}`,
        `  accept it and restart the application: ${cmd('approve')}   leave it stopped: ${cmd('abort')}`,
      ];
    case 'approve-delete-container':
      return [
        decision.notCopies !== undefined
          ? `the rollback would delete the copy's target, which holds ${decision.documents} document(s), ${decision.notCopies} of them not the run's copies: ${decision.reason}`
          : `the rollback would delete a container the migration created, which holds ${decision.documents} document(s): ${decision.reason}`,
        `  delete it with them: ${cmd('approve')}   keep it: ${cmd('abort')}`,
      ];
    case 'accept-conflicts':
      return [
        `the rollback left ${decision.left} document(s) at the new version as the application wrote them: ${decision.reason}`,
        ...(decision.unnamed ? [`  ${decision.unnamed} of them not named below: the revert did not see them`] : []),
        ...decision.conflicts.slice(0, 10).map((c) => `  ${c.id} (${JSON.stringify(c.partitionKey)}): ${c.reason}`),
        ...(decision.conflicts.length > 10
          ? [`  … and ${decision.left - 10} more (migrate status --json lists 100)`]
          : []),
        `  accept them as they are: ${cmd('approve')}   leave the decision open: ${cmd('abort')}`,
      ];
    case 'cutover':
      return [
        `catching up from the change feed: ${decision.reason}`,
        `  once the old writers are gone: ${cmd('cutover')}   roll back: ${cmd('rollback')}`,
      ];
    case 'resume-or-rollback':
      return [`paused: ${decision.reason}`, `  resume: ${cmd('resume')}   roll back: ${cmd('rollback')}`];
    case 'operator':
      return [`needs an operator: ${decision.reason}`, `  roll back: ${cmd('rollback')}   resume: ${cmd('resume')}`];
  }
}

/** The price a plan is shown at: RU × price per million RU (serverless billing; docs/migrations.md, cost). */
export interface RuPrice {
  perMillionRu: number;
  currency: string;
}

/**
 * @default 0.25 USD per million RU: Azure's serverless list price in its US regions when this was written
 * (https://azure.microsoft.com/pricing/details/cosmos-db/); give yours with --ru-price and --currency.
 */
export const DEFAULT_RU_PRICE: RuPrice = { perMillionRu: 0.25, currency: 'USD' };

function formatCost(plan: MigrationPlan, price: RuPrice): string[] {
  const cost = plan.cost;
  if (!cost) return [];
  const ru = (value: number) => `${n(Math.round(value))} RU`;
  return [
    'cost (request units):',
    `  reads                  ${ru(cost.readRu)}`,
    `  writes                 ${ru(cost.writeRu)}`,
    `  pre-images             ${cost.preimages ? ru(cost.preimageRu) : 'none (the run keeps no pre-images)'}`,
    `  verification           ${ru(cost.verificationRu)}`,
    `  total                  ${ru(cost.totalRu)}`,
    cost.ruPerHourAtBudget !== undefined
      ? `  per hour at the budget ${ru(cost.ruPerHourAtBudget)} for ${cost.hoursAtBudget} h`
      : '  per hour               (no RU budget: as fast as the account allows)',
    `  price                  ${priceOf(cost.totalRu, price.perMillionRu).toFixed(2)} ${price.currency} ` +
      `at ${price.perMillionRu} ${price.currency} per million RU (serverless; on provisioned throughput the RU ` +
      'come out of what you provision)',
  ];
}

export function formatPlan(plan: MigrationPlan, price: RuPrice = DEFAULT_RU_PRICE): string[] {
  const { sample } = plan;
  const lines = [
    `documents in container   ${n(plan.totalDocuments)}`,
    `documents to migrate     ${n(plan.documentsToMigrate)}`,
    ...(plan.documentsAtTarget
      ? [
          `already at the target    ${n(plan.documentsAtTarget)} (at that version at T0: a restore keeps them ` +
            'there, and no pre-image of them is taken)',
        ]
      : []),
    `sample                   ${n(sample.size)} documents: ${n(sample.wouldChange)} would change, ` +
      `${n(sample.wouldSkip)} would be left, ${n(sample.failures.length)} would fail`,
    `average document size    ${formatBytes(sample.averageDocumentBytes)}`,
    `RU per write / per read  ${sample.ruPerWrite.toFixed(2)} / ${sample.ruPerRead.toFixed(2)}`,
    `estimated duration       ${formatDuration(plan.estimatedSeconds)} ` +
      (plan.ruBudget ? `at the budget of ${n(plan.ruBudget)} RU/s` : 'unthrottled (no RU budget)'),
    ...formatCost(plan, price),
  ];
  if (plan.sideEffects?.length && plan.documentsToMigrate > 0) {
    lines.push('rewriting the documents also changes, for each one migrated:');
    for (const effect of plan.sideEffects) lines.push(`  - ${effect}`);
  }
  if (sample.failures.length) {
    lines.push('sample failures:');
    for (const f of sample.failures.slice(0, 20)) {
      lines.push(`  - id ${f.id} (partition key ${JSON.stringify(f.partitionKey)}): ${f.error}`);
    }
  }
  return lines;
}

export function formatStatus(status: RunbookStatus, workflowId: string, extra = ''): string[] {
  const c = status.counters;
  const total = status.documentsToMigrate ?? status.plan?.documentsToMigrate;
  const lines = [
    `migration   ${status.migrationId} (${status.direction}${status.dryRun ? ', dry run' : ''})`,
    `container   ${status.database}/${status.container}`,
    `run         ${workflowId}${status.generation ? ` (generation ${status.generation})` : ''}`,
    `phase       ${status.phase} since ${status.phaseSince} (started ${status.startedAt})`,
    `documents   ${n(c.migrated)} migrated${total !== undefined ? ` of ${n(total)}` : ''}, ${n(c.scanned)} scanned, ` +
      `${n(c.skipped)} skipped, ${n(c.failed)} failed, ${n(c.conflicts)} conflicts re-done`,
    `ranges      ${status.ranges.done}/${status.ranges.total}`,
    `rate        ${status.docsPerSecond.toFixed(1)} docs/s, ${status.ruPerSecond.toFixed(1)} RU/s, ` +
      `${n(Math.round(c.ruConsumed))} RU used, ETA ${formatDuration(status.etaSeconds)}`,
  ];
  if (status.snapshot) {
    lines.push(`snapshot    T0 ${status.snapshot.t0}, ${n(status.snapshot.documentCount)} documents`);
  }
  if (status.verification) {
    const v = status.verification;
    lines.push(`verified    ${v.ok ? 'ok' : 'FAILED'}: ${v.sampled} sampled, ${v.remaining} not at target version`);
    for (const p of v.problems) lines.push(`            - ${p}`);
  }
  if (status.monitoring?.length) lines.push(...formatMonitoring(status.monitoring));
  if (status.lastError) lines.push(`last error  ${status.lastError}`);
  if (status.pendingDecision) lines.push(...describeDecision(status.pendingDecision, status.migrationId, extra));
  return lines;
}

const BARS = '▁▂▃▄▅▆▇█';

/** The monitoring window drawn: the probe's latency per interval as a sparkline, bad intervals marked under it. */
export function formatMonitoring(series: MonitorPoint[]): string[] {
  const last = series.slice(-60);
  const latencies = last.map((p) => p.latencyMs ?? 0);
  const top = Math.max(1, ...latencies);
  const spark = latencies
    .map((l) => BARS[Math.min(BARS.length - 1, Math.floor((l / top) * (BARS.length - 1)))])
    .join('');
  const marks = last
    .map((p) => (p.bad ? '!' : ' '))
    .join('')
    .trimEnd();
  const bad = last.filter((p) => p.bad);
  const lines = [
    `monitoring  ${spark}  latency, max ${top} ms over ${last.length} interval(s), ${bad.length} bad`,
    ...(marks ? [`            ${marks}`] : []),
  ];
  const worst = bad.at(-1);
  if (worst?.reason) lines.push(`            last bad: ${worst.reason}`);
  return lines;
}

/** A fixed-width text table. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** The command that starts a worker: `npm run worker` in a checkout, `cosmos-runbook worker` where the package is installed (compiled). */
export function workerCommand(): string {
  return __filename.endsWith('.js') ? 'cosmos-runbook worker' : 'npm run worker';
}

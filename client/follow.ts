/**
 * Following a run from the terminal: a live progress bar fed by the `status` query (phase, documents migrated of the
 * total, RU/s, ETA, failures), a line for every phase change, and the decision the run waits for with the exact
 * command that answers it. Returns the run's report once it ends.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { WorkflowFailedError } from '@temporalio/client';
import type { RunbookReport } from '../common/report';
import type { RunbookStatus } from '../common/status';
import { approveSignal, statusQuery } from '../workflows/messages';
import { CliError, rootMessage } from './errors';
import { describeDecision, formatDuration, n } from './format';
import { jsonOutput } from './output';

export interface AutoApprove {
  /** Wait this long after the gate opens, so a human can read the notice. */
  delayMs: number;
  /** Shown before approving. */
  notice: string;
  by: string;
  comment?: string;
}

export interface FollowOptions {
  migrationId: string;
  /** Flags to repeat in printed commands (e.g. `--container x`). */
  commandExtra?: string;
  autoApprove?: AutoApprove;
  /** @default 500 */
  pollMs?: number;
  /** Where lines go. @default process.stdout (stderr with --json) */
  out?: NodeJS.WriteStream;
  /** The task queue a worker must poll; named when no worker answers. */
  taskQueue?: string;
}

/** How a decision is told apart from the next one (a second pause is a new decision). */
function decisionKey(status: RunbookStatus): string | undefined {
  const d = status.pendingDecision;
  if (!d) return undefined;
  return `${d.kind}:${'reason' in d ? d.reason : ''}:${status.phaseSince}`;
}

export async function followRun(
  client: Client,
  handle: WorkflowHandle,
  options: FollowOptions
): Promise<RunbookReport> {
  // With --json, stdout is the JSON result's: the progress goes to stderr (client/output.ts).
  const out = options.out ?? (jsonOutput() ? process.stderr : process.stdout);
  const tty = Boolean(out.isTTY);
  const pollMs = options.pollMs ?? 500;
  let settled: { report?: RunbookReport; error?: unknown } | undefined;
  const result = handle.result().then(
    (report) => (settled = { report: report as RunbookReport }),
    (error: unknown) => (settled = { error })
  );

  const bars = new MultiBar(
    {
      format: ' {phase} |{bar}| {value}/{total} docs | {rate} RU/s | ETA {remaining} | {failed} failed',
      hideCursor: true,
      clearOnComplete: false,
      stream: out,
      fps: 8,
      noTTYOutput: false,
    },
    Presets.shades_classic
  );
  let bar: SingleBar | undefined;
  const line = (text: string) => {
    if (bar && tty) bars.log(`${text}\n`);
    else out.write(`${text}\n`);
  };

  // Phase changes come from the run's timeline, not from what each poll happens to see: a short phase (snapshot) can
  // begin and end between two polls.
  let lastPhase: string | undefined;
  const seen = new Set<string>();
  const printTransitions = (timeline: RunbookStatus['timeline'], where: string) => {
    for (const entry of timeline) {
      const key = `${entry.at}|${entry.phase}|${entry.note ?? ''}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (entry.phase === lastPhase) continue;
      line(`→ ${entry.phase}${lastPhase ? '' : ` (${where})`}`);
      lastPhase = entry.phase;
    }
  };
  let lastDecision: string | undefined;
  let approving: Promise<void> | undefined;
  let queryFailures = 0;
  let lastProgressLine = 0;

  try {
    while (!settled) {
      let status: RunbookStatus | undefined;
      try {
        status = await client.withDeadline(Date.now() + 5_000, () => handle.query(statusQuery));
        queryFailures = 0;
      } catch (err) {
        if (settled) break;
        queryFailures++;
        // The first query waits for the first workflow task; only a long silence means no worker.
        if (queryFailures === 4) {
          line(
            `no answer from the run yet (${rootMessage(err).split('\n')[0]}); is a worker polling task queue ` +
              `"${options.taskQueue ?? 'cosmos-runbook'}"? (npm run worker)`
          );
        }
      }
      if (status) {
        printTransitions(
          status.timeline.length ? status.timeline : [{ phase: status.phase, at: status.phaseSince }],
          `${status.database}/${status.container}`
        );
        const key = decisionKey(status);
        if (key && key !== lastDecision && status.pendingDecision) {
          lastDecision = key;
          for (const l of describeDecision(status.pendingDecision, options.migrationId, options.commandExtra)) line(l);
          if (options.autoApprove && status.pendingDecision.kind === 'approve' && !approving) {
            const auto = options.autoApprove;
            line(auto.notice);
            approving = sleep(auto.delayMs).then(() =>
              handle.signal(approveSignal, { by: auto.by, comment: auto.comment })
            );
          }
        }
        const total = status.documentsToMigrate ?? status.plan?.documentsToMigrate ?? 0;
        const payload = {
          phase: status.phase.padEnd(17),
          rate: status.ruPerSecond.toFixed(0),
          remaining: status.phase === 'migrating' ? formatDuration(status.etaSeconds) : '-',
          failed: n(status.counters.failed),
        };
        const value = Math.min(status.counters.migrated, Math.max(total, status.counters.migrated));
        if (tty) {
          if (!bar) bar = bars.create(Math.max(total, 1), value, payload);
          bar.setTotal(Math.max(total, status.counters.migrated, 1));
          bar.update(value, payload);
        } else if (status.phase === 'migrating' && Date.now() - lastProgressLine > 2_000) {
          // No terminal (CI, a pipe): a progress line every two seconds instead of a bar.
          lastProgressLine = Date.now();
          line(
            `  ${n(status.counters.migrated)}/${n(total)} docs, ${payload.rate} RU/s, ETA ${payload.remaining}, ` +
              `${payload.failed} failed`
          );
        }
      }
      await Promise.race([sleep(pollMs), result]);
    }
    await approving?.catch(() => undefined);
    if (settled?.report)
      printTransitions(settled.report.timeline, `${settled.report.database}/${settled.report.container}`);
  } finally {
    bars.stop();
  }
  if (settled?.error !== undefined) {
    const err: unknown = settled.error;
    if (err instanceof WorkflowFailedError) throw new CliError(`the run failed: ${rootMessage(err)}`, undefined, 2);
    throw err;
  }
  return settled.report!;
}

/** The exit code of a finished run: 0 only when it completed and its verification passed. */
export function reportExitCode(report: RunbookReport): number {
  if (report.status === 'dry-run') return 0;
  if (report.status === 'completed' && (report.verification?.ok ?? true)) return 0;
  return 2;
}

export function reportOutcome(report: RunbookReport): string {
  if (reportExitCode(report) === 0) {
    return report.status === 'dry-run'
      ? `dry run of ${report.migrationId} finished (nothing was written)`
      : `${report.migrationId} ${report.direction} completed and verified on ${report.database}/${report.container}`;
  }
  return `${report.migrationId} ${report.direction} did not complete: ${report.status}${report.reason ? ` — ${report.reason}` : ''}`;
}

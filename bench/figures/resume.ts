/**
 * Figure 6, resume: a whole run of N documents (RU model off, 4 physical partitions) whose worker process is killed
 * with SIGKILL once the migration has read 40 % of the documents; a new worker process is started at once.
 *
 * - re-read pages per range: the documents the migration's (Low-priority) queries returned in this run, less those
 *   of the same run without a kill (figure 1 at 0 ms, same N and shape), in pages of 100, per range;
 * - first write: seconds from the new worker's start to the first write the emulator answers to it. Temporal hands
 *   the killed worker's activities to the new one when their heartbeat timeout passes (30 s by default).
 */
import { createContainer, dropContainer, PAGE_SIZE, remainingAtOldVersion, seed } from '../data';
import type { BenchEnv } from '../env';
import { result, startRun } from '../runbook';
import { priorityStats, round, sleep } from '../timing';
import { PARTITIONED_THROUGHPUT } from './throughput';

const RANGES = 4;

export interface ResumeResult {
  docs: number;
  ranges: number;
  killedAfterDocumentsRead: number;
  migrationDocumentsRead: number;
  baselineDocumentsRead: number | null;
  rereadPagesPerRange: number;
  firstWriteSeconds: number;
  firstWriteSecondsFromKill: number;
  newWorkerReadySeconds: number;
  runSeconds: number;
  /** The report's `migrated` counter: less than docs when pages were written after the last heartbeat. */
  migratedCounted: number;
}

export async function resumeFigure(
  env: BenchEnv,
  o: { docs: number; nodeArgs: string[]; baselineDocumentsRead?: number }
): Promise<ResumeResult> {
  const { cosmos } = env.stack;
  cosmos.control.setRuModel(false);
  env.log(`resume: seeding ${o.docs} documents ...`);
  const container = await createContainer(env, 'resume', PARTITIONED_THROUGHPUT);
  await seed(container, o.docs);
  const first = await env.startWorker(o.nodeArgs);
  let second: Awaited<ReturnType<BenchEnv['startWorker']>> | undefined;
  try {
    const readAtStart = priorityStats(cosmos).Low.documentsReturned;
    const run = await startRun(env, { container: 'resume' });
    while (priorityStats(cosmos).Low.documentsReturned - readAtStart < 0.4 * o.docs) await sleep(20);
    const killedAfter = priorityStats(cosmos).Low.documentsReturned - readAtStart;
    await first.kill();
    const killedAt = Date.now();
    env.log(`  worker killed after ${killedAfter} documents read; starting a new one`);
    const writesBefore = priorityStats(cosmos).Low.writes;
    second = await env.startWorker(o.nodeArgs);
    const readyAt = Date.now();
    while (priorityStats(cosmos).Low.writes === writesBefore) await sleep(20);
    const firstWriteAt = Date.now();
    const { report, seconds } = await result(run);
    // The counters miss what the killed worker wrote after its last heartbeat reached the server (heartbeats are
    // throttled to one a second): the container itself says whether every document was migrated.
    const left = await remainingAtOldVersion(container);
    if (report.status !== 'completed' || left !== 0) {
      throw new Error(`resume run: ${report.status}, ${left} of ${o.docs} left at the old version`);
    }
    const read = priorityStats(cosmos).Low.documentsReturned - readAtStart;
    const baseline = o.baselineDocumentsRead;
    return {
      docs: o.docs,
      ranges: RANGES,
      killedAfterDocumentsRead: killedAfter,
      migrationDocumentsRead: read,
      baselineDocumentsRead: baseline ?? null,
      rereadPagesPerRange: baseline === undefined ? Number.NaN : round((read - baseline) / PAGE_SIZE / RANGES, 2),
      firstWriteSeconds: round((firstWriteAt - second.startedAt) / 1000, 2),
      firstWriteSecondsFromKill: round((firstWriteAt - killedAt) / 1000, 2),
      newWorkerReadySeconds: round((readyAt - second.startedAt) / 1000, 2),
      runSeconds: round(seconds, 2),
      migratedCounted: report.counters.migrated,
    };
  } finally {
    await first.kill();
    await second?.stop();
    await dropContainer(env, 'resume');
  }
}

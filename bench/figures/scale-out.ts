/**
 * Figure 8, scale-out: the same whole run on 1, 2 and 4 worker processes polling the one task queue, with a transform
 * that costs about 1 ms of CPU per document (bench/migrations/bench-add-tier-cpu.ts), so that a worker's CPU bounds
 * the run. Docs/s for each, the share of the range activities (`migrateRange` attempts, from the history's
 * ActivityTaskStarted identities) each worker ran, and the ratio 2 workers ÷ 1. RU model off, 8 physical partitions,
 * concurrency 8: every range is in flight at once, so that Temporal's matching can hand them to any worker.
 *
 * The machine has 2 cores, which the emulator (in the bench's process) shares with the workers: 4 workers cannot
 * beat 2 here; the figure shows that work spreads and what a worker's CPU buys.
 */
import { createContainer, dropContainer, remainingAtOldVersion, seed } from '../data';
import type { BenchEnv, BenchWorker } from '../env';
import { activitiesByWorker, phaseSeconds, result, startRun } from '../runbook';
import { round } from '../timing';

const THROUGHPUT = 80_000; // 8 physical partitions
const CONCURRENCY = 8;
export const CPU_MIGRATION = 'bench-add-tier-cpu';

export interface ScaleOutRun {
  workers: number;
  docs: number;
  seconds: number;
  docsPerSecond: number;
  migratingSeconds: number;
  /** migrateRange attempts per worker process (pid), and each one's share of them. */
  rangeActivities: Record<string, number>;
  rangeActivityShares: number[];
  /** CPU seconds each worker used over the run (started before the run, so nothing else). */
  workerCpuSeconds: number[];
  /** The workers' CPU per document, and so what one worker does with a whole core to itself. */
  workerCpuMsPerDocument: number;
  docsPerSecondPerSaturatedWorker: number;
}

export interface ScaleOutResult {
  runs: ScaleOutRun[];
  ratio2to1: number;
  ratio4to1: number;
}

async function oneRun(env: BenchEnv, docs: number, workers: number, nodeArgs: string[]): Promise<ScaleOutRun> {
  env.stack.cosmos.control.setRuModel(false);
  const name = `scale-out-${workers}`;
  env.log(`scale-out: seeding ${docs} documents, then ${workers} worker(s) ...`);
  const container = await createContainer(env, name, THROUGHPUT);
  await seed(container, docs);
  const started: BenchWorker[] = [];
  try {
    for (let i = 0; i < workers; i++) started.push(await env.startWorker(nodeArgs));
    const cpuBefore = started.map((w) => w.cpuSeconds());
    const run = await startRun(env, { container: name, migration: CPU_MIGRATION, concurrency: CONCURRENCY });
    const { report, seconds } = await result(run);
    const left = await remainingAtOldVersion(container);
    if (report.status !== 'completed' || left !== 0) {
      throw new Error(`scale-out run: ${report.status}, ${left} of ${docs} left at the old version`);
    }
    const cpu = started.map((w, i) => w.cpuSeconds() - cpuBefore[i]!);
    const cpuMsPerDocument = (cpu.reduce((a, b) => a + b, 0) / docs) * 1000;
    const byWorker = await activitiesByWorker(env, run.workflowId, 'migrateRange');
    const total = Object.values(byWorker).reduce((a, b) => a + b, 0);
    const measured: ScaleOutRun = {
      workers,
      docs,
      seconds: round(seconds, 2),
      docsPerSecond: round(docs / seconds, 1),
      migratingSeconds: round(phaseSeconds(report, 'migrating'), 2),
      rangeActivities: byWorker,
      rangeActivityShares: started.map((w) => {
        const mine = Object.entries(byWorker).find(([who]) => who.startsWith(`${w.pid}@`))?.[1] ?? 0;
        return round(mine / Math.max(1, total));
      }),
      workerCpuSeconds: cpu.map((c) => round(c, 2)),
      workerCpuMsPerDocument: round(cpuMsPerDocument),
      docsPerSecondPerSaturatedWorker: round(1000 / cpuMsPerDocument, 1),
    };
    env.log(`  ${JSON.stringify(measured)}`);
    return measured;
  } finally {
    for (const w of started) await w.stop();
    await dropContainer(env, name);
  }
}

export async function scaleOutFigure(env: BenchEnv, o: { docs: number; nodeArgs: string[] }): Promise<ScaleOutResult> {
  const runs: ScaleOutRun[] = [];
  for (const workers of [1, 2, 4]) runs.push(await oneRun(env, o.docs, workers, o.nodeArgs));
  const rate = (n: number) => runs.find((r) => r.workers === n)!.docsPerSecond;
  return { runs, ratio2to1: round(rate(2) / rate(1)), ratio4to1: round(rate(4) / rate(1)) };
}

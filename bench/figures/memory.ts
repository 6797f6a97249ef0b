/**
 * Figure 4 (memory) and the data of figure 5 (history): a whole run of `small` and of `large` documents, each on a
 * new worker process, whose peak RSS (VmHWM) is read when the run has ended. RU model off, 4 physical partitions.
 */
import { createContainer, dropContainer, remainingAtOldVersion, seed } from '../data';
import type { BenchEnv } from '../env';
import { historyEvents, result, startRun } from '../runbook';
import { round } from '../timing';
import { PARTITIONED_THROUGHPUT } from './throughput';

export interface MemoryRun {
  docs: number;
  peakRssMB: number;
  seconds: number;
  historyEvents: number[];
  /** The worker's CPU per document over the run (bench-add-tier: no cost of its own), and so its docs/s on a core. */
  workerCpuMsPerDocument: number;
  docsPerSecondPerSaturatedWorker: number;
}

export interface MemoryResult {
  runs: MemoryRun[];
  rssRatio: number;
}

async function oneRun(env: BenchEnv, docs: number, nodeArgs: string[]): Promise<MemoryRun> {
  env.stack.cosmos.control.setRuModel(false);
  env.log(`memory: seeding ${docs} documents ...`);
  const name = `memory-${docs}`;
  const container = await createContainer(env, name, PARTITIONED_THROUGHPUT);
  await seed(container, docs);
  const worker = await env.startWorker(nodeArgs);
  try {
    const cpuBefore = worker.cpuSeconds();
    const run = await startRun(env, { container: name });
    const { report, seconds } = await result(run);
    const left = await remainingAtOldVersion(container);
    if (report.status !== 'completed' || left !== 0) {
      throw new Error(`memory run: ${report.status}, ${left} of ${docs} left at the old version`);
    }
    const cpuMsPerDocument = ((worker.cpuSeconds() - cpuBefore) / docs) * 1000;
    const measured = {
      docs,
      peakRssMB: round(worker.peakRssMB(), 1),
      seconds: round(seconds, 2),
      historyEvents: await historyEvents(env, run.workflowId),
      workerCpuMsPerDocument: round(cpuMsPerDocument),
      docsPerSecondPerSaturatedWorker: round(1000 / cpuMsPerDocument, 1),
    };
    env.log(`  ${JSON.stringify(measured)}`);
    return measured;
  } finally {
    await worker.stop();
    await dropContainer(env, name);
  }
}

export async function memoryFigure(
  env: BenchEnv,
  o: { small: number; large: number; nodeArgs: string[] }
): Promise<MemoryResult> {
  const small = await oneRun(env, o.small, o.nodeArgs);
  const large = await oneRun(env, o.large, o.nodeArgs);
  return { runs: [small, large], rssRatio: round(large.peakRssMB / small.peakRssMB) };
}

/**
 * Figure 9, a million documents (`npm run bench -- --only million`): one whole run over 1 000 000 documents of ~1 KB
 * in a container of 150 000 RU/s (15 physical partitions) whose throughput is raised to 160 000 RU/s once the
 * migration has read half of them, so that one partition splits mid-run (the emulator splits 500 ms after the raise,
 * as Azure splits when the throughput needs another partition) and the run ends over 16. Concurrency 16: every range
 * in flight. RU model off.
 *
 * Reported: docs/s of the whole run, the time of each phase, the events of every run of the workflow's chain, the
 * worker's peak RSS against the same run of 20 000 documents on its own new worker (same shape, first), the
 * emulator's memory (the bench's process: the documents, their continuous-backup log, the indexes), and the split.
 *
 * BENCH_MILLION_DOCS sets another N (a prefix of the run, when a whole million does not fit the time at hand).
 */
import { createContainer, dropContainer, remainingAtOldVersion, seed } from '../data';
import type { BenchEnv } from '../env';
import { historyEvents, phaseSeconds, result, startRun } from '../runbook';
import { priorityStats, round, sleep } from '../timing';

const THROUGHPUT = 150_000; // 15 physical partitions
const RAISED = 160_000; // 16
const CONCURRENCY = 16;
const SMALL = 20_000;

export interface MillionRun {
  docs: number;
  seconds: number;
  docsPerSecond: number;
  phases: Record<string, number>;
  historyEvents: number[];
  peakRssMB: number;
  seedSeconds: number;
  partitionsAtStart: number;
  partitionsAtEnd: number;
  /** Seconds from the start of the run to the throughput raise (the split follows 500 ms later). */
  splitAtSeconds?: number;
  /** The bench's process (the emulator, the ARM imitation and the bench) once the run is done. */
  emulatorRssMB: number;
  emulatorHeapUsedMB: number;
}

export interface MillionResult {
  small: MillionRun;
  million: MillionRun;
  docsPerSecond: number;
  rssRatio: number;
  maxHistoryEvents: number;
}

async function oneRun(env: BenchEnv, docs: number, split: boolean, nodeArgs: string[]): Promise<MillionRun> {
  const { cosmos } = env.stack;
  cosmos.control.setRuModel(false);
  const name = `million-${docs}`;
  env.log(`million: seeding ${docs} documents over ${THROUGHPUT / 10_000} partitions ...`);
  const container = await createContainer(env, name, THROUGHPUT);
  const seedStarted = Date.now();
  await seed(container, docs, 0, 8);
  const seedSeconds = (Date.now() - seedStarted) / 1000;
  env.log(
    `  seeded in ${round(seedSeconds, 1)} s; bench process RSS ${Math.round(process.memoryUsage().rss / 2 ** 20)} MB`
  );
  const partitionsAtStart = (await cosmos.control.partitions('bench', name)).ranges.length;
  const worker = await env.startWorker(nodeArgs);
  try {
    const readAtStart = priorityStats(cosmos).Low.documentsReturned;
    const run = await startRun(env, { container: name, concurrency: CONCURRENCY });
    let splitAt: number | undefined;
    const splitting = split
      ? (async () => {
          while (priorityStats(cosmos).Low.documentsReturned - readAtStart < docs / 2) await sleep(200);
          splitAt = Date.now();
          const { resourceGroup, account } = env.settings;
          await env.arm.sqlResources.beginUpdateSqlContainerThroughputAndWait(
            resourceGroup,
            account,
            'bench',
            name,
            { resource: { throughput: RAISED } },
            { updateIntervalInMs: 50 }
          );
          env.log(`  throughput raised to ${RAISED} RU/s after ${round((splitAt - run.startedAt) / 1000, 1)} s`);
        })()
      : Promise.resolve();
    const { report, seconds } = await result(run);
    await splitting;
    const left = await remainingAtOldVersion(container);
    if (report.status !== 'completed' || left !== 0) {
      throw new Error(`million run: ${report.status}, ${left} of ${docs} left at the old version`);
    }
    const memory = process.memoryUsage();
    const measured: MillionRun = {
      docs,
      seconds: round(seconds, 1),
      docsPerSecond: round(docs / seconds, 1),
      phases: Object.fromEntries(
        ['preflight', 'snapshot', 'migrating', 'verifying'].map((p) => [p, round(phaseSeconds(report, p), 2)])
      ),
      historyEvents: await historyEvents(env, run.workflowId),
      peakRssMB: round(worker.peakRssMB(), 1),
      seedSeconds: round(seedSeconds, 1),
      partitionsAtStart,
      partitionsAtEnd: (await cosmos.control.partitions('bench', name)).ranges.length,
      ...(splitAt !== undefined ? { splitAtSeconds: round((splitAt - run.startedAt) / 1000, 1) } : {}),
      emulatorRssMB: Math.round(memory.rss / 2 ** 20),
      emulatorHeapUsedMB: Math.round(memory.heapUsed / 2 ** 20),
    };
    env.log(`  ${JSON.stringify(measured)}`);
    return measured;
  } finally {
    await worker.stop();
    await dropContainer(env, name);
  }
}

export async function millionFigure(env: BenchEnv, o: { docs: number; nodeArgs: string[] }): Promise<MillionResult> {
  const small = await oneRun(env, SMALL, false, o.nodeArgs);
  const million = await oneRun(env, o.docs, true, o.nodeArgs);
  return {
    small,
    million,
    docsPerSecond: million.docsPerSecond,
    rssRatio: round(million.peakRssMB / small.peakRssMB),
    maxHistoryEvents: Math.max(...million.historyEvents),
  };
}

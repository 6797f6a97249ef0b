/**
 * Figure 1, throughput: the whole run (workflow start to result) against the hand-written bulk loop (ratio 1.0, the
 * practical limit) and a one-at-a-time loop, on containers of the same shape (N documents of ~1 KB, 4 physical
 * partitions), side by side in one run, at the emulator's added latency 0 and 5 ms per request. The RU model is off
 * (every request charged 1, nothing throttled): this is the endpoint's speed, the budget is figure 2.
 *
 * The one-at-a-time loop is timed on its first `sequentialDocs` documents: its rate does not depend on N, and at
 * 5 ms a request it would take minutes on 50 000.
 *
 * The worker first runs one small migration (1 000 documents, not measured), as a worker in service has: its first
 * workflow task builds the workflow sandbox and its first activities create the lease and history containers (once
 * per database) and warm the clients; a fresh process pays about 2 s for these once.
 */
import { createContainer, dropContainer, remainingAtOldVersion, seed } from '../data';
import type { BenchEnv } from '../env';
import { bulkLoop, sequentialLoop } from '../loops';
import { activityRetries, historyEvents, phaseSeconds, result, startRun } from '../runbook';
import { priorityStats, round, timed } from '../timing';

export const PARTITIONED_THROUGHPUT = 40_000; // 4 physical partitions

export interface LatencyResult {
  latencyMs: number;
  docs: number;
  bulkLoopDocsPerSecond: number;
  wholeRunDocsPerSecond: number;
  sequentialDocsPerSecond: number;
  ratioVsBulkLoop: number;
  ratioVsSequential: number;
  bulkLoopSeconds: number;
  wholeRunSeconds: number;
  sequentialSeconds: number;
  sequentialDocs: number;
  /** The whole run's phases, seconds (from the report's timeline). */
  phases: Record<string, number>;
  historyEvents: number[];
  /** Documents the run's Low-priority (migration) queries returned: the baseline for figure 6's re-reads. */
  migrationDocumentsRead: number;
  /** The report's `migrated`: short of docs when an attempt wrote pages after its last heartbeat and was retried. */
  migratedCounted: number;
  /** Activity attempts after the first (a heartbeat timeout, a retried error), from the history. */
  activityRetries: number;
}

export async function throughputFigure(
  env: BenchEnv,
  o: { docs: number; sequentialDocs: number; latencies: number[]; nodeArgs: string[] }
): Promise<LatencyResult[]> {
  env.stack.cosmos.control.setRuModel(false);
  const worker = await env.startWorker(o.nodeArgs);
  const results: LatencyResult[] = [];
  try {
    env.log('throughput: a first run of 1 000 documents on the new worker (not measured) ...');
    const warm = await createContainer(env, 'tp-warm-up', PARTITIONED_THROUGHPUT);
    await seed(warm, 1000);
    await result(await startRun(env, { container: 'tp-warm-up' }));
    await dropContainer(env, 'tp-warm-up');
    for (const latencyMs of o.latencies) {
      env.setLatency(0);
      env.log(`throughput at ${latencyMs} ms: seeding 2 × ${o.docs} + ${o.sequentialDocs} documents ...`);
      const bulk = await createContainer(env, `tp-bulk-${latencyMs}`, PARTITIONED_THROUGHPUT);
      const whole = await createContainer(env, `tp-run-${latencyMs}`, PARTITIONED_THROUGHPUT);
      const sequential = await createContainer(env, `tp-seq-${latencyMs}`, PARTITIONED_THROUGHPUT);
      await seed(bulk, o.docs);
      await seed(whole, o.docs);
      await seed(sequential, o.sequentialDocs);
      env.setLatency(latencyMs);

      env.log(`  hand-written bulk loop ...`);
      const loop = await timed(() => bulkLoop(bulk));
      env.log(`  whole run ...`);
      const readBefore = priorityStats(env.stack.cosmos).Low.documentsReturned;
      const run = await startRun(env, { container: `tp-run-${latencyMs}` });
      const { report, seconds } = await result(run);
      const migrationDocumentsRead = priorityStats(env.stack.cosmos).Low.documentsReturned - readBefore;
      const left = await remainingAtOldVersion(whole);
      if (report.status !== 'completed' || left !== 0) {
        throw new Error(`whole run: ${report.status}, ${left} of ${o.docs} left at the old version`);
      }
      env.log(`  one-at-a-time loop ...`);
      const seq = await timed(() => sequentialLoop(sequential, o.sequentialDocs));
      env.setLatency(0);

      const bulkRate = loop.value / loop.seconds;
      const runRate = o.docs / seconds;
      const seqRate = seq.value / seq.seconds;
      const phases = Object.fromEntries(
        ['preflight', 'snapshot', 'migrating', 'verifying'].map((p) => [p, round(phaseSeconds(report, p), 2)])
      );
      results.push({
        latencyMs,
        docs: o.docs,
        bulkLoopDocsPerSecond: round(bulkRate, 1),
        wholeRunDocsPerSecond: round(runRate, 1),
        sequentialDocsPerSecond: round(seqRate, 1),
        ratioVsBulkLoop: round(runRate / bulkRate),
        ratioVsSequential: round(runRate / seqRate),
        bulkLoopSeconds: round(loop.seconds, 2),
        wholeRunSeconds: round(seconds, 2),
        sequentialSeconds: round(seq.seconds, 2),
        sequentialDocs: seq.value,
        phases,
        historyEvents: await historyEvents(env, run.workflowId),
        migrationDocumentsRead,
        migratedCounted: report.counters.migrated,
        activityRetries: await activityRetries(env, run.workflowId),
      });
      env.log(`  ${JSON.stringify(results[results.length - 1])}`);
      for (const name of ['bulk', 'run', 'seq']) await dropContainer(env, `tp-${name}-${latencyMs}`);
    }
  } finally {
    env.setLatency(0);
    await worker.stop();
  }
  return results;
}

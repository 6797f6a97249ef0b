/**
 * Figure 1, throughput: the whole run (workflow start to result) against the fair peer (bench/loops.ts `bulkLoop`,
 * in its own Node process: every physical partition's own query, the product's pages in flight) and a one-at-a-time
 * loop (also in its own process), on containers of the same shape (N documents of ~1 KB, 4 physical partitions), at
 * the emulator's added latency 0 and 5 ms per request. RU model off (every request charged 1, nothing throttled):
 * this is the endpoint's speed, the budget is figure 2.
 *
 * The machine is shared and its speed moves by tens of percent within minutes, so peer and product alternate,
 * `repetitions` times each (peer, product, peer, product, …), each on a freshly seeded container; the ratio is the
 * product's median docs/s over the peer's, and every repetition's numbers are kept.
 *
 * The one-at-a-time loop is timed on its first `sequentialDocs` documents: its rate does not depend on N, and at
 * 5 ms a request it would take minutes on 50 000.
 *
 * The worker first runs one small migration (1 000 documents, not measured), as a worker in service has: its first
 * workflow task builds the workflow sandbox and its first activities create the lease and history containers (once
 * per database) and warm the clients; a fresh process pays about 2 s for these once. The peer's process reads its
 * container and partition key ranges before its clock starts, for the same reason.
 */
import { createContainer, dropContainer, remainingAtOldVersion, seed } from '../data';
import type { BenchEnv } from '../env';
import { runHandLoop } from '../hand';
import { activityRetries, historyEvents, phaseSeconds, result, startRun } from '../runbook';
import { median, relativeSpread } from '../stats';
import { priorityStats, round } from '../timing';

export const PARTITIONED_THROUGHPUT = 40_000; // 4 physical partitions

export interface WholeRun {
  docsPerSecond: number;
  seconds: number;
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

export interface LatencyResult {
  latencyMs: number;
  docs: number;
  /** Each repetition, in the order run (peer i before product i). */
  peer: { docsPerSecond: number; seconds: number }[];
  product: WholeRun[];
  peerMedianDocsPerSecond: number;
  productMedianDocsPerSecond: number;
  /** Product median ÷ peer median. */
  ratioVsPeer: number;
  /** Product i ÷ peer i for each repetition. */
  pairRatios: number[];
  /** max − min of the pair ratios. */
  ratioSpread: number;
  peerSpread: number;
  productSpread: number;
  sequential: { docsPerSecond: number; seconds: number; docs: number };
  /** Product median ÷ the one-at-a-time loop. */
  ratioVsSequential: number;
  /** For the history figure and figure 6 (the first product repetition). */
  historyEvents: number[];
  migrationDocumentsRead: number;
}

async function wholeRun(env: BenchEnv, name: string, docs: number): Promise<WholeRun> {
  const readBefore = priorityStats(env.stack.cosmos).Low.documentsReturned;
  const run = await startRun(env, { container: name });
  const { report, seconds } = await result(run);
  const migrationDocumentsRead = priorityStats(env.stack.cosmos).Low.documentsReturned - readBefore;
  const container = env.cosmos.database('bench').container(name);
  const left = await remainingAtOldVersion(container);
  if (report.status !== 'completed' || left !== 0) {
    throw new Error(`whole run: ${report.status}, ${left} of ${docs} left at the old version`);
  }
  return {
    docsPerSecond: round(docs / seconds, 1),
    seconds: round(seconds, 2),
    phases: Object.fromEntries(
      ['preflight', 'snapshot', 'migrating', 'verifying'].map((p) => [p, round(phaseSeconds(report, p), 2)])
    ),
    historyEvents: await historyEvents(env, run.workflowId),
    migrationDocumentsRead,
    migratedCounted: report.counters.migrated,
    activityRetries: await activityRetries(env, run.workflowId),
  };
}

export async function throughputFigure(
  env: BenchEnv,
  o: { docs: number; sequentialDocs: number; latencies: number[]; repetitions: number; nodeArgs: string[] }
): Promise<LatencyResult[]> {
  env.stack.cosmos.control.setRuModel(false);
  const worker = await env.startWorker(o.nodeArgs);
  const results: LatencyResult[] = [];
  /** A freshly seeded container of N documents at version 1 (seeded at 0 ms latency, not timed). */
  const fresh = async (name: string, docs: number, latencyMs: number) => {
    env.setLatency(0);
    await createContainer(env, name, PARTITIONED_THROUGHPUT);
    await seed(env.cosmos.database('bench').container(name), docs);
    env.setLatency(latencyMs);
  };
  try {
    env.log('throughput: a first run of 1 000 documents on the new worker (not measured) ...');
    const warm = await createContainer(env, 'tp-warm-up', PARTITIONED_THROUGHPUT);
    await seed(warm, 1000);
    await result(await startRun(env, { container: 'tp-warm-up' }));
    await dropContainer(env, 'tp-warm-up');
    for (const latencyMs of o.latencies) {
      const peer: LatencyResult['peer'] = [];
      const product: WholeRun[] = [];
      for (let rep = 1; rep <= o.repetitions; rep++) {
        const peerName = `tp-peer-${latencyMs}-${rep}`;
        env.log(`throughput at ${latencyMs} ms, repetition ${rep}: fair peer (${o.docs} documents) ...`);
        await fresh(peerName, o.docs, latencyMs);
        const loop = await runHandLoop(env, { mode: 'bulk', container: peerName });
        if (loop.written !== o.docs) throw new Error(`fair peer: wrote ${loop.written} of ${o.docs}`);
        peer.push({ docsPerSecond: round(o.docs / loop.seconds, 1), seconds: round(loop.seconds, 2) });
        await dropContainer(env, peerName);

        const runName = `tp-run-${latencyMs}-${rep}`;
        env.log(`  whole run ...`);
        await fresh(runName, o.docs, latencyMs);
        product.push(await wholeRun(env, runName, o.docs));
        await dropContainer(env, runName);
        env.log(`  peer ${peer[rep - 1]!.docsPerSecond} docs/s, whole run ${product[rep - 1]!.docsPerSecond} docs/s`);
      }
      env.log(`  one-at-a-time loop (${o.sequentialDocs} documents) ...`);
      await fresh(`tp-seq-${latencyMs}`, o.sequentialDocs, latencyMs);
      const seq = await runHandLoop(env, {
        mode: 'sequential',
        container: `tp-seq-${latencyMs}`,
        limit: o.sequentialDocs,
      });
      await dropContainer(env, `tp-seq-${latencyMs}`);
      env.setLatency(0);

      const peerRates = peer.map((p) => p.docsPerSecond);
      const productRates = product.map((p) => p.docsPerSecond);
      const pairRatios = productRates.map((r, i) => round(r / peerRates[i]!));
      const seqRate = seq.written / seq.seconds;
      results.push({
        latencyMs,
        docs: o.docs,
        peer,
        product,
        peerMedianDocsPerSecond: round(median(peerRates), 1),
        productMedianDocsPerSecond: round(median(productRates), 1),
        ratioVsPeer: round(median(productRates) / median(peerRates)),
        pairRatios,
        ratioSpread: round(Math.max(...pairRatios) - Math.min(...pairRatios)),
        peerSpread: round(relativeSpread(peerRates)),
        productSpread: round(relativeSpread(productRates)),
        sequential: { docsPerSecond: round(seqRate, 1), seconds: round(seq.seconds, 2), docs: seq.written },
        ratioVsSequential: round(median(productRates) / seqRate, 2),
        historyEvents: product.flatMap((p) => p.historyEvents),
        migrationDocumentsRead: product[0]!.migrationDocumentsRead,
      });
      env.log(`  ${JSON.stringify(results[results.length - 1])}`);
    }
  } finally {
    env.setLatency(0);
    await worker.stop();
  }
  return results;
}

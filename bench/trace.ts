/**
 * `npx tsx bench/trace.ts [docs]`: one whole run on the bench's stack, and where its time goes: every activity's
 * scheduled → started → closed times from the history, relative to the workflow's start, to see the fixed costs
 * (preflight, snapshot, verification, finish) next to the migration. For profiling; not part of `npm run bench`.
 */
import { createContainer, seed } from './data';
import { startBenchEnv } from './env';
import { result, startRun } from './runbook';
import { PARTITIONED_THROUGHPUT } from './figures/throughput';
import type { temporal } from '@temporalio/proto';

const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
  t ? Number(t.seconds) * 1000 + (t.nanos ?? 0) / 1e6 : Number.NaN;

async function main(): Promise<void> {
  const docs = Number(process.argv[2] ?? 20_000);
  const env = await startBenchEnv((line) => process.stderr.write(`${line}\n`));
  try {
    env.stack.cosmos.control.setRuModel(false);
    const container = await createContainer(env, 'trace', PARTITIONED_THROUGHPUT);
    await seed(container, docs);
    const worker = await env.startWorker();
    env.setLatency(Number(process.env.BENCH_LATENCY ?? 0));
    const run = await startRun(env, { container: 'trace' });
    const { seconds } = await result(run);
    const history: temporal.api.history.v1.IHistory = await run.handle.fetchHistory();
    const events = history.events ?? [];
    const t0 = ms(events[0]?.eventTime);
    const scheduled = new Map<number, { type: string; at: number; started?: number }>();
    const rows: string[] = [];
    for (const e of events) {
      const at = ms(e.eventTime) - t0;
      const s = e.activityTaskScheduledEventAttributes;
      if (s) scheduled.set(Number(e.eventId), { type: s.activityType?.name ?? '?', at });
      const st = e.activityTaskStartedEventAttributes;
      if (st) {
        scheduled.get(Number(st.scheduledEventId))!.started = at;
        if ((st.attempt ?? 1) > 1)
          rows.push(
            `${at.toFixed(0).padStart(6)} ms  attempt ${st.attempt}: ${st.lastFailure?.message ?? ''} ${st.lastFailure?.cause?.message ?? ''}`
          );
      }
      const timedOut = e.activityTaskTimedOutEventAttributes;
      if (timedOut)
        rows.push(
          `${at.toFixed(0).padStart(6)} ms  timed out: ${timedOut.failure?.message ?? ''} ${timedOut.failure?.cause?.message ?? ''}`
        );
      const failed = e.activityTaskFailedEventAttributes;
      if (failed) rows.push(`${at.toFixed(0).padStart(6)} ms  failed: ${failed.failure?.message ?? ''}`);
      const done = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes;
      if (done) {
        const a = scheduled.get(Number(done.scheduledEventId))!;
        rows.push(
          `${a.at.toFixed(0).padStart(6)} ms  ${a.type.padEnd(28)} wait ${((a.started ?? at) - a.at).toFixed(0).padStart(5)} ms  run ${(at - (a.started ?? a.at)).toFixed(0).padStart(6)} ms`
        );
      }
      if (e.markerRecordedEventAttributes?.markerName === 'core_local_activity')
        rows.push(`${at.toFixed(0).padStart(6)} ms  (local activity marker)`);
    }
    rows.push(
      `${(ms(events[events.length - 1]?.eventTime) - t0).toFixed(0).padStart(6)} ms  end (${events.length} events; result after ${seconds.toFixed(2)} s)`
    );
    process.stdout.write(`${rows.join('\n')}\n`);
    await worker.stop();
  } finally {
    await env.close();
  }
}

void main();

/**
 * Knowing that it worked (the manual runbook's "verify queries use the new indexes" and "watch error rates, RU consumption and
 * query performance"): baselines in preflight (the module's declared queries with index metrics, and a probe of the
 * container on a sample of documents), the queries again at verification, a probe every monitoring interval, and the
 * restore-drill gate. Pure comparisons in common/query-baselines.ts and common/probe.ts.
 */
import type { Duration } from '@temporalio/common';
import { durationMs } from '../../common/duration';
import { regressed } from '../../common/probe';
import { compareQueryBaselines } from '../../common/query-baselines';
import type { Run } from '../run/run';
import { MAX_MONITOR_SERIES, type MonitorPoint } from '../state';

/** Documents point-read by each probe, spread over the feed ranges (ids and partition keys only). */
const PROBE_SAMPLE = 20;

function moduleRef(run: Run) {
  const { migration } = run.state;
  return {
    database: migration.database,
    container: migration.container,
    migration: migration.id,
    checksum: migration.checksum,
  };
}

/** Preflight: the declared queries' baseline and the probe's, before anything changes. */
export async function takeBaselines(run: Run): Promise<void> {
  const { state } = run;
  const ref = moduleRef(run);
  const { quick, probe } = run.acts;
  if (state.migration.queries?.length) {
    const measured = await quick.runDeclaredQueries.executeWithOptions(
      { summary: `baseline of ${state.migration.queries.length} declared queries` },
      [ref]
    );
    state.knowing.queriesBefore = measured.queries;
  }
  state.knowing.probeSample = await quick.sampleDocumentIds.executeWithOptions(
    { summary: 'sample documents to probe' },
    [{ database: ref.database, container: ref.container, count: PROBE_SAMPLE }]
  );
  state.knowing.probeBaseline = await probe.probeContainer.executeWithOptions({ summary: 'probe baseline' }, [
    { ...ref, sampleIds: state.knowing.probeSample },
  ]);
}

/** Verification: the declared queries again; each that lost an index or grew past its RU limit is a problem. */
export async function checkDeclaredQueries(run: Run): Promise<string[]> {
  const { state } = run;
  if (!state.knowing.queriesBefore?.length) return [];
  const measured = await run.acts.quick.runDeclaredQueries.executeWithOptions(
    { summary: 'declared queries after the migration' },
    [moduleRef(run)]
  );
  state.knowing.queriesAfter = measured.queries;
  return compareQueryBaselines(state.knowing.queriesBefore, measured.queries).map(
    (p) => `query ${p.name}: ${p.message}`
  );
}

/** Monitoring: one probe against the preflight baseline; the interval's point in the series. */
export async function probeInterval(run: Run): Promise<MonitorPoint | undefined> {
  const { state } = run;
  if (!state.knowing.probeBaseline) return undefined;
  let point: MonitorPoint;
  try {
    const probe = await run.acts.probe.probeContainer.executeWithOptions({ summary: 'probe the container' }, [
      { ...moduleRef(run), sampleIds: state.knowing.probeSample },
    ]);
    const verdict = regressed(probe, state.knowing.probeBaseline);
    const latencies = [...probe.queries.map((q) => q.latencyMs), probe.pointReads.avgLatencyMs];
    point = {
      at: probe.at,
      bad: verdict.bad,
      ...(verdict.bad ? { reason: verdict.reason } : {}),
      latencyMs: Math.round(Math.max(0, ...latencies)),
      ruCharge: Math.round((probe.queries.reduce((s, q) => s + q.ruCharge, 0) + probe.pointReads.ruCharge) * 10) / 10,
      throttled: probe.throttled,
      serverErrors: probe.serverErrors,
    };
  } catch (err) {
    point = { at: run.now(), bad: true, reason: `the probe failed: ${(err as Error).message}` };
  }
  state.knowing.monitorSeries ??= [];
  state.knowing.monitorSeries.push(point);
  if (state.knowing.monitorSeries.length > MAX_MONITOR_SERIES) state.knowing.monitorSeries.shift();
  return point;
}

/** `requireRestoreDrill`: a successful drill of this container on this account within the given time. */
export async function restoreDrillGate(run: Run): Promise<string | undefined> {
  const gate = run.options.requireRestoreDrill;
  if (!gate) return undefined;
  const { database, container } = run.state.migration;
  const drill = await run.acts.quick.findRecentDrill.executeWithOptions(
    { summary: 'look for a recent restore drill' },
    [{ database, container, within: durationMs(gate.within as Duration) }]
  );
  if (!drill) {
    return `requireRestoreDrill: no restore drill of ${run.where} finished within ${String(gate.within)}; run one first`;
  }
  if (!drill.ok) {
    return `requireRestoreDrill: the last restore drill of ${run.where} (${drill.finishedAt}) failed: ${drill.mismatches.join('; ')}`;
  }
  run.note(
    `restore drill of ${drill.finishedAt} ok (${drill.documents} documents, ${drill.docsPerSecond} docs/s)`,
    'preflight'
  );
  return undefined;
}

/**
 * Whether one monitoring interval is bad, against the baseline probe taken before the migration (pure: the workflow
 * calls it on each probeContainer result).
 */
import type { ProbeResult } from './activities';

export interface ProbeThresholds {
  /** A query's latency, or the point reads' average latency, may be at most this × the baseline. @default 3 */
  latencyFactor?: number;
  /** A query's RU charge may be at most this × the baseline. @default 2 */
  ruFactor?: number;
  /** Share of requests answered 429 above which the interval is bad (0..1). @default 0.05 */
  maxThrottledShare?: number;
  /** Server errors tolerated in one interval. @default 0 */
  maxServerErrors?: number;
  /** Latencies below this many ms never count as a regression (noise on a fast baseline). @default 20 */
  latencyFloorMs?: number;
}

export interface RegressionVerdict {
  bad: boolean;
  /** One sentence per reason, '; '-joined; '' when not bad. */
  reason: string;
  reasons: string[];
}

const round = (n: number) => Math.round(n * 10) / 10;

export function regressed(
  probe: ProbeResult,
  baseline: ProbeResult,
  thresholds: ProbeThresholds = {}
): RegressionVerdict {
  const latencyFactor = thresholds.latencyFactor ?? 3;
  const ruFactor = thresholds.ruFactor ?? 2;
  const maxThrottledShare = thresholds.maxThrottledShare ?? 0.05;
  const maxServerErrors = thresholds.maxServerErrors ?? 0;
  const floor = thresholds.latencyFloorMs ?? 20;
  const reasons: string[] = [];
  const base = new Map(baseline.queries.map((q) => [q.name, q]));
  for (const q of probe.queries) {
    const b = base.get(q.name);
    if (q.error && !b?.error) reasons.push(`query ${q.name} failed: ${q.error}`);
    if (!b || b.error || q.error) continue;
    if (q.latencyMs > floor && q.latencyMs > b.latencyMs * latencyFactor) {
      reasons.push(
        `query ${q.name} took ${round(q.latencyMs)} ms, baseline ${round(b.latencyMs)} ms (limit ${latencyFactor}×)`
      );
    }
    if (q.ruCharge > b.ruCharge * ruFactor) {
      reasons.push(
        `query ${q.name} cost ${round(q.ruCharge)} RU, baseline ${round(b.ruCharge)} RU (limit ${ruFactor}×)`
      );
    }
  }
  const reads = probe.pointReads;
  const baseReads = baseline.pointReads;
  if (reads.count > 0 && baseReads.count > 0 && reads.avgLatencyMs > floor) {
    if (reads.avgLatencyMs > baseReads.avgLatencyMs * latencyFactor) {
      reasons.push(
        `point reads took ${round(reads.avgLatencyMs)} ms on average, baseline ${round(baseReads.avgLatencyMs)} ms (limit ${latencyFactor}×)`
      );
    }
  }
  const share = probe.requests > 0 ? probe.throttled / probe.requests : 0;
  if (share > maxThrottledShare) {
    reasons.push(
      `${probe.throttled} of ${probe.requests} requests throttled (${round(share * 100)}%, limit ${round(maxThrottledShare * 100)}%)`
    );
  }
  if (probe.serverErrors > maxServerErrors) {
    reasons.push(`${probe.serverErrors} server error(s) (limit ${maxServerErrors})`);
  }
  return { bad: reasons.length > 0, reason: reasons.join('; '), reasons };
}

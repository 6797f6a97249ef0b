/**
 * The bench's results: each figure's value, its target, whether it holds, and the raw numbers behind it; printed as
 * a table and written to bench/results/latest.json.
 */
import fs from 'node:fs';
import path from 'node:path';

type Target = { op: '>=' | '<=' | '<'; bound: number };

/**
 * The targets (docs/performance.md). budgetChangeEffectSeconds: "within one page" — the 1 s window the rate is measured over,
 * the heartbeat that carries the cancellation (throttled to 1 s), and the page in flight.
 */
export const TARGETS: Record<string, Target> = {
  throughputRatioVsFairPeer: { op: '>=', bound: 0.9 },
  throughputRatioVsBulkLoop: { op: '>=', bound: 0.85 },
  sequentialRatio0ms: { op: '>=', bound: 5 },
  sequentialRatio5ms: { op: '>=', bound: 20 },
  throughputRatioVsSequential: { op: '>=', bound: 20 },
  ruBudgetUtilizationPriorityOff: { op: '>=', bound: 0.85 },
  ruBudgetMaxWindowRatioPriorityOff: { op: '<=', bound: 1.05 },
  ruBudgetUtilizationPriorityOn: { op: '>=', bound: 0.9 },
  ruBudgetUtilization: { op: '>=', bound: 0.9 },
  ruBudgetMaxWindowRatio: { op: '<=', bound: 1.05 },
  migrationThrottledShare: { op: '<', bound: 0.02 },
  appThrottledShare: { op: '<', bound: 0.01 },
  appThrottledShareContended: { op: '<', bound: 0.01 },
  lowShareMax1sRatio: { op: '<=', bound: 1.2 },
  lowShareMax5sRatio: { op: '<=', bound: 1.05 },
  millionRssRatio: { op: '<=', bound: 1.2 },
  millionMaxHistoryEvents: { op: '<=', bound: 10_000 },
  scaleOutRatio2to1: { op: '>=', bound: 1.7 },
  budgetChangeEffectSeconds: { op: '<=', bound: 2 },
  rssRatio200kTo20k: { op: '<=', bound: 1.2 },
  maxHistoryEventsPerRun: { op: '<=', bound: 10_000 },
  resumeRereadPagesPerRange: { op: '<=', bound: 1 },
  resumeFirstWriteSeconds: { op: '<=', bound: 10 },
};

export interface Figure {
  /** The key in latest.json (the issue's names); its target, if any, is TARGETS[key]. */
  key: string;
  value: number;
  unit?: string;
}

export const RESULTS_FILE = path.join(__dirname, 'results', 'latest.json');

export function holds(f: Figure): boolean | undefined {
  const target = TARGETS[f.key];
  if (!target) return undefined;
  if (!Number.isFinite(f.value)) return false;
  const { op, bound } = target;
  return op === '>=' ? f.value >= bound : op === '<=' ? f.value <= bound : f.value < bound;
}

function show(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

export function table(figures: Figure[]): string {
  const rows = figures.map((f) => {
    const ok = holds(f);
    const target = TARGETS[f.key];
    return [
      f.key,
      `${show(f.value)}${f.unit ? ` ${f.unit}` : ''}`,
      target ? `${target.op.replace('>=', '≥').replace('<=', '≤')} ${target.bound}` : '(reported)',
      ok === undefined ? '' : ok ? 'holds' : 'MISSED',
    ];
  });
  const head = ['figure', 'measured', 'target', ''];
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(width[i]!))
      .join('  ')
      .trimEnd();
  return [line(head), line(width.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/**
 * Writes latest.json. A run of some figures only (`--only`) keeps the others' values, targets and raw numbers from
 * the file as it was, each part's under `runs` with the run it came from, so the file always holds every figure.
 * Returns the figures kept from earlier runs (the bench prints them apart).
 */
export function writeResults(
  figures: Figure[],
  raw: Record<string, unknown>,
  meta: Record<string, unknown> & { figuresRun: string[] },
  file = RESULTS_FILE
): Figure[] {
  let before: Record<string, unknown> = {};
  try {
    before = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    // no earlier results
  }
  // Figures only: the run's own facts (cpus, benchSeconds, …) are this run's meta, never kept.
  const keptKeys = Object.keys(before).filter(
    (k) => typeof before[k] === 'number' && !(k in meta) && !figures.some((f) => f.key === k)
  );
  const values = {
    ...Object.fromEntries(keptKeys.map((k) => [k, before[k]])),
    ...Object.fromEntries(figures.map((f) => [f.key, f.value])),
  };
  const targets = {
    ...Object.fromEntries(
      keptKeys
        .filter((k) => (before.targets as Record<string, unknown> | undefined)?.[k])
        .map((k) => [k, (before.targets as Record<string, unknown>)[k]])
    ),
    ...Object.fromEntries(
      figures.filter((f) => TARGETS[f.key]).map((f) => [f.key, { ...TARGETS[f.key], holds: holds(f) }])
    ),
  };
  const runMeta = { at: meta.at, mode: meta.mode, loadAverage: meta.loadAverage, benchSeconds: meta.benchSeconds };
  const runs = {
    ...((before.runs as Record<string, unknown> | undefined) ?? {}),
    ...Object.fromEntries(meta.figuresRun.map((name) => [name, runMeta])),
  };
  const keptRaw = (before.raw as Record<string, unknown> | undefined) ?? {};
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(
    file,
    `${JSON.stringify({ ...meta, ...values, targets, runs, raw: { ...keptRaw, ...raw } }, null, 2)}\n`
  );
  return keptKeys.map((key) => ({ key, value: before[key] as number }));
}

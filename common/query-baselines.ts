/**
 * The declared queries before and after a migration, compared (pure: the workflow may call it). A query regressed
 * when it no longer uses an index it used before for one of its paths (a utilized single index now missing or only
 * "potential", a utilized composite gone), when its RU charge grew past `maxRuGrowth` × the baseline, or when it
 * fails now. Each problem carries the numbers side by side.
 */
import type { QueryMeasurement } from './activities';

export type QueryProblemKind = 'index-lost' | 'ru-growth' | 'failed' | 'missing';

export interface QueryProblem {
  name: string;
  kind: QueryProblemKind;
  /** A sentence with both figures, e.g. "RU 2.9 → 42.5 (14.66×, limit 2×)". */
  message: string;
  before?: { ruCharge: number; latencyMs: number; rows: number };
  after?: { ruCharge: number; latencyMs: number; rows: number };
}

const figures = (m: QueryMeasurement) => ({ ruCharge: m.ruCharge, latencyMs: m.latencyMs, rows: m.rows });
const round = (n: number) => Math.round(n * 100) / 100;

export function compareQueryBaselines(before: QueryMeasurement[], after: QueryMeasurement[]): QueryProblem[] {
  const problems: QueryProblem[] = [];
  const now = new Map(after.map((m) => [m.name, m]));
  for (const b of before) {
    const a = now.get(b.name);
    if (!a) {
      problems.push({
        name: b.name,
        kind: 'missing',
        message: `${b.name}: measured before, not after`,
        before: figures(b),
      });
      continue;
    }
    const both = { before: figures(b), after: figures(a) };
    if (a.error && !b.error) {
      problems.push({ name: b.name, kind: 'failed', message: `${b.name}: fails now (${a.error})`, ...both });
      continue;
    }
    if (b.error) continue; // no baseline to compare with
    const lostSingle = b.indexes.utilizedSingle.filter((spec) => !a.indexes.utilizedSingle.includes(spec));
    const lostComposite = b.indexes.utilizedComposite.filter((spec) => !a.indexes.utilizedComposite.includes(spec));
    for (const spec of lostSingle) {
      const now = a.indexes.potentialSingle.includes(spec) ? 'now only a potential index (a scan)' : 'no longer used';
      problems.push({
        name: b.name,
        kind: 'index-lost',
        message: `${b.name}: index ${spec} was used, ${now}; RU ${round(b.ruCharge)} → ${round(a.ruCharge)}`,
        ...both,
      });
    }
    for (const spec of lostComposite) {
      problems.push({
        name: b.name,
        kind: 'index-lost',
        message: `${b.name}: composite index (${spec}) was used, no longer; RU ${round(b.ruCharge)} → ${round(a.ruCharge)}`,
        ...both,
      });
    }
    const limit = a.maxRuGrowth ?? b.maxRuGrowth;
    if (a.ruCharge > b.ruCharge * limit) {
      const ratio = b.ruCharge > 0 ? `${round(a.ruCharge / b.ruCharge)}×` : 'from 0';
      problems.push({
        name: b.name,
        kind: 'ru-growth',
        message: `${b.name}: RU ${round(b.ruCharge)} → ${round(a.ruCharge)} (${ratio}, limit ${limit}×)`,
        ...both,
      });
    }
  }
  return problems;
}

const cell = (s: string) => s.replace(/\|/g, '\\|');

/** A markdown table of the queries before and after, with each one's verdict, for the run's report. */
export function renderQueryBaselinesMarkdown(before: QueryMeasurement[], after: QueryMeasurement[]): string {
  const problems = compareQueryBaselines(before, after);
  const now = new Map(after.map((m) => [m.name, m]));
  const lines = [
    '| query | RU before | RU after | × | ms before | ms after | rows before | rows after | indexes after | verdict |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
  ];
  for (const b of before) {
    const a = now.get(b.name);
    const mine = problems.filter((p) => p.name === b.name);
    const verdict = mine.length === 0 ? 'ok' : mine.map((p) => p.kind).join(', ');
    const ratio = a && b.ruCharge > 0 ? `${round(a.ruCharge / b.ruCharge)}` : '';
    const indexes = a
      ? [
          ...a.indexes.utilizedSingle.map((s) => `✓ ${s}`),
          ...a.indexes.utilizedComposite.map((s) => `✓ (${s})`),
          ...a.indexes.potentialSingle.map((s) => `✗ ${s}`),
          ...a.indexes.potentialComposite.map((s) => `✗ (${s})`),
        ].join('<br>')
      : '';
    lines.push(
      `| ${cell(b.name)} | ${round(b.ruCharge)} | ${a ? round(a.ruCharge) : '–'} | ${ratio} | ${Math.round(b.latencyMs)} | ${a ? Math.round(a.latencyMs) : '–'} | ${b.rows} | ${a ? a.rows : '–'} | ${cell(indexes)} | ${verdict} |`
    );
  }
  if (problems.length > 0) {
    lines.push('', ...problems.map((p) => `- ${cell(p.message)}`));
  }
  return lines.join('\n');
}

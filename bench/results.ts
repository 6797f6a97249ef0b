/**
 * The bench's results: each figure's value, its target, whether it holds, and the raw numbers behind it; printed as
 * a table and written to bench/results/latest.json.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface Figure {
  /** The key in latest.json (the issue's names). */
  key: string;
  label: string;
  value: number;
  /** e.g. "≥ 0.85"; absent: reported, no target. */
  target?: { op: '>=' | '<=' | '<'; bound: number };
  unit?: string;
}

export const RESULTS_FILE = path.join(__dirname, 'results', 'latest.json');

export function holds(f: Figure): boolean | undefined {
  if (!f.target) return undefined;
  if (!Number.isFinite(f.value)) return false;
  const { op, bound } = f.target;
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
    return [
      f.key,
      `${show(f.value)}${f.unit ? ` ${f.unit}` : ''}`,
      f.target ? `${f.target.op.replace('>=', '≥').replace('<=', '≤')} ${f.target.bound}` : '(reported)',
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

export function writeResults(figures: Figure[], raw: Record<string, unknown>, meta: Record<string, unknown>): void {
  const values = Object.fromEntries(figures.map((f) => [f.key, f.value]));
  const targets = Object.fromEntries(
    figures.filter((f) => f.target).map((f) => [f.key, { ...f.target, holds: holds(f) }])
  );
  fs.mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
  fs.writeFileSync(RESULTS_FILE, `${JSON.stringify({ ...meta, ...values, targets, raw }, null, 2)}\n`);
}

/**
 * Figures a test reports to `npm run chaos` (scripts/chaos/cases/jest-case.ts): when CHAOS_FIGURES_FILE is set, each
 * figure is appended to it as one JSON line; otherwise nothing happens and the test's assertions are all there is.
 */
import fs from 'node:fs';
import type { Figure } from '../../scripts/chaos/types';

export function recordFigure(name: string, value: number | string, target: string, holds: boolean): void {
  const file = process.env.CHAOS_FIGURES_FILE;
  if (!file) return;
  const figure: Figure = { name, value, target, holds };
  fs.appendFileSync(file, `${JSON.stringify(figure)}\n`);
}

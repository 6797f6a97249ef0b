/** Median and spread of a figure's repetitions. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** (max − min) ÷ median: how far the repetitions lie apart, relative to the figure. */
export function relativeSpread(values: number[]): number {
  return (Math.max(...values) - Math.min(...values)) / median(values);
}

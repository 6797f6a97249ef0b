/**
 * Each feed range's part of the RU budget, read at every migrateRange start (the budget is a total for the run).
 *
 * Without priority-based execution, the budget is spread over the physical partitions: shared by the ranges in
 * flight, and never more than budget ÷ P per range (a feed range is one physical partition, which Azure gives
 * provisioned ÷ P RU/s), so every partition keeps the same part for the application whatever the concurrency. The
 * price: once fewer ranges are left than partitions (the partitions rarely hold the same amount of data), part of
 * the budget goes unused.
 *
 * With it on the account (`enablePriorityBasedExecution`, read in preflight), Azure throttles the migration's
 * Low-priority requests before the application's on every partition, so the budget follows the work: it is shared
 * by the ranges that can run, min(concurrency, ranges not done).
 */
export interface ShareOf {
  /** Feed ranges of the run, done or not. */
  ranges: number;
  /** Ranges not done yet, in flight included. */
  unfinished: number;
  inFlight: number;
  concurrency: number;
  priorityBased: boolean;
}

export function rangeShare(budget: number | undefined, o: ShareOf): number | undefined {
  if (!budget) return undefined;
  const ways = o.priorityBased ? Math.min(o.concurrency, o.unfinished) : Math.max(o.inFlight, o.ranges);
  return Math.max(budget / Math.max(ways, 1), 1);
}

/**
 * The ranges in flight restart with a larger part (with priority-based execution, as ranges are done) only when it is
 * at least this much larger than the part they started with: a restart costs the pages in flight, so at a concurrency
 * of 32 the ranges restart about 15 times over the run's tail, not after every range.
 */
export const RESHARE_GROWTH = 1.25;

export function shareGrew(startedWith: number | undefined, now: number | undefined): boolean {
  return startedWith !== undefined && now !== undefined && now >= RESHARE_GROWTH * startedWith;
}

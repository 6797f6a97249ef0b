/**
 * The RU budget's split among feed ranges (workflows/budget-share.ts): per physical partition without priority-based
 * execution, following the work with it.
 */
import { rangeShare, shareGrowsWhenOneFinishes } from '../../workflows/budget-share';

const of = (o: Partial<Parameters<typeof rangeShare>[1]>) => ({
  ranges: 2,
  unfinished: 2,
  inFlight: 2,
  concurrency: 4,
  priorityBased: false,
  ...o,
});

test('without priority-based execution a range never gets more than budget ÷ partitions', () => {
  expect(rangeShare(10_000, of({}))).toBe(5_000);
  // The last range left keeps its partition's share: the application there keeps its part.
  expect(rangeShare(10_000, of({ unfinished: 1, inFlight: 1 }))).toBe(5_000);
  // Fewer ranges at once than partitions: the budget is not concentrated on them.
  expect(rangeShare(10_000, of({ ranges: 10, unfinished: 10, inFlight: 1, concurrency: 4 }))).toBe(1_000);
  expect(rangeShare(undefined, of({}))).toBeUndefined();
});

test('with priority-based execution the budget follows the ranges that can run', () => {
  const pbe = (o: Partial<Parameters<typeof rangeShare>[1]>) => of({ priorityBased: true, ...o });
  expect(rangeShare(10_000, pbe({}))).toBe(5_000);
  expect(rangeShare(10_000, pbe({ unfinished: 1, inFlight: 1 }))).toBe(10_000);
  expect(rangeShare(10_000, pbe({ ranges: 10, unfinished: 10, inFlight: 1, concurrency: 4 }))).toBe(2_500);
  expect(rangeShare(9_000, pbe({ ranges: 10, unfinished: 3, inFlight: 3, concurrency: 4 }))).toBe(3_000);
  // Never below 1 RU/s.
  expect(rangeShare(2, pbe({ ranges: 10, unfinished: 10, concurrency: 4 }))).toBe(1);
});

test('a finished range restarts the others only when their share grows', () => {
  expect(shareGrowsWhenOneFinishes({ unfinished: 1, concurrency: 4, priorityBased: true })).toBe(true);
  expect(shareGrowsWhenOneFinishes({ unfinished: 5, concurrency: 4, priorityBased: true })).toBe(false);
  expect(shareGrowsWhenOneFinishes({ unfinished: 0, concurrency: 4, priorityBased: true })).toBe(false);
  expect(shareGrowsWhenOneFinishes({ unfinished: 1, concurrency: 4, priorityBased: false })).toBe(false);
});

/**
 * The RU budget's split among feed ranges (workflows/budget-share.ts): per physical partition without priority-based
 * execution, following the work with it.
 */
import { rangeShare, RESHARE_GROWTH, shareGrew } from '../../workflows/budget-share';

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

test('the ranges in flight restart with a larger part only when it has grown enough', () => {
  const pbe = (unfinished: number) =>
    rangeShare(32_000, of({ ranges: 64, unfinished, inFlight: 32, concurrency: 32, priorityBased: true }));
  // 32 at once: one range done out of 31 left is 3 % more each, not worth the pages in flight.
  expect(shareGrew(pbe(32), pbe(31))).toBe(false);
  expect(shareGrew(pbe(32), pbe(25))).toBe(true);
  expect(pbe(25)! / pbe(32)!).toBeGreaterThanOrEqual(RESHARE_GROWTH);
  // Two ranges, one done: the other doubles.
  const two = (unfinished: number) => rangeShare(10_000, of({ unfinished, priorityBased: true }));
  expect(shareGrew(two(2), two(1))).toBe(true);
  // Without priority-based execution the part never grows; without a budget there is none.
  const flat = (unfinished: number) => rangeShare(10_000, of({ unfinished }));
  expect(shareGrew(flat(2), flat(1))).toBe(false);
  expect(shareGrew(undefined, undefined)).toBe(false);
  // Exactly RESHARE_GROWTH times the part is enough (the mutation run's survivor: `>` for `>=`).
  expect(shareGrew(1_000, 1_250)).toBe(true);
  expect(shareGrew(1_000, 1_249)).toBe(false);
});

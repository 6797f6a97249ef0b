/**
 * The RU budget's books (activities/cosmos/ru-budget.ts) without a container: what a request reserves, what its
 * settled charge adds or refunds, the debt carried from one activity to the next, and the bulk concurrency's AIMD.
 * The end-to-end proof that a migration keeps its budget, measured at the emulator, is ru-budget.test.ts; these pin
 * the arithmetic that proof relies on, figure by figure (the mutation run showed the end-to-end bounds alone let
 * a wrong refund or a lost carried debt pass: docs/reliability.md, "Mutation testing").
 */
import { AdaptiveConcurrency, ChargeEstimate, RESERVATION_SECONDS, RuBudget } from '../../activities/cosmos/ru-budget';

const T = 1_000_000;
let now = T;

beforeEach(() => {
  now = T;
  jest.spyOn(Date, 'now').mockImplementation(() => now);
});

afterEach(() => {
  jest.restoreAllMocks();
});

test('a debt carried from an earlier activity is paid back at this budget’s rate from the time it was owed', () => {
  const budget = new RuBudget(100, { ru: 50, at: T - 100 });
  // 50 RU at 100 RU/s: 500 ms from T - 100, so 400 ms (40 RU) are left at T.
  expect(budget.debt()).toEqual({ ru: 40, at: T });
  expect(budget.debt(T + 200)).toEqual({ ru: 20, at: T + 200 });
  expect(budget.debt(T + 400)).toBeUndefined();
  expect(budget.debt(T + 401)).toBeUndefined();
});

test('a carried debt that is nothing, not a number, or without a time owes nothing; so does a budget without a rate', () => {
  for (const carried of [
    { ru: 0, at: T },
    { ru: -5, at: T },
    { ru: Number.NaN, at: T },
    { ru: Number.POSITIVE_INFINITY, at: T },
    { ru: 50, at: Number.NaN },
    // Stamped ahead of this worker's clock (another worker's): nothing owed is still nothing to wait for.
    { ru: 0, at: T + 1000 },
    { ru: -5, at: T + 1000 },
  ]) {
    expect(new RuBudget(100, carried).debt()).toBeUndefined();
  }
  for (const rate of [undefined, 0, -100]) {
    const budget = new RuBudget(rate, { ru: 50, at: T });
    expect(budget.debt()).toBeUndefined();
    expect(budget.maxRequestRu()).toBe(Infinity);
  }
});

test('acquire reserves the estimate (never a negative one) and settle books the difference with the real charge', async () => {
  const budget = new RuBudget(1000);
  await budget.acquire(50);
  expect(budget.debt()).toEqual({ ru: 50, at: T });
  // Charged 80 for an estimate of 50: 30 more owed.
  budget.settle(50, 80);
  expect(budget.debt()).toEqual({ ru: 80, at: T });
  expect(budget.spent).toBe(80);
  // Charged 20 for an estimate of 50 reserved later: 30 refunded.
  now = T + 80; // the first 80 RU are paid back
  await budget.acquire(50);
  budget.settle(50, 20);
  expect(budget.debt()).toEqual({ ru: 20, at: now });
  expect(budget.spent).toBe(100);
  // A negative estimate reserves nothing and refunds nothing.
  now = T + 200;
  await budget.acquire(-10);
  expect(budget.debt()).toBeUndefined();
  budget.settle(-10, 5);
  expect(budget.debt()).toEqual({ ru: 5, at: now });
  expect(budget.spent).toBe(105);
});

test('a charge the response does not give (missing, not a number, negative) is booked as 0: the reservation is refunded', async () => {
  const budget = new RuBudget(1000);
  for (const actual of [Number.NaN, -3, 0, Number.POSITIVE_INFINITY]) {
    await budget.acquire(10);
    budget.settle(10, actual);
    expect(budget.debt()).toBeUndefined();
  }
  expect(budget.spent).toBe(0);
  // Without a budget the charges are still added up.
  const unlimited = new RuBudget(undefined);
  unlimited.settle(10, 7);
  unlimited.settle(10, 5);
  expect(unlimited.spent).toBe(12);
  expect(unlimited.debt()).toBeUndefined();
});

test('debt piles up from when the last one is paid off, and a request owed after a quiet spell owes from now', async () => {
  const budget = new RuBudget(100);
  budget.settle(0, 10); // 100 ms
  budget.settle(0, 10); // 100 ms more, after the first
  expect(budget.debt()).toEqual({ ru: 20, at: T });
  now = T + 1000; // paid off long ago: the next 10 RU are owed from now, not from T + 200
  budget.settle(0, 10);
  expect(budget.debt()).toEqual({ ru: 10, at: now });
  expect(budget.debt(now + 100)).toBeUndefined();
});

test('acquire waits until the earlier requests are paid for', async () => {
  jest.restoreAllMocks(); // real time: a wait is what is measured
  const budget = new RuBudget(1000);
  await budget.acquire(60); // 60 ms of the budget
  const started = performance.now();
  await budget.acquire(1);
  expect(performance.now() - started).toBeGreaterThanOrEqual(55);
});

test('no request reserves more than RESERVATION_SECONDS of the rate', () => {
  expect(RESERVATION_SECONDS).toBe(0.15);
  expect(new RuBudget(1000).maxRequestRu()).toBe(150);
});

test('the observed rate is what was spent over the seconds since the budget was created', () => {
  const budget = new RuBudget(1000);
  expect(budget.rate()).toBe(0);
  budget.settle(0, 300);
  expect(budget.rate()).toBe(0); // no time has passed: no rate, never a division by zero
  now = T + 2000;
  expect(budget.rate()).toBe(150);
});

test('a charge estimate moves 30 % of the way to each real charge, and ignores charges that are not positive numbers', () => {
  const estimate = new ChargeEstimate(10);
  estimate.observe(20);
  expect(estimate.get()).toBeCloseTo(13, 10);
  for (const ignored of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) estimate.observe(ignored);
  expect(estimate.get()).toBeCloseTo(13, 10);
});

test('bulk concurrency: starts within 1..max, halves on a 429 down to 1, and grows by one after a run of successes, up to max', () => {
  expect(new AdaptiveConcurrency(0, 8).limit).toBe(1);
  expect(new AdaptiveConcurrency(20, 8).limit).toBe(8);
  expect(new AdaptiveConcurrency().limit).toBe(4);
  expect(new AdaptiveConcurrency().max).toBe(8);

  const c = new AdaptiveConcurrency(5, 6, 3);
  c.onThrottled();
  expect(c.limit).toBe(2);
  c.onSuccess();
  c.onSuccess();
  expect(c.limit).toBe(2);
  c.onSuccess();
  expect(c.limit).toBe(3);
  // A 429 in the middle of a run starts the count again.
  c.onSuccess();
  c.onSuccess();
  c.onThrottled();
  expect(c.limit).toBe(1);
  c.onThrottled();
  expect(c.limit).toBe(1);
  for (let i = 0; i < 3 * 10; i += 1) c.onSuccess();
  expect(c.limit).toBe(6);
});

test('bulk concurrency: no more calls in flight than the limit; a finished call, or a grown limit, lets a waiting one start', async () => {
  const c = new AdaptiveConcurrency(2, 3, 1);
  const started: number[] = [];
  const finish: (() => void)[] = [];
  const calls = [0, 1, 2, 3].map((i) =>
    c.run(
      () =>
        new Promise<number>((resolve) => {
          started.push(i);
          finish[i] = () => resolve(i);
        })
    )
  );
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  await settle();
  expect(started).toEqual([0, 1]);
  finish[0]!();
  await settle();
  expect(started).toEqual([0, 1, 2]);
  // One success with increaseAfter 1: the limit grows to 3, and the waiting call starts without another finishing.
  c.onSuccess();
  await settle();
  expect(started).toEqual([0, 1, 2, 3]);
  for (const i of [1, 2, 3]) finish[i]!();
  await expect(Promise.all(calls)).resolves.toEqual([0, 1, 2, 3]);
});

test('bulk concurrency: a call that throws frees its slot', async () => {
  const c = new AdaptiveConcurrency(1, 1);
  await expect(c.run(() => Promise.reject(new Error('lost')))).rejects.toThrow('lost');
  await expect(c.run(() => Promise.resolve('next'))).resolves.toBe('next');
});

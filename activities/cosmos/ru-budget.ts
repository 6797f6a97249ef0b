/**
 * Keeping a migration inside its RU budget, so production traffic keeps the rest of the throughput. The one owner of
 * a range's budget inside an activity: every request of the engine (page queries, bulk reads and writes, re-reads)
 * reserves from it (bulk-writer.ts, page-scan.ts); the workflow's share of the run's total is computed in one place
 * too (workflows/budget-share.ts).
 *
 * RuBudget is a token bucket that runs into debt. The cost of a request is known only from its response
 * (x-ms-request-charge), so a request reserves an estimate before it is sent (waiting until earlier debt is paid
 * back at `ruPerSecond`) and settles the difference when the charge is known. Reserving first keeps concurrent
 * requests from all starting at once; settling keeps the books exact.
 *
 * Averages are not enough: a bulk of 100 replaces reserved whole at a share of 125 RU/s is eight seconds of budget
 * sent in one burst. So no request reserves more than `maxRequestRu()` (RESERVATION_SECONDS of the share; the bulk
 * writer sends smaller bulks when the share is small), and the debt outlives the activity: `debt()` is carried in the
 * checkpoint and the result, and the next activity of the range (a retry, a resume, a reshare at another rate)
 * starts owing what is left of it. With requests of at most s seconds of the share, any 1 s window holds at most
 * (1 + s) × the share and any 5 s window (1 + s/5) ×.
 *
 * Concurrency adapts AIMD, like the SDK's own bulk executor: halve on a 429, +1 after a run of successes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RuDebt } from '../../common/activities';

/**
 * The most a single request reserves, in seconds of the share: with 0.15 s, a 1 s window holds at most 1.15 × the
 * share even when a request lands on each edge, and a 5 s window 1.03 ×.
 */
export const RESERVATION_SECONDS = 0.15;

export class RuBudget {
  /** When the debt is paid off (ms since epoch); a request may start at or after it. */
  private paidOffAt = 0;
  private spentTotal = 0;
  private readonly startedAt = Date.now();

  /**
   * @param ruPerSecond absent or ≤ 0: no budget, never waits.
   * @param carried what an earlier activity of the range still owed: paid back at this budget's rate from its `at`.
   */
  constructor(
    readonly ruPerSecond?: number,
    carried?: RuDebt
  ) {
    if (this.limited && carried && Number.isFinite(carried.ru) && carried.ru > 0 && Number.isFinite(carried.at)) {
      this.paidOffAt = carried.at + (carried.ru / this.ruPerSecond!) * 1000;
    }
  }

  private get limited(): boolean {
    return this.ruPerSecond !== undefined && this.ruPerSecond > 0;
  }

  private owe(ru: number): void {
    if (!this.limited || ru === 0) return;
    this.paidOffAt = Math.max(this.paidOffAt, Date.now()) + (ru / this.ruPerSecond!) * 1000;
  }

  /** Waits until earlier requests are paid for, then reserves `estimate` RU for the request about to be sent. */
  async acquire(estimate: number): Promise<void> {
    if (!this.limited) return;
    for (;;) {
      const delay = this.paidOffAt - Date.now();
      if (delay <= 0) break;
      await sleep(delay);
    }
    this.owe(Math.max(0, estimate));
  }

  /** Books the request's real charge against what `acquire` reserved for it. */
  settle(estimate: number, actual: number): void {
    const charge = Number.isFinite(actual) && actual > 0 ? actual : 0;
    this.spentTotal += charge;
    if (!this.limited) return;
    const correction = charge - Math.max(0, estimate);
    if (correction > 0) this.owe(correction);
    else this.paidOffAt += (correction / this.ruPerSecond!) * 1000; // a refund, never before now matters
  }

  get spent(): number {
    return this.spentTotal;
  }

  /** The most one request may reserve (RESERVATION_SECONDS of the rate); Infinity without a budget. */
  maxRequestRu(): number {
    return this.limited ? this.ruPerSecond! * RESERVATION_SECONDS : Infinity;
  }

  /** What is still owed now, for the checkpoint; undefined when nothing is (or there is no budget). */
  debt(now = Date.now()): RuDebt | undefined {
    if (!this.limited || this.paidOffAt <= now) return undefined;
    return { ru: ((this.paidOffAt - now) / 1000) * this.ruPerSecond!, at: now };
  }

  /** Observed RU/s since the budget was created. */
  rate(): number {
    const seconds = (Date.now() - this.startedAt) / 1000;
    return seconds > 0 ? this.spentTotal / seconds : 0;
  }
}

/** A running estimate of what a kind of request costs (exponentially weighted), to reserve before sending it. */
export class ChargeEstimate {
  constructor(private value: number) {}
  get(): number {
    return this.value;
  }
  observe(actual: number): void {
    if (Number.isFinite(actual) && actual > 0) this.value = 0.7 * this.value + 0.3 * actual;
  }
}

/** How many bulk calls may be in flight: 1..max, halved on throttling, +1 after `increaseAfter` successes in a row. */
export class AdaptiveConcurrency {
  private current: number;
  private successes = 0;
  private inFlight = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(
    initial = 4,
    readonly max = 8,
    private readonly increaseAfter = 5
  ) {
    this.current = Math.max(1, Math.min(max, initial));
  }

  get limit(): number {
    return this.current;
  }

  onThrottled(): void {
    this.current = Math.max(1, Math.floor(this.current / 2));
    this.successes = 0;
  }

  onSuccess(): void {
    this.successes += 1;
    if (this.successes >= this.increaseAfter && this.current < this.max) {
      this.current += 1;
      this.successes = 0;
      this.release(0);
    }
  }

  /** Runs `fn` when a slot is free. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    while (this.inFlight >= this.current) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    this.inFlight += 1;
    try {
      return await fn();
    } finally {
      this.release(1);
    }
  }

  /** Wakes every waiter; each re-checks the limit (it may have shrunk meanwhile). */
  private release(finished: number): void {
    this.inFlight -= finished;
    for (const wake of this.waiters.splice(0)) wake();
  }
}

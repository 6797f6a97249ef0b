/**
 * Keeping a migration inside its RU budget, so production traffic keeps the rest of the throughput.
 *
 * RuBudget is a token bucket that runs into debt. The cost of a request is known only from its response
 * (x-ms-request-charge), so a request reserves an estimate before it is sent (waiting until earlier debt is paid
 * back at `ruPerSecond`) and settles the difference when the charge is known. Reserving first keeps concurrent
 * requests from all starting at once; settling keeps the books exact. Over a run the average stays at or under
 * the budget, give or take one estimate's error. Concurrency adapts AIMD, like the SDK's own bulk executor:
 * halve on a 429, +1 after a run of successes.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export class RuBudget {
  /** When the debt is paid off (ms since epoch); a request may start at or after it. */
  private paidOffAt = 0;
  private spentTotal = 0;
  private readonly startedAt = Date.now();

  /** @param ruPerSecond absent or ≤ 0: no budget, never waits. */
  constructor(readonly ruPerSecond?: number) {}

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

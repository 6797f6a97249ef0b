/**
 * Keeping a migration inside its RU budget, so production traffic keeps the rest of the throughput.
 *
 * RuBudget is a token bucket that runs into debt: every response's charge is spent after the fact (the cost of a
 * request is known only from its x-ms-request-charge), and before the next request the caller waits until the debt
 * is paid back at `ruPerSecond`. Over any run the average stays at or under the budget, give or take the requests
 * in flight. Concurrency adapts AIMD, like the SDK's own bulk executor: halve on a 429, +1 after a run of successes.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class RuBudget {
  /** When the debt is paid off (ms since epoch); a request may start at or after it. */
  private paidOffAt = 0;
  private spentTotal = 0;
  private readonly startedAt = Date.now();

  /** @param ruPerSecond absent or ≤ 0: no budget, never waits. */
  constructor(readonly ruPerSecond?: number) {}

  /** Records a response's charge. */
  spend(ru: number): void {
    if (!(ru > 0)) return;
    this.spentTotal += ru;
    if (!this.ruPerSecond || this.ruPerSecond <= 0) return;
    const now = Date.now();
    this.paidOffAt = Math.max(this.paidOffAt, now) + (ru / this.ruPerSecond) * 1000;
  }

  /** Waits until the debt is paid off. */
  async wait(): Promise<void> {
    for (;;) {
      const delay = this.paidOffAt - Date.now();
      if (delay <= 0) return;
      await sleep(delay);
    }
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

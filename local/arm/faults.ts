/** Fault injection: answer some requests with throttling or server errors, as ARM does under load. */
import { armError, type ArmError } from './http';
import type { ArmFaultRule } from './types';
import { SeededRandom, seedFromEnv } from '../seeded-random';

const CODES: Record<number, string> = {
  404: 'NotFound',
  408: 'RequestTimeout',
  429: 'SubscriptionRequestsThrottled',
  500: 'InternalServerError',
  503: 'ServiceUnavailable',
};

export class ArmFaults {
  private rules: { rule: ArmFaultRule; left: number }[] = [];
  private readonly counts: Record<number, number> = {};
  /** Draws for `probability`: seeded like the emulator's (local/seeded-random.ts), replayable with the same seed. */
  private random = new SeededRandom(seedFromEnv());

  get seed(): number {
    return this.random.seed;
  }

  /** Faults answered since the start, per status. */
  get injected(): Record<number, number> {
    return { ...this.counts };
  }

  set(rules: ArmFaultRule[], seed?: number): void {
    this.rules = rules.map((rule) => ({ rule, left: rule.times ?? Infinity }));
    if (seed !== undefined) this.random = new SeededRandom(seed);
  }

  /** The fault for this request, if a rule matches (and still has uses left). */
  match(method: string, path: string): { error: ArmError; headers: Record<string, string> } | undefined {
    const entry = this.rules.find(
      ({ rule, left }) =>
        left > 0 &&
        (rule.probability === undefined || this.random.next() < rule.probability) &&
        (!rule.method || rule.method.toUpperCase() === method) &&
        (!rule.pathContains || path.toLowerCase().includes(rule.pathContains.toLowerCase()))
    );
    if (!entry) return undefined;
    entry.left--;
    const { status, retryAfterSeconds } = entry.rule;
    this.counts[status] = (this.counts[status] ?? 0) + 1;
    const message =
      status === 429
        ? `Number of requests for subscription exceeded the limit (fault injected by the local ARM imitation).` +
          (retryAfterSeconds !== undefined ? ` Please try again after '${retryAfterSeconds}' seconds.` : '')
        : `Fault injected by the local ARM imitation: ${status} for ${method} ${path}.`;
    return {
      error: armError(status, CODES[status] ?? 'InjectedFault', message),
      headers: retryAfterSeconds !== undefined ? { 'retry-after': String(retryAfterSeconds) } : {},
    };
  }
}

/**
 * Fault injection: per operation kind, random 429s, 503s, timeouts, dropped connections (before the operation runs, or
 * after it ran with its answer lost) and added latency, switchable at run time. The draws come from one seeded
 * generator (local/seeded-random.ts): the seed is in `stats().faultSeed` and can be set again to replay them.
 */
import { SeededRandom } from '../seeded-random';
import type { FaultRule, OperationKind } from './types';

export const DEFAULT_RETRY_AFTER_MS = 100;
export const DEFAULT_TIMEOUT_HANG_MS = 65_000;

export type FaultOutcome =
  | { type: 'throttle'; retryAfterMs: number }
  | { type: 'unavailable' }
  | { type: 'timeout'; hangMs: number }
  | { type: 'drop' };

export interface FaultDecision {
  latencyMs: number;
  /** Answered instead of running the operation. */
  outcome?: FaultOutcome;
  /** The operation runs, then its connection is destroyed instead of answering (the client never learns the result). */
  dropResponse?: boolean;
}

/** Rules without `kinds` target the data operations (read, write, query, batch), not metadata. */
const DATA_KINDS: OperationKind[] = ['read', 'write', 'query', 'batch'];

export class FaultInjector {
  private rules: FaultRule[] = [];
  private random: SeededRandom;

  constructor(seed?: number) {
    this.random = new SeededRandom(seed);
  }

  /** The seed of the draws since the last `set` with a seed (or since start). */
  get seed(): number {
    return this.random.seed;
  }

  /** Replaces the rules; with a seed, the draws start again from it (the same seed replays the same draws). */
  set(rules: FaultRule[], seed?: number): void {
    rules.forEach(validate);
    this.rules = rules.map((r) => ({ ...r }));
    if (seed !== undefined) this.random = new SeededRandom(seed);
  }

  get(): FaultRule[] {
    return this.rules.map((r) => ({ ...r }));
  }

  decide(kind: OperationKind): FaultDecision {
    const decision: FaultDecision = { latencyMs: 0 };
    for (const rule of this.rules) {
      if (!(rule.kinds ?? DATA_KINDS).includes(kind)) continue;
      decision.latencyMs += rule.latencyMs ?? 0;
      if (decision.outcome) continue;
      if (this.random.next() < (rule.throttleProbability ?? 0)) {
        decision.outcome = { type: 'throttle', retryAfterMs: rule.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS };
      } else if (this.random.next() < (rule.unavailableProbability ?? 0)) {
        decision.outcome = { type: 'unavailable' };
      } else if (this.random.next() < (rule.timeoutProbability ?? 0)) {
        decision.outcome = { type: 'timeout', hangMs: rule.timeoutHangMs ?? DEFAULT_TIMEOUT_HANG_MS };
      } else if (this.random.next() < (rule.dropProbability ?? 0)) {
        decision.outcome = { type: 'drop' };
      } else if (this.random.next() < (rule.dropResponseProbability ?? 0)) {
        decision.dropResponse = true;
      }
    }
    return decision;
  }

  /**
   * For one query or read-feed page: the share (0 ≤ share < 1) of its usual examination it gets, if a rule cuts it
   * (0, an empty page, for a quarter of them).
   * Drawn only when a rule asks for short pages, so rules without them replay the same draws as before.
   */
  shortPage(): number | undefined {
    for (const rule of this.rules) {
      if (!(rule.kinds ?? DATA_KINDS).includes('query') || !(rule.shortPageProbability! > 0)) continue;
      if (this.random.next() < rule.shortPageProbability!) {
        // A quarter of the cut pages are empty (a continuation and nothing else), the others a random share.
        const share = this.random.next();
        return share < 0.25 ? 0 : share;
      }
    }
    return undefined;
  }

  /** For one operation of a bulk request: the status to answer it with instead of running it, if any. */
  bulkOperationFault(): number | undefined {
    for (const rule of this.rules) {
      if (!(rule.kinds ?? DATA_KINDS).includes('batch')) continue;
      if (this.random.next() < (rule.bulkOperationFaultProbability ?? 0)) return rule.bulkOperationStatus ?? 503;
    }
    return undefined;
  }
}

const KINDS: OperationKind[] = ['read', 'write', 'query', 'batch', 'metadata'];

function validate(rule: FaultRule, index: number): void {
  const fail = (what: string) => {
    throw new Error(`Fault rule #${index}: ${what}`);
  };
  for (const kind of rule.kinds ?? []) {
    if (!KINDS.includes(kind)) fail(`unknown operation kind "${String(kind)}" (expected one of ${KINDS.join(', ')})`);
  }
  for (const field of [
    'throttleProbability',
    'unavailableProbability',
    'timeoutProbability',
    'dropProbability',
    'dropResponseProbability',
    'bulkOperationFaultProbability',
    'shortPageProbability',
  ] as const) {
    const p = rule[field];
    if (p !== undefined && !(p >= 0 && p <= 1)) fail(`${field} must be between 0 and 1, got ${String(p)}`);
  }
  const status = rule.bulkOperationStatus;
  if (status !== undefined && !(Number.isInteger(status) && status >= 400 && status <= 599)) {
    fail(`bulkOperationStatus must be an HTTP error status (400-599), got ${String(status)}`);
  }
  for (const field of ['latencyMs', 'retryAfterMs', 'timeoutHangMs'] as const) {
    const ms = rule[field];
    if (ms !== undefined && !(Number.isFinite(ms) && ms >= 0)) fail(`${field} must be a number of ms >= 0`);
  }
}

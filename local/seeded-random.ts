/**
 * The local stack's one source of randomness for faults and chaos: a seeded generator (pure-rand's xoroshiro128+,
 * https://github.com/dubzzz/pure-rand), so a failing run prints its seed and the same draws can be replayed
 * (`LOCAL_FAULT_SEED`, `PUT /_local/faults?seed=N`, `npm run chaos -- --seed N`). The draws repeat exactly; which
 * request gets which draw still depends on the order requests arrive in, as on any concurrent system.
 */
import { randomInt } from 'node:crypto';
import { xoroshiro128plus, type RandomGenerator } from 'pure-rand';

/** A seed fit for every generator here: a non-negative 31-bit integer. */
export function newSeed(): number {
  return randomInt(0, 2 ** 31 - 1);
}

/** The seed `LOCAL_FAULT_SEED` names, or a new one. */
export function seedFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.LOCAL_FAULT_SEED;
  if (raw === undefined || raw === '') return newSeed();
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new Error(`LOCAL_FAULT_SEED must be a non-negative integer, got "${raw}"`);
  }
  return seed;
}

export class SeededRandom {
  private rng: RandomGenerator;

  constructor(readonly seed: number = newSeed()) {
    this.rng = xoroshiro128plus(seed);
  }

  /** A number in [0, 1), like Math.random(). */
  next(): number {
    return (this.rng.unsafeNext() >>> 0) / 2 ** 32;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }
}

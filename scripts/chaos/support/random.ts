/**
 * The chaos run's draws outside the emulator (which document the application writes, which worker is killed), from
 * the run's seed: `npm run chaos` sets `LOCAL_FAULT_SEED` before any case starts, so the emulator, the ARM imitation
 * and these draws all replay with `npm run chaos -- --seed N`.
 */
import { SeededRandom, seedFromEnv } from '../../../local/seeded-random';

let random: SeededRandom | undefined;

export function chaosRandom(): SeededRandom {
  random ??= new SeededRandom(seedFromEnv());
  return random;
}

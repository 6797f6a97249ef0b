/** Small measuring helpers shared by the figures. */
import type { LocalCosmos } from '../local/cosmos/types';

export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const started = process.hrtime.bigint();
  const value = await fn();
  return { value, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The emulator's counters of Low-priority (the migration's) and High-priority (the application's) requests. */
export function priorityStats(cosmos: LocalCosmos) {
  return cosmos.control.stats().byPriority;
}

export const round = (value: number, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;

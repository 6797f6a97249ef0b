/**
 * Durations as the workflow input writes them ("30s", "24h" or milliseconds), in milliseconds. The same parser
 * Temporal's own `Duration` uses (`ms`, pinned to @temporalio/common's version), through its public API instead of
 * @temporalio/common's internal `lib/time`. Pure: safe in workflow code.
 */
import ms from 'ms';
import type { Duration } from '@temporalio/common';

export function durationMs(duration: Duration): number {
  if (typeof duration === 'number') return duration;
  const value = ms(duration);
  if (value == null || Number.isNaN(value)) throw new TypeError(`Invalid duration string: '${duration}'`);
  return value;
}

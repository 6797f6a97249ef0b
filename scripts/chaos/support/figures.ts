/** Builders for the figures of `npm run chaos`. */
import type { Figure } from '../types';

export function figure(name: string, value: number | string, target: string, holds: boolean): Figure {
  return { name, value, target, holds };
}

/** A figure that must be 0 (documents lost, transformed twice, ...). */
export function zero(name: string, value: number): Figure {
  return figure(name, value, '0', value === 0);
}

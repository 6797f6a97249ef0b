/**
 * Staging parity (the manual runbook's checklist 4, "staging matches production"): the parts of two containers' definitions
 * that change how a migration behaves. Pure: the workflow compares the two exports preflight reads through ARM.
 */
import type { ContainerExport } from './activities';

/** What is compared; `acceptDifferences` names these. */
export const PARITY_FIELDS = [
  'partitionKey',
  'indexingPolicy',
  'uniqueKeyPolicy',
  'defaultTtl',
  'throughputMode',
] as const;
export type ParityField = (typeof PARITY_FIELDS)[number];

export interface ParityDifference {
  field: ParityField;
  production: string;
  staging: string;
}

/** JSON with object keys sorted, so two equal definitions compare equal whatever order ARM returns them in. */
function canonical(value: unknown): string {
  if (value === undefined) return '(none)';
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v as Record<string, unknown>)
              .filter(([, x]) => x !== undefined)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([k, x]) => [k, sort(x)])
          )
        : v;
  return JSON.stringify(sort(value));
}

function fieldOf(exported: ContainerExport, field: ParityField): string {
  if (field === 'throughputMode') return exported.throughput !== undefined ? 'dedicated' : 'shared or serverless';
  return canonical(exported.resource[field]);
}

export function compareDefinitions(production: ContainerExport, staging: ContainerExport): ParityDifference[] {
  return PARITY_FIELDS.flatMap((field) => {
    const p = fieldOf(production, field);
    const s = fieldOf(staging, field);
    return p === s ? [] : [{ field, production: p, staging: s }];
  });
}

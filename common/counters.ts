/** Counter arithmetic shared by the engine (per activity) and the workflow (per range, per run). */
import type { MigrationCounters, RevertCounters } from './activities';

export function zeroCounters(): MigrationCounters {
  return { scanned: 0, migrated: 0, skipped: 0, failed: 0, conflicts: 0, ruConsumed: 0 };
}

export function addCounters(a: MigrationCounters, b: MigrationCounters): MigrationCounters {
  return {
    scanned: a.scanned + b.scanned,
    migrated: a.migrated + b.migrated,
    skipped: a.skipped + b.skipped,
    failed: a.failed + b.failed,
    conflicts: a.conflicts + b.conflicts,
    ruConsumed: a.ruConsumed + b.ruConsumed,
    // Kept absent while neither side has it, so results recorded before the field existed add up as before.
    ...(a.rewrittenByApp !== undefined || b.rewrittenByApp !== undefined
      ? { rewrittenByApp: (a.rewrittenByApp ?? 0) + (b.rewrittenByApp ?? 0) }
      : {}),
  };
}

export function zeroRevertCounters(): RevertCounters {
  return { scanned: 0, reverted: 0, down: 0, conflicts: 0, unchanged: 0, failed: 0, ruConsumed: 0 };
}

export function addRevertCounters(a: RevertCounters, b: RevertCounters): RevertCounters {
  const sum = zeroRevertCounters();
  for (const key of Object.keys(sum) as (keyof RevertCounters)[]) sum[key] = (a[key] ?? 0) + (b[key] ?? 0);
  return sum;
}

/** A version as a key of countsByVersion: strings as they are, other values as JSON; absent: "(missing)". */
export function versionKey(value: unknown): string {
  if (value === undefined) return '(missing)';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

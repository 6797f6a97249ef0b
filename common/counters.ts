/** Counter arithmetic shared by the engine (per activity) and the workflow (per range, per run). */
import type { MigrationCounters } from './activities';

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

/** Questions about the past answered from the emulator's backup log (continuous backup). */
import type { BackupLog } from '../cosmos/types';

type TimelineEntry =
  | { at: number; database: string; container?: undefined; kind: 'Create' | 'Delete' }
  | { at: number; database: string; container: string; kind: 'Create' | 'Replace' | 'Delete' };

/** Database and container events in time order; at equal times databases first (a database precedes its containers). */
function timeline(backup: BackupLog): TimelineEntry[] {
  const entries: TimelineEntry[] = [
    ...backup.databaseEvents().map((e) => ({ at: e.at.getTime(), database: e.database, kind: e.kind })),
    ...backup
      .containerEvents()
      .map((e) => ({ at: e.at.getTime(), database: e.database, container: e.container, kind: e.kind })),
  ];
  return entries.sort((a, b) => a.at - b.at || Number(a.container !== undefined) - Number(b.container !== undefined));
}

/**
 * Databases alive at `at`, each with the containers alive then (sorted by name). Deleting a database deletes its
 * containers, whether or not the log holds a Delete event for each.
 */
export function resourcesAt(backup: BackupLog, at: Date): Map<string, string[]> {
  const alive = new Map<string, Set<string>>();
  for (const entry of timeline(backup)) {
    if (entry.at > at.getTime()) break;
    if (entry.container === undefined) {
      if (entry.kind === 'Create') alive.set(entry.database, alive.get(entry.database) ?? new Set());
      else alive.delete(entry.database);
      continue;
    }
    const containers = alive.get(entry.database);
    if (!containers) continue;
    if (entry.kind === 'Delete') containers.delete(entry.container);
    else containers.add(entry.container);
  }
  return new Map(
    [...alive]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([database, containers]) => [database, [...containers].sort()])
  );
}

/** Whether the container existed at `at`. */
export function containerExistedAt(backup: BackupLog, database: string, container: string, at: Date): boolean {
  return resourcesAt(backup, at).get(database)?.includes(container) ?? false;
}

/** Names of the databases alive now, per the log (the emulator's admin interface has no database list). */
export function liveDatabases(backup: BackupLog): string[] {
  return [...resourcesAt(backup, new Date(8.64e15)).keys()];
}

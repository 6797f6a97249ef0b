/** Questions about the past answered from the emulator's backup log (continuous backup). */
import type { BackupLog, ContainerEvent } from '../cosmos/types';

function eventsOf(backup: BackupLog, database: string, container: string): ContainerEvent[] {
  return backup
    .containerEvents()
    .filter((event) => event.database === database && event.container === container)
    .sort((a, b) => a.at.getTime() - b.at.getTime());
}

/** Whether the container existed at `at`: its last event up to then is a Create or Replace. */
export function containerExistedAt(backup: BackupLog, database: string, container: string, at: Date): boolean {
  const last = eventsOf(backup, database, container)
    .filter((event) => event.at <= at)
    .pop();
  return last !== undefined && last.kind !== 'Delete';
}

/** Databases alive at `at`, each with the containers alive then (sorted by name). */
export function resourcesAt(backup: BackupLog, at: Date): Map<string, string[]> {
  const databases = new Map<string, boolean>();
  for (const event of [...backup.databaseEvents()].sort((a, b) => a.at.getTime() - b.at.getTime())) {
    if (event.at <= at) databases.set(event.database, event.kind === 'Create');
  }
  const containers = new Map<string, boolean>();
  for (const event of [...backup.containerEvents()].sort((a, b) => a.at.getTime() - b.at.getTime())) {
    if (event.at <= at) containers.set(JSON.stringify([event.database, event.container]), event.kind !== 'Delete');
  }
  const result = new Map<string, string[]>();
  for (const [database, alive] of [...databases].sort(([a], [b]) => a.localeCompare(b))) {
    if (alive) result.set(database, []);
  }
  for (const [key, alive] of containers) {
    const [database, container] = JSON.parse(key) as [string, string];
    if (alive) result.get(database)?.push(container);
  }
  for (const names of result.values()) names.sort();
  return result;
}

/** Names of the databases alive now, per the log (the emulator's admin interface has no database list). */
export function liveDatabases(backup: BackupLog): string[] {
  return [...resourcesAt(backup, new Date(8.64e15)).keys()];
}

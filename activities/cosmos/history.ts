/**
 * The migrations history: one record per run and direction, in a container of the target database (created
 * through ARM, partitioned by /migrationId). `migrate status` reads it; a `down` reads it to undo container steps.
 */
import type { HistoryRecord } from '../../common/activities';
import { ensureContainer } from '../arm/ensure-container';
import type { ActivityDeps } from '../deps';
import { statusOf } from './requests';

/** The partition of restore-drill records (activities/drill/cosmos.ts); never a migration id. */
export const DRILL_PARTITION = '(restore-drill)';

export type StoredHistoryRecord = HistoryRecord & { id: string };

/** One record per run and direction; a later status of the same run replaces it. runIds are UUIDs, safe as ids. */
export function historyRecordId(record: Pick<HistoryRecord, 'runId' | 'direction' | 'migrationId'>): string {
  const safe = (s: string) => s.replace(/[/\\?#\s]/g, '_');
  return `${safe(record.migrationId)}.${record.direction}.${safe(record.runId)}`;
}

export async function ensureHistoryContainer(deps: ActivityDeps, database: string): Promise<void> {
  await ensureContainer(deps, { database, container: deps.control.historyContainer }, { partitionKey: '/migrationId' });
}

export async function recordHistory(deps: ActivityDeps, record: HistoryRecord): Promise<void> {
  await ensureHistoryContainer(deps, record.database);
  const stored: StoredHistoryRecord = { ...record, id: historyRecordId(record) };
  await deps.cosmos.database(record.database).container(deps.control.historyContainer).items.upsert(stored);
}

/** History records, newest first (by finishedAt); only one migration's when `migrationId` is given. */
export async function readHistory(
  deps: ActivityDeps,
  database: string,
  migrationId?: string
): Promise<StoredHistoryRecord[]> {
  const container = deps.cosmos.database(database).container(deps.control.historyContainer);
  const query = migrationId
    ? { query: 'SELECT * FROM c WHERE c.migrationId = @id', parameters: [{ name: '@id', value: migrationId }] }
    : { query: 'SELECT * FROM c' };
  let records: StoredHistoryRecord[];
  try {
    ({ resources: records } = await container.items.query<StoredHistoryRecord>(query).fetchAll());
  } catch (err) {
    if (statusOf(err) === 404) return []; // no history container yet: nothing ever ran here
    throw err;
  }
  return records
    .filter((r) => r.migrationId !== DRILL_PARTITION) // restore drills (drill.ts) live here too
    .map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith('_'))) as StoredHistoryRecord)
    .sort((a, b) => b.finishedAt.localeCompare(a.finishedAt));
}

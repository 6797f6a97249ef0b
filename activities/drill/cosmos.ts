/**
 * The restore drill: a copy of the container restored at T into a new account (activities/drill/arm.ts:
 * Azure restores a live container only into a new account) is compared with what the live container says about T,
 * and the drill is recorded (duration, docs/s) in the migrations history so that a run can ask for a recent
 * successful drill (`requireRestoreDrill`). The `restoreDrill` workflow (workflows/drill.ts) orders the steps.
 *
 * compareDrill: the live container cannot show its state at T, only which of its documents have not changed since:
 * those whose `_ts` (last write, whole seconds) is before T's second. Each of them must be in the copy, identical
 * (system properties aside). So
 * - `liveAtT` = live documents with `_ts < floor(T)`: a LOWER bound of the count at T (documents changed or deleted
 *   since T existed at T too, but the live container no longer shows them as they were); the copy must hold at least
 *   that many. Documents written within T's own second are left out: the second alone cannot say before or after T.
 * - a random sample of those documents, an even share from each of the live container's feed ranges (every page of
 *   each range scanned for ids, Reservoir below), is point-read in both: a copy missing one, or whose whole document
 *   differs (system properties aside; the differing fields named, never their values), is a mismatch.
 * - `newerThanAt` = documents of the copy whose `_ts` is after T's second: a restore at T holds none (a restore keeps
 *   each document as it was stored, its `_ts` included: the local imitation replays the backup log's stored bodies,
 *   local/cosmos/backup-log.ts), so any is a copy of a later state, a mismatch.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Container } from '@azure/cosmos';
import type {
  CompareDrillInput,
  DrillComparison,
  DrillRecord,
  DrillRecordInput,
  FindDrillInput,
} from '../../common/activities';
import { connectDrillAccount } from './arm';
import type { ActivityDeps } from '../deps';
import { listFeedRanges, rangeQueryOptions } from '../cosmos/feed-ranges';
import { DRILL_PARTITION, ensureHistoryContainer } from '../cosmos/history';
import { heartbeat, statusOf } from '../cosmos/requests';
import { readPartitionKeyPaths } from '../cosmos/transform';
import { Reservoir, sampledKey, sampleKeysSelect } from '../cosmos/reservoir';

export { Reservoir };

export { DRILL_PARTITION };

const SYSTEM = new Set(['_rid', '_self', '_etag', '_attachments', '_ts', '_lsn']);

function differingFields(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)].filter((k) => !SYSTEM.has(k)));
  return [...keys].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).sort();
}

function atSeconds(at: string): number {
  const ms = Date.parse(at);
  if (Number.isNaN(ms)) throw ApplicationFailure.nonRetryable(`restore point ${at} is not an ISO time`, 'InvalidInput');
  return Math.floor(ms / 1000);
}

export async function compareDrill(deps: ActivityDeps, input: CompareDrillInput): Promise<DrillComparison> {
  const client = await connectDrillAccount(deps, input.copyAccount);
  try {
    return await compareWith(deps, input, client.database(input.database).container(input.container));
  } finally {
    client.dispose();
  }
}

async function compareWith(deps: ActivityDeps, input: CompareDrillInput, copy: Container): Promise<DrillComparison> {
  const live = deps.cosmos.database(input.database).container(input.container);
  const seconds = atSeconds(input.at);
  const before = { name: '@t', value: seconds };
  const sum = (values: unknown[]) => values.reduce<number>((n, v) => n + (typeof v === 'number' ? v : 0), 0);
  const liveAtT = sum(
    (
      await live.items
        .query<number>({ query: 'SELECT VALUE COUNT(1) FROM c WHERE c._ts < @t', parameters: [before] })
        .fetchAll()
    ).resources
  );
  let copyCount: number;
  try {
    copyCount = sum((await copy.items.query<number>('SELECT VALUE COUNT(1) FROM c').fetchAll()).resources);
  } catch (err) {
    if (statusOf(err) === 404) {
      return {
        count: { copy: 0, liveAtT, newerThanAt: 0 },
        sampleChecked: 0,
        mismatches: [`the copy ${input.database}/${input.container} does not exist in account ${input.copyAccount}`],
      };
    }
    throw err;
  }
  const mismatches: string[] = [];
  const newerThanAt = sum(
    (
      await copy.items
        .query<number>({ query: 'SELECT VALUE COUNT(1) FROM c WHERE c._ts > @t', parameters: [before] })
        .fetchAll()
    ).resources
  );
  if (newerThanAt > 0) {
    mismatches.push(
      `the copy holds ${newerThanAt} documents written after ${input.at}: it is not the state at that time`
    );
  }
  if (copyCount < liveAtT) {
    mismatches.push(
      `the copy holds ${copyCount} documents; the live container has ${liveAtT} unchanged since before ${input.at}, all of which existed then`
    );
  }
  const pkPaths = await readPartitionKeyPaths(live);
  const ranges = await listFeedRanges(live);
  const perRange = Math.max(1, Math.ceil(input.sampleSize / Math.max(1, ranges.length)));
  // Ids and partition keys only, every page of every range: a random sample of each range's unchanged documents
  // (reservoir sampling), not the first page of each, which would check the oldest documents only.
  const chosen: Record<string, unknown>[] = [];
  for (const range of ranges) {
    const options = await rangeQueryOptions(live, range);
    const sample = new Reservoir<Record<string, unknown>>(perRange);
    const iterator = live.items.query<Record<string, unknown>>(
      { query: sampleKeysSelect(pkPaths, 'c._ts < @t'), parameters: [before] },
      { ...options, maxItemCount: 1000 }
    );
    while (iterator.hasMoreResults()) {
      for (const row of (await iterator.fetchNext()).resources ?? []) sample.offer(row);
      heartbeat({ scanned: sample.seen });
    }
    chosen.push(...sample.items);
  }
  let sampleChecked = 0;
  for (const row of chosen.slice(0, input.sampleSize)) {
    const key = sampledKey(row, pkPaths);
    const id = String(row.id);
    const read = async (c: Container) => {
      try {
        return (await c.item(id, key as never).read<Record<string, unknown>>()).resource;
      } catch (err) {
        if (statusOf(err) !== 404) throw err;
        return undefined;
      }
    };
    const doc = await read(live);
    // Changed or deleted by the application since the scan: no longer the state at T, nothing to compare.
    if (!doc || typeof doc._ts !== 'number' || doc._ts >= seconds) continue;
    sampleChecked += 1;
    const restored = await read(copy);
    if (!restored) mismatches.push(`${id} (${JSON.stringify(key)}): missing from the copy`);
    else {
      // The whole document, system properties aside.
      const fields = differingFields(doc, restored);
      if (fields.length > 0) mismatches.push(`${id} (${JSON.stringify(key)}): ${fields.join(', ')} differ`);
    }
    if (sampleChecked % 50 === 0) heartbeat({ sampleChecked });
  }
  return { count: { copy: copyCount, liveAtT, newerThanAt }, sampleChecked, mismatches };
}

type StoredDrill = DrillRecord & { id: string; migrationId: string; kind: 'restore-drill' };

export async function recordDrill(deps: ActivityDeps, input: DrillRecordInput): Promise<DrillRecord> {
  const durationMs = input.durationMs ?? Math.max(0, Date.parse(input.finishedAt) - Date.parse(input.startedAt));
  const docsPerSecond =
    input.docsPerSecond ?? (durationMs > 0 ? Math.round((input.documents / (durationMs / 1000)) * 100) / 100 : 0);
  const record: DrillRecord = { ...input, account: input.account ?? deps.account.name, durationMs, docsPerSecond };
  await ensureHistoryContainer(deps, record.database);
  const safe = (s: string) => s.replace(/[/\\?#\s]/g, '_');
  const stored: StoredDrill = {
    ...record,
    id: `drill.${safe(record.account)}.${safe(record.database)}.${safe(record.container)}.${safe(record.startedAt)}`,
    migrationId: DRILL_PARTITION,
    kind: 'restore-drill',
  };
  await deps.cosmos.database(record.database).container(deps.control.historyContainer).items.upsert(stored);
  return record;
}

/** The newest drill of the container that finished within `within` ms (ok or not: the caller judges), or null. */
export async function findRecentDrill(deps: ActivityDeps, input: FindDrillInput): Promise<DrillRecord | null> {
  const since = new Date(Date.now() - input.within).toISOString();
  const history = deps.cosmos.database(input.database).container(deps.control.historyContainer);
  try {
    const { resources } = await history.items
      .query<StoredDrill>(
        {
          query:
            'SELECT * FROM c WHERE c.migrationId = @p AND c.account = @a AND c.database = @d AND c.container = @c AND c.finishedAt >= @since',
          parameters: [
            { name: '@p', value: DRILL_PARTITION },
            { name: '@a', value: input.account ?? deps.account.name },
            { name: '@d', value: input.database },
            { name: '@c', value: input.container },
            { name: '@since', value: since },
          ],
        },
        { partitionKey: DRILL_PARTITION }
      )
      .fetchAll();
    const newest = resources.sort((a, b) => b.finishedAt.localeCompare(a.finishedAt))[0];
    if (!newest) return null;
    const record = Object.fromEntries(
      Object.entries(newest).filter(([k]) => !k.startsWith('_') && !['id', 'migrationId', 'kind'].includes(k))
    );
    return record as unknown as DrillRecord;
  } catch (err) {
    if (statusOf(err) === 404) return null; // no history container: no drill ever
    throw err;
  }
}

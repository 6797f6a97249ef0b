/**
 * The restore drill: a copy of the container restored at T into a new account (activities/arm/drill-account.ts:
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
 * - a sample of those documents, spread over the live container's feed ranges, is point-read in the copy: missing, or
 *   with different fields (named, never their values), is a mismatch.
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
import { connectDrillAccount } from '../arm/drill-account';
import type { ActivityDeps } from '../deps';
import { listFeedRanges, rangeQueryOptions } from './feed-ranges';
import { DRILL_PARTITION, ensureHistoryContainer } from './history';
import { heartbeat, statusOf } from './requests';
import { readPartitionKeyPaths } from './transform';

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
        count: { copy: 0, liveAtT },
        sampleChecked: 0,
        mismatches: [`the copy ${input.database}/${input.container} does not exist in account ${input.copyAccount}`],
      };
    }
    throw err;
  }
  const mismatches: string[] = [];
  if (copyCount < liveAtT) {
    mismatches.push(
      `the copy holds ${copyCount} documents; the live container has ${liveAtT} unchanged since before ${input.at}, all of which existed then`
    );
  }
  const pkPaths = await readPartitionKeyPaths(live);
  const ranges = await listFeedRanges(live);
  const perRange = Math.max(1, Math.ceil(input.sampleSize / Math.max(1, ranges.length)));
  let sampleChecked = 0;
  for (const range of ranges) {
    if (sampleChecked >= input.sampleSize) break;
    const options = await rangeQueryOptions(live, range);
    const page = await live.items
      .query<Record<string, unknown>>(
        { query: 'SELECT * FROM c WHERE c._ts < @t', parameters: [before] },
        { ...options, maxItemCount: perRange }
      )
      .fetchNext();
    for (const doc of (page.resources ?? []).slice(0, Math.min(perRange, input.sampleSize - sampleChecked))) {
      sampleChecked += 1;
      const values = pkPaths.map((p) =>
        p
          .split('/')
          .filter(Boolean)
          .reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), doc)
      );
      const key = pkPaths.length === 1 ? values[0] : values;
      let restored: Record<string, unknown> | undefined;
      try {
        restored = (await copy.item(String(doc.id), key as never).read<Record<string, unknown>>()).resource;
      } catch (err) {
        if (statusOf(err) !== 404) throw err;
      }
      if (!restored) mismatches.push(`${String(doc.id)} (${JSON.stringify(key)}): missing from the copy`);
      else {
        const fields = differingFields(doc, restored);
        if (fields.length > 0)
          mismatches.push(`${String(doc.id)} (${JSON.stringify(key)}): ${fields.join(', ')} differ`);
      }
    }
    heartbeat({ sampleChecked });
  }
  return { count: { copy: copyCount, liveAtT }, sampleChecked, mismatches };
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

/** Counting documents: in total, by candidates of a rule, and by version. */
import type { Container, SqlQuerySpec } from '@azure/cosmos';
import { heartbeat } from './requests';
import { candidateCondition, fieldRef, MISSING_VERSION_KEY, type VersionRule } from './versions';

export interface Counted {
  count: number;
  ruConsumed: number;
}

/** `SELECT VALUE COUNT(1)` over the container (cross-partition: the SDK sums the partitions' counts). */
export async function countWhere(
  container: Container,
  where?: { where: string; parameters: SqlQuerySpec['parameters'] }
): Promise<Counted> {
  const spec: SqlQuerySpec = where
    ? { query: `SELECT VALUE COUNT(1) FROM c WHERE ${where.where}`, parameters: where.parameters }
    : { query: 'SELECT VALUE COUNT(1) FROM c' };
  const response = await container.items.query<number>(spec).fetchAll();
  const count = response.resources.reduce((sum, n) => sum + (typeof n === 'number' ? n : 0), 0);
  return { count, ruConsumed: response.requestCharge ?? 0 };
}

export async function countCandidates(container: Container, rule: VersionRule): Promise<Counted> {
  return countWhere(container, candidateCondition(rule));
}

function versionKey(value: unknown): string {
  if (value === undefined) return MISSING_VERSION_KEY;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * Documents per value of the version field ("(missing)" for documents without it). A projection scan of the
 * version field only, in pages of 1000: works on every account (GROUP BY is not available on the emulator).
 * With `changedSinceTs` (seconds), the same scan also counts documents whose `_ts` is at or after it.
 */
export async function countByVersion(
  container: Container,
  versionField: string,
  options: { changedSinceTs?: number } = {}
): Promise<{ counts: Record<string, number>; total: number; changedSince: number }> {
  const counts: Record<string, number> = {};
  let total = 0;
  let changedSince = 0;
  const since = options.changedSinceTs;
  const iterator = container.items.query<{ v?: unknown; ts?: number }>(
    `SELECT ${fieldRef(versionField)} AS v${since !== undefined ? ', c._ts AS ts' : ''} FROM c`,
    { maxItemCount: 1000 }
  );
  while (iterator.hasMoreResults()) {
    const page = await iterator.fetchNext();
    for (const row of page.resources ?? []) {
      const key = versionKey(row.v);
      counts[key] = (counts[key] ?? 0) + 1;
      total += 1;
      if (since !== undefined && typeof row.ts === 'number' && row.ts >= since) changedSince += 1;
    }
    heartbeat({ counted: total });
  }
  return { counts, total, changedSince };
}

/**
 * findDeletedCopies: in latest-version mode the source's change feed carries no deletes
 * (https://learn.microsoft.com/azure/cosmos-db/nosql/change-feed-modes#latest-version-change-feed-mode), so the copies
 * of documents deleted from the source since the start point are found by comparing: one target feed range is scanned
 * in pages (the one reader), the source is asked once per page, cross-partition, for the page's ids, and a copy whose
 * source document (its source partition key fields and id, derive.ts) is gone is deleted through the one bulk writer.
 * Run at the cutover point, once the source is no longer written and the catch-up is drained; a page's continuation is
 * heartbeated, so a retried attempt goes on after it.
 */
import { BulkOperationType } from '@azure/cosmos';
import type { DocumentFailure, RuDebt } from '../../common/activities';
import {
  addCopyCounters,
  zeroCopyCounters,
  type CopyCounters,
  type CopyRangeInput,
  type CopyRangeResult,
} from '../../common/copy';
import type { MigrationDocument } from '../../common/migration';
import type { ActivityDeps } from '../deps';
import { BulkWriter } from '../cosmos/bulk-writer';
import { PageScan } from '../cosmos/budgeted-reads';
import { rangeQueryOptions } from '../cosmos/feed-ranges';
import { debtOf } from '../cosmos/migrate-range';
import { activityContext } from '../cosmos/requests';
import { ChargeEstimate, RuBudget } from '../cosmos/ru-budget';
import { partitionKeyOf } from '../cosmos/transform';
import { openCopy } from './context';
import { sourceKeyOf } from './derive';
import { recordProblem } from './problems';

interface ReconcileCheckpoint {
  continuation?: string;
  done: boolean;
  counters: CopyCounters;
  failures: DocumentFailure[];
  ruDebt?: RuDebt;
}

/** `feedRange` is one of the TARGET's feed ranges. */
export async function findDeletedCopies(deps: ActivityDeps, input: CopyRangeInput): Promise<CopyRangeResult> {
  const open = await openCopy(deps, input);
  const { shape } = open;
  const resumed = activityContext()?.info.heartbeatDetails as ReconcileCheckpoint | undefined;
  const state: ReconcileCheckpoint = resumed
    ? { ...resumed, counters: { ...resumed.counters }, failures: [...resumed.failures] }
    : { continuation: input.continuation, done: false, counters: zeroCopyCounters(), failures: [] };
  const budget = new RuBudget(input.ruBudget, state.ruDebt ?? input.ruDebt);
  const writer = new BulkWriter(budget);
  const deleteCharge = new ChargeEstimate(10);
  const result = (): CopyRangeResult => ({
    done: state.done,
    ...(state.continuation ? { continuation: state.continuation } : {}),
    counters: { ...state.counters },
    failures: [...state.failures],
    ...debtOf(budget),
  });
  if (state.done) return result();
  const options = await rangeQueryOptions(open.target, input.feedRange);
  const pages = new PageScan<MigrationDocument>(
    open.target,
    'SELECT * FROM c',
    { ...options, maxItemCount: input.batchSize },
    state.continuation,
    budget
  );
  const deadline = Date.now() + (input.maxSeconds ?? 60) * 1000;
  for (;;) {
    const page = await pages.next();
    const tally: CopyCounters = { ...zeroCopyCounters(), read: page.docs.length, ruConsumed: page.charge };
    if (page.docs.length > 0) {
      const ids = [...new Set(page.docs.map((d) => d.id))];
      const living = new Set<string>();
      const sources = new PageScan<MigrationDocument>(
        open.source,
        { query: 'SELECT * FROM c WHERE ARRAY_CONTAINS(@ids, c.id)', parameters: [{ name: '@ids', value: ids }] },
        { maxItemCount: 1000 },
        undefined,
        budget
      );
      for (;;) {
        const found = await sources.next();
        tally.ruConsumed += found.charge;
        for (const doc of found.docs) living.add(sourceKeyOf(doc, shape.sourcePaths));
        if (!found.continuation) break;
      }
      const orphans = page.docs.filter((d) => !living.has(sourceKeyOf(d, shape.sourcePaths)));
      const outcomes = await writer.send(
        open.target,
        orphans,
        (d) => ({
          operationType: BulkOperationType.Delete,
          id: d.id,
          partitionKey: partitionKeyOf(d, shape.targetPaths) as never,
        }),
        { estimate: deleteCharge, onCharge: (ru) => (tally.ruConsumed += ru) }
      );
      for (const { item, status } of outcomes) {
        if (status >= 200 && status < 300) tally.deleted += 1;
        else if (status !== 404) {
          const sourcePk = partitionKeyOf(item, shape.sourcePaths);
          recordProblem(state, tally, item.id, sourcePk, `delete of a copy whose source is gone failed with ${status}`);
        }
      }
    }
    state.counters = addCopyCounters(state.counters, tally);
    state.continuation = page.continuation;
    state.done = page.continuation === undefined;
    activityContext()?.heartbeat({ ...state, ...debtOf(budget) } satisfies ReconcileCheckpoint);
    if (state.done || Date.now() >= deadline) return result();
  }
}

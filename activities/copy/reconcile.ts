/**
 * Deletes that latest-version mode's change feed does not carry
 * (https://learn.microsoft.com/azure/cosmos-db/nosql/change-feed-modes#latest-version-change-feed-mode), found by
 * comparing the two containers, each way:
 *
 * - findDeletedCopies, at the cutover point (the source no longer written, the catch-up drained): one TARGET feed
 *   range scanned, the source asked once per page, cross-partition, for the page's ids; a copy whose source document
 *   (its source partition key fields and id, derive.ts) is gone is deleted from the target.
 * - findDeletedSources, in a rollback after the cutover (the application stopped, the reverse sync drained): one
 *   SOURCE feed range scanned, the target asked for the page's ids; a source document whose copy (up() of it: its new
 *   partition key and id) is gone from the target was deleted by the application after the cutover (the cutover
 *   verified every copy existed), and is deleted from the source, ETag-conditioned on the version compared (a 412:
 *   it changed since, left as it is and named). A source document up() cannot place was never copied: left as it is.
 *   When the copy was not complete at the cutover (`keepMissing`: a copy that failed, a collision, a verification
 *   the operator accepted), a missing copy may be one that was never made: such a source document is named, never
 *   deleted.
 *
 * Both scan in pages through the one reader and delete through the one bulk writer; a page's continuation is
 * heartbeated, so a retried attempt goes on after it.
 */
import { BulkOperationType, type Container } from '@azure/cosmos';
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
import { derive, sourceKeyOf } from './derive';
import { recordProblem } from './problems';

interface ReconcileCheckpoint {
  continuation?: string;
  done: boolean;
  counters: CopyCounters;
  failures: DocumentFailure[];
  ruDebt?: RuDebt;
}

/** How one direction finds what to delete: the container scanned and the one its documents must have a match in. */
interface Side {
  scanned: Container;
  other: Container;
  /** The key a scanned document's match has in `other` (undefined: it never had one, leave it). */
  matchKey(doc: MigrationDocument): Promise<string | undefined>;
  /** The key of a document of `other`, in the same form. */
  keyInOther(doc: MigrationDocument): string;
  /** The partition key of a scanned document, to delete it. */
  partitionKey(doc: MigrationDocument): unknown;
  /** Delete only the version compared (ifMatch its _etag). */
  conditional: boolean;
  /** Name the documents without a match instead of deleting them, with this reason. */
  keepWhy?: string;
  /** A delete that failed with `status`, as a named problem. */
  failed(status: number): string;
}

/** `feedRange` is one of the TARGET's feed ranges. */
export async function findDeletedCopies(deps: ActivityDeps, input: CopyRangeInput): Promise<CopyRangeResult> {
  const { source, target, shape } = await openCopy(deps, input);
  return reconcile(
    input,
    {
      scanned: target,
      other: source,
      matchKey: (doc) => Promise.resolve(sourceKeyOf(doc, shape.sourcePaths)),
      keyInOther: (doc) => sourceKeyOf(doc, shape.sourcePaths),
      partitionKey: (doc) => partitionKeyOf(doc, shape.targetPaths),
      conditional: false,
      failed: (status) => `delete of a copy whose source is gone failed with ${status}`,
    },
    shape.sourcePaths
  );
}

/** `feedRange` is one of the SOURCE's feed ranges. */
export async function findDeletedSources(deps: ActivityDeps, input: CopyRangeInput): Promise<CopyRangeResult> {
  const { source, target, shape } = await openCopy(deps, input);
  return reconcile(
    input,
    {
      scanned: source,
      other: target,
      matchKey: async (doc) => {
        const copy = await derive(shape, doc);
        return copy.kind === 'copy' ? JSON.stringify([copy.partitionKey ?? null, doc.id]) : undefined;
      },
      keyInOther: (doc) => JSON.stringify([partitionKeyOf(doc, shape.targetPaths) ?? null, doc.id]),
      partitionKey: (doc) => partitionKeyOf(doc, shape.sourcePaths),
      conditional: true,
      ...(input.keepMissing
        ? {
            keepWhy:
              'its copy is not in the target, but the copy was not complete at the cutover (it may never have been copied): not deleted',
          }
        : {}),
      failed: (status) =>
        status === 412
          ? 'changed since it was compared with the target: not deleted'
          : `delete of a document the application deleted in the target failed with ${status}`,
    },
    shape.sourcePaths
  );
}

async function reconcile(input: CopyRangeInput, side: Side, sourcePaths: string[]): Promise<CopyRangeResult> {
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
  const options = await rangeQueryOptions(side.scanned, input.feedRange);
  const pages = new PageScan<MigrationDocument>(
    side.scanned,
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
      const matches = new PageScan<MigrationDocument>(
        side.other,
        { query: 'SELECT * FROM c WHERE ARRAY_CONTAINS(@ids, c.id)', parameters: [{ name: '@ids', value: ids }] },
        { maxItemCount: 1000 },
        undefined,
        budget
      );
      for (;;) {
        const found = await matches.next();
        tally.ruConsumed += found.charge;
        for (const doc of found.docs) living.add(side.keyInOther(doc));
        if (!found.continuation) break;
      }
      const orphans: MigrationDocument[] = [];
      for (const doc of page.docs) {
        const key = await side.matchKey(doc);
        if (key !== undefined && !living.has(key)) orphans.push(doc);
      }
      if (side.keepWhy !== undefined) {
        for (const doc of orphans) {
          recordProblem(state, tally, doc.id, partitionKeyOf(doc, sourcePaths), side.keepWhy);
        }
        orphans.length = 0;
      }
      const outcomes = await writer.send(
        side.scanned,
        orphans,
        (d) => ({
          operationType: BulkOperationType.Delete,
          id: d.id,
          partitionKey: side.partitionKey(d) as never,
          ...(side.conditional && typeof d._etag === 'string' ? { ifMatch: d._etag } : {}),
        }),
        { estimate: deleteCharge, onCharge: (ru) => (tally.ruConsumed += ru) }
      );
      for (const { item, status } of outcomes) {
        if (status >= 200 && status < 300) tally.deleted += 1;
        else if (status !== 404) {
          recordProblem(state, tally, item.id, partitionKeyOf(item, sourcePaths), side.failed(status));
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

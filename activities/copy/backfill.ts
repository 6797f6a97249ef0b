/**
 * copyRange: the backfill of one feed range of the source into the target (docs/migrations.md "Copy mode").
 *
 * The source range is scanned in pages (the one reader, budgeted-reads.ts) and `up()` of each document is created in
 * the target through the one bulk writer (bulk-writer.ts): a Create, never an Upsert, so that two source documents
 * whose id meets in one new logical partition are found (409) instead of one silently overwriting the other. A 409 is
 * read back: the copy of this very source document (an attempt retried after its page was written) is upserted
 * again, over the version read back only (`ifMatch`); any other is an id collision, a named problem. The source is only read. The scan's continuation is
 * heartbeated after every page written, so a retried attempt goes on after it.
 *
 * Changes the application makes while the range is scanned need no care here: the catch-up (sync.ts) replays the
 * source's change feed from a start point taken before the backfill began, in order, after the backfill, so the last
 * write to the target of every changed document is the catch-up's.
 */
import { BulkOperationType, type JSONObject } from '@azure/cosmos';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { FEED_RANGE_SPLIT, type DocumentFailure, type RuDebt } from '../../common/activities';
import {
  addCopyCounters,
  zeroCopyCounters,
  type CopyCounters,
  type CopyRangeInput,
  type CopyRangeResult,
} from '../../common/copy';
import type { MigrationDocument } from '../../common/migration';
import { failureMessage } from '../../common/failure-message';
import type { ActivityDeps } from '../deps';
import { BulkWriter } from '../cosmos/bulk-writer';
import { PageScan, readCurrent } from '../cosmos/budgeted-reads';
import { isPartitionGone, rangeQueryOptions } from '../cosmos/feed-ranges';
import { debtOf } from '../cosmos/migrate-range';
import { activityContext } from '../cosmos/requests';
import { ChargeEstimate, RuBudget } from '../cosmos/ru-budget';
import { partitionKeyOf } from '../cosmos/transform';
import { openCopy, type OpenCopy } from './context';
import { derive, sourceKeyOf } from './derive';
import { collision, problemsExceeded, recordProblem } from './problems';

interface BackfillCheckpoint {
  continuation?: string;
  done: boolean;
  counters: CopyCounters;
  failures: DocumentFailure[];
  ruDebt?: RuDebt;
}

const KEEP_ALIVE_MS = 1000;
const BACKFILL_SECONDS = 60;

type Copy = { id: string; sourcePk: unknown; doc: MigrationDocument; partitionKey: unknown; source: string };
/** A copy found already in the target (a retried attempt): written again only over the version read back. */
type Rewrite = Copy & { etag?: string };

export async function copyRange(deps: ActivityDeps, input: CopyRangeInput): Promise<CopyRangeResult> {
  const open = await openCopy(deps, input);
  const resumed = activityContext()?.info.heartbeatDetails as BackfillCheckpoint | undefined;
  const state: BackfillCheckpoint = resumed
    ? { ...resumed, counters: { ...resumed.counters }, failures: [...resumed.failures] }
    : { continuation: input.continuation, done: false, counters: zeroCopyCounters(), failures: [] };
  const budget = new RuBudget(input.ruBudget, state.ruDebt ?? input.ruDebt);
  const backfill = new Backfill(open, input, state, budget);
  return backfill.run();
}

class Backfill {
  private readonly writer: BulkWriter;
  private readonly createCharge = new ChargeEstimate(10);
  private cancelled: unknown;

  constructor(
    private readonly open: OpenCopy,
    private readonly input: CopyRangeInput,
    private readonly state: BackfillCheckpoint,
    private readonly budget: RuBudget
  ) {
    this.writer = new BulkWriter(budget);
    activityContext()?.cancelled.catch((err: unknown) => {
      this.cancelled = err ?? new Error('cancelled');
    });
  }

  private result(): CopyRangeResult {
    return {
      done: this.state.done,
      ...(this.state.continuation ? { continuation: this.state.continuation } : {}),
      counters: { ...this.state.counters },
      failures: [...this.state.failures],
      ...debtOf(this.budget),
    };
  }

  private heartbeat(): void {
    activityContext()?.heartbeat({ ...this.state, ...debtOf(this.budget) } satisfies BackfillCheckpoint);
  }

  async run(): Promise<CopyRangeResult> {
    if (this.state.done) return this.result();
    const keepAlive = setInterval(() => this.heartbeat(), KEEP_ALIVE_MS);
    const deadline = Date.now() + (this.input.maxSeconds ?? BACKFILL_SECONDS) * 1000;
    const where = `${this.input.database}/${this.input.container} range ${this.input.feedRange}`;
    try {
      const options = await rangeQueryOptions(this.open.source, this.input.feedRange);
      const pages = new PageScan<MigrationDocument>(
        this.open.source,
        'SELECT * FROM c',
        { ...options, maxItemCount: this.input.batchSize },
        this.state.continuation,
        this.budget
      );
      // At least one page per attempt, however short maxSeconds: every attempt moves the range on.
      for (;;) {
        if (this.cancelled !== undefined) throw new CancelledFailure(failureMessage(this.cancelled), [this.result()]);
        const page = await pages.next();
        const tally: CopyCounters = { ...zeroCopyCounters(), read: page.docs.length, ruConsumed: page.charge };
        await this.copy(page.docs, tally);
        this.state.counters = addCopyCounters(this.state.counters, tally);
        this.state.continuation = page.continuation;
        this.state.done = page.continuation === undefined;
        this.heartbeat();
        if (this.state.counters.failed > this.input.maxFailures) {
          throw problemsExceeded(
            where,
            this.state.counters,
            this.state.failures,
            this.input.maxFailures,
            this.result()
          );
        }
        if (this.state.done || Date.now() >= deadline) break;
      }
      return this.result();
    } catch (err) {
      if (!isPartitionGone(err)) throw err;
      // The pages written are committed; the range's children are copied from their start (a Create met again is
      // read back and recognised as this document's copy: nothing doubles).
      throw ApplicationFailure.create({
        message: `feed range ${this.input.feedRange} of ${this.input.container} split while it was copied; list the feed ranges again and copy its children`,
        type: FEED_RANGE_SPLIT,
        nonRetryable: true,
        details: [this.result()],
        cause: err instanceof Error ? err : undefined,
      });
    } finally {
      clearInterval(keepAlive);
    }
  }

  /** Derives and creates the page's copies; a 409 is this document's own copy (upserted again) or a collision. */
  private async copy(docs: MigrationDocument[], tally: CopyCounters): Promise<void> {
    const { shape, target } = this.open;
    const copies: Copy[] = [];
    const inPage = new Map<string, string>();
    for (const doc of docs) {
      const sourcePk = partitionKeyOf(doc, shape.sourcePaths);
      const derived = await derive(shape, doc);
      if (derived.kind === 'fail') {
        recordProblem(this.state, tally, doc.id, sourcePk, derived.error);
        continue;
      }
      const at = JSON.stringify([derived.partitionKey ?? null, doc.id]);
      const other = inPage.get(at);
      if (other !== undefined && other !== derived.source) {
        recordProblem(this.state, tally, doc.id, sourcePk, collision(other));
        continue;
      }
      inPage.set(at, derived.source);
      copies.push({
        id: doc.id,
        sourcePk,
        doc: derived.doc,
        partitionKey: derived.partitionKey,
        source: derived.source,
      });
    }
    const charged = (ru: number) => (tally.ruConsumed += ru);
    const created = await this.writer.send(
      target,
      copies,
      (c) => ({
        operationType: BulkOperationType.Create,
        partitionKey: c.partitionKey as never,
        resourceBody: c.doc as unknown as JSONObject,
      }),
      { estimate: this.createCharge, onCharge: charged }
    );
    const again: Rewrite[] = [];
    for (const { item, status } of created) {
      if (status >= 200 && status < 300) {
        tally.written += 1;
      } else if (status === 409) {
        const existing = await readCurrent<MigrationDocument>(
          target,
          item.id,
          item.partitionKey as never,
          this.budget,
          charged
        );
        const owner = existing ? sourceKeyOf(existing, shape.sourcePaths) : undefined;
        if (owner === undefined || owner === item.source) {
          again.push({ ...item, ...(typeof existing?._etag === 'string' ? { etag: existing._etag } : {}) });
        } else recordProblem(this.state, tally, item.id, item.sourcePk, collision(owner));
      } else {
        recordProblem(this.state, tally, item.id, item.sourcePk, `create in the target failed with status ${status}`);
      }
    }
    if (again.length === 0) return;
    const upserted = await this.writer.send(
      target,
      again,
      (c) => ({
        operationType: BulkOperationType.Upsert,
        partitionKey: c.partitionKey as never,
        resourceBody: c.doc as unknown as JSONObject,
        // ETag-conditioned like every write over a document read: a copy changed since the read is not overwritten.
        ...(c.etag ? { ifMatch: c.etag } : {}),
      }),
      { estimate: this.createCharge, onCharge: charged }
    );
    for (const { item, status } of upserted) {
      if (status >= 200 && status < 300) tally.written += 1;
      // Written by another writer between the read and the upsert (the catch-up, which carries the latest change of
      // the source document): its version stands, nothing is lost.
      else if (status === 412) continue;
      else
        recordProblem(this.state, tally, item.id, item.sourcePk, `upsert in the target failed with status ${status}`);
    }
  }
}

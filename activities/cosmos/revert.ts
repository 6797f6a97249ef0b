/**
 * revertFromPreimages: the least destructive rollback (docs/architecture.md §5): a three-way revert of a migration's `up`,
 * like `git revert`, one feed range of the SOURCE at a time.
 *
 * The source is where the state before the migration comes from: the pre-images container (`{ kind: 'preimages' }`,
 * the pre-images of this migration), or a copy of the container restored at T0 (`{ kind: 'container' }`, its
 * documents the migration would have taken). For each source document (base), the live document with the same id and
 * partition key is read (theirs), `up(base)` is recomputed with the module's transform (ours), and:
 * - live missing: the application deleted it; left deleted (`deletedByApp`);
 * - live not at toVersion (not migrated, or moved on to another version): left (`unchanged`);
 * - live equals ours: replaced by base (`reverted`);
 * - otherwise the fields the migration changed and the application did not go back to base; fields both changed are
 *   conflicts, left as the application wrote them and listed; fields only the application changed stay (`merged`).
 * Every write is a replace conditioned on the live `_etag`; a 412 re-reads the document and decides again.
 * Documents the application created after T0 have no source document and are never read.
 *
 * Pages are read with a continuation token, checkpointed (heartbeated) after each page, so a retried attempt resumes
 * after the last committed page; `maxPages` returns a continuation for the next activity. RU-budgeted like
 * migrateRange. Results and heartbeats carry ids, partition keys, field names and counts only.
 */
import {
  BulkOperationType,
  type Container,
  type FeedOptions,
  type JSONObject,
  type PartitionKey,
  type SqlQuerySpec,
} from '@azure/cosmos';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import {
  FEED_RANGE_SPLIT,
  type DocumentFailure,
  type RevertConflict,
  type RevertCounters,
  type RevertInput,
  type RevertResult,
  type RuDebt,
} from '../../common/activities';
import type { MigrationDocument, Transform } from '../../common/migration';
import type { ActivityDeps } from '../deps';
import { BULK_LIMIT, BulkWriter } from './bulk-writer';
import { PageScan, readCurrent } from './budgeted-reads';
import { isPartitionGone, rangeQueryOptions } from './feed-ranges';
import { debtOf } from './migrate-range';
import { preimagesContainerName, type StoredPreimage } from './preimages';
import { activityContext } from './requests';
import { ChargeEstimate, RuBudget } from './ru-budget';
import { invalid, resolveTarget } from './target';
import { contentOf, differingFields, threeWay } from './three-way';
import { partitionKeyOf, readPartitionKeyPaths, runTransform } from './transform';
import { candidateQuery, isCandidate, type VersionRule } from './versions';

/** What a revert attempt heartbeats after every committed page, and resumes from on a retry. */
export interface RevertCheckpoint {
  continuation?: string;
  counters: RevertCounters;
  conflicts: RevertConflict[];
  failures: DocumentFailure[];
  /** RU still owed at the heartbeat (ru-budget.ts): a retried attempt starts owing it. */
  ruDebt?: RuDebt;
}

const MAX_LISTED = 100;
/** Heartbeats while pages are slow, well inside the heartbeat timeout (common/tuning.ts, 5 s). */
const KEEP_ALIVE_MS = 1000;
/** A document the application rewrites faster than we can revert it is given up on after this many 412s. */
const MAX_412_PER_DOCUMENT = 10;

export function zeroRevertCounters(): RevertCounters {
  return { scanned: 0, reverted: 0, merged: 0, conflicts: 0, deletedByApp: 0, unchanged: 0, failed: 0, ruConsumed: 0 };
}

function addRevertCounters(a: RevertCounters, b: RevertCounters): RevertCounters {
  const sum = zeroRevertCounters();
  for (const key of Object.keys(sum) as (keyof RevertCounters)[]) sum[key] = a[key] + b[key];
  return sum;
}

/** One document to revert: base from the source, and where its live document is. */
interface Item {
  id: string;
  /** As the SDK takes it (undefined: the document has no value at the key's path). */
  partitionKey: PartitionKey | undefined;
  base: Record<string, unknown>;
  /** 412s met so far. */
  attempts: number;
}

/** A decision that writes, and the document it is for. */
interface Write {
  item: Item;
  decision: Extract<Decision, { kind: 'write' }>;
}

/** What to do with a live document. */
type Decision =
  | { kind: 'leave'; counter: 'deletedByApp' | 'unchanged' }
  | { kind: 'conflictOnly'; conflicts: string[] }
  | { kind: 'write'; doc: Record<string, unknown>; etag: string; counter: 'reverted' | 'merged'; conflicts: string[] };

class RangeRevert {
  private readonly budget: RuBudget;
  /** Every bulk request goes through it (budget, Low priority, throttling, resends: bulk-writer.ts). */
  private readonly writer: BulkWriter;
  private readonly readCharge = new ChargeEstimate(1);
  private readonly writeCharge = new ChargeEstimate(10);
  private cancelled = false;
  private cancelError: unknown;

  constructor(
    private readonly live: Container,
    private readonly source: Container,
    private readonly sourceQuery: SqlQuerySpec,
    private readonly queryOptions: FeedOptions,
    private readonly input: RevertInput,
    private readonly rule: VersionRule,
    private readonly up: Transform,
    private readonly pkPaths: string[],
    private readonly fromPreimages: boolean,
    private readonly state: RevertCheckpoint
  ) {
    this.budget = new RuBudget(input.ruBudget, state.ruDebt ?? input.ruDebt);
    this.writer = new BulkWriter(this.budget);
    const ctx = activityContext();
    if (ctx) {
      ctx.cancelled.catch((err) => {
        this.cancelled = true;
        this.cancelError = err;
      });
    }
  }

  async run(): Promise<RevertResult> {
    const keepAlive = setInterval(() => this.heartbeat(), KEEP_ALIVE_MS);
    try {
      return await this.revert();
    } catch (err) {
      if (!isPartitionGone(err)) throw err;
      // The source range split (or moved) under the scan. Every page before was committed; the workflow replaces the
      // range by its children, each scanned from its start: what this range reverted is no longer at the new version
      // (left as it is the second time), so nothing is reverted twice or missed.
      this.heartbeat();
      throw ApplicationFailure.create({
        message: `feed range ${this.input.feedRange} of the revert's source split while it was read; list the feed ranges again and revert its children from their start`,
        type: FEED_RANGE_SPLIT,
        nonRetryable: true,
        details: [this.result(false)],
        cause: err instanceof Error ? err : undefined,
      });
    } finally {
      clearInterval(keepAlive);
    }
  }

  /** Pages of the source from the checkpoint, one iterator for the whole scan (budgeted-reads.ts). */
  private async revert(): Promise<RevertResult> {
    const pages = new PageScan<Record<string, unknown>>(
      this.source,
      this.sourceQuery,
      { ...this.queryOptions, maxItemCount: this.input.batchSize ?? 100 },
      this.state.continuation,
      this.budget
    );
    for (let count = 0; ; count += 1) {
      if (this.cancelled) {
        this.heartbeat();
        // What this attempt did, as a result would, so the workflow counts it and resumes from the continuation.
        throw new CancelledFailure(describeCancel(this.cancelError), [this.result(false)]);
      }
      if (this.input.maxPages !== undefined && count >= this.input.maxPages) return this.result(false);
      const counters = zeroRevertCounters();
      const page = await pages.next();
      counters.ruConsumed += page.charge;
      await this.processPage(page.docs, counters);
      this.state.counters = addRevertCounters(this.state.counters, counters);
      this.state.continuation = page.continuation;
      this.heartbeat();
      if (!page.continuation) return this.result(true);
    }
  }

  private result(done: boolean): RevertResult {
    return {
      done,
      ...(done ? {} : { continuation: this.state.continuation }),
      counters: { ...this.state.counters },
      conflicts: [...this.state.conflicts],
      failures: [...this.state.failures],
      ...debtOf(this.budget),
    };
  }

  private heartbeat(): void {
    activityContext()?.heartbeat({
      ...this.state,
      counters: { ...this.state.counters },
      ...debtOf(this.budget),
    } satisfies RevertCheckpoint);
  }

  /** Books a request's charge on the page's counters. */
  private charged(counters: RevertCounters): (ru: number) => void {
    return (ru) => (counters.ruConsumed += ru);
  }

  /** A source document as an item to revert; undefined (counted) when it is not one. */
  private itemOf(doc: Record<string, unknown>, counters: RevertCounters): Item | undefined {
    let base: Record<string, unknown>;
    if (this.fromPreimages) {
      const preimage = doc as StoredPreimage;
      const image = preimage.image;
      if (!image || typeof image !== 'object' || typeof image.id !== 'string' || image.id !== preimage.docId) {
        this.fail(
          { id: String(preimage.docId ?? doc.id), partitionKey: null, error: 'pre-image without a valid image' },
          counters
        );
        return undefined;
      }
      base = image;
    } else {
      base = contentOf(doc);
    }
    return { id: base.id as string, partitionKey: partitionKeyOf(base, this.pkPaths), base, attempts: 0 };
  }

  private fail(failure: DocumentFailure, counters: RevertCounters): void {
    counters.failed += 1;
    if (this.state.failures.length < MAX_LISTED) this.state.failures.push(failure);
  }

  private listConflict(item: Item, fields: string[], counters: RevertCounters): void {
    counters.conflicts += 1;
    if (this.state.conflicts.length < MAX_LISTED) {
      this.state.conflicts.push({ id: item.id, partitionKey: item.partitionKey ?? null, fields });
    }
  }

  private async processPage(docs: Record<string, unknown>[], counters: RevertCounters): Promise<void> {
    const items: Item[] = [];
    for (const doc of docs) {
      counters.scanned += 1;
      const item = this.itemOf(doc, counters);
      if (!item) continue;
      // Not a document the migration takes (a restored copy holds every document at T0): not ours to revert.
      if (!isCandidate(this.rule, item.base as MigrationDocument)) counters.unchanged += 1;
      else items.push(item);
    }
    for (let i = 0; i < items.length; i += BULK_LIMIT) {
      const chunk = items.slice(i, i + BULK_LIMIT);
      const lives = await this.readLive(chunk, counters);
      await this.settle(chunk, lives, counters);
    }
  }

  /** The live documents of `items` (undefined: not found), with bulk Reads through the one writer. */
  private async readLive(items: Item[], counters: RevertCounters): Promise<(MigrationDocument | undefined)[]> {
    const indexed = items.map((item, index) => ({ item, index }));
    const outcomes = await this.writer.send(
      this.live,
      indexed,
      ({ item }) => ({ operationType: BulkOperationType.Read, id: item.id, partitionKey: item.partitionKey }),
      { estimate: this.readCharge, onCharge: this.charged(counters) }
    );
    const found = new Array<MigrationDocument | undefined>(items.length).fill(undefined);
    for (const { item, status, body } of outcomes) {
      if (status >= 200 && status < 300) found[item.index] = body as unknown as MigrationDocument;
      else if (status !== 404) throw new Error(`reading ${item.item.id} failed with status ${status}`);
    }
    return found;
  }

  /** The three-way decision for one document. */
  private async decide(item: Item, live: MigrationDocument | undefined): Promise<Decision> {
    if (!live) return { kind: 'leave', counter: 'deletedByApp' };
    // Not migrated (still at fromVersion: a pre-image stored just before a crash, or a 404/412 race), or moved on
    // to a version another migration owns: nothing of this migration to revert.
    if (live[this.rule.field] !== this.rule.to) return { kind: 'leave', counter: 'unchanged' };
    const outcome = await runTransform(this.up, item.base as MigrationDocument, this.rule, this.pkPaths);
    if (outcome.kind !== 'change') {
      // up() does not change the base now (it skips it or throws), yet the document was migrated: what the migration
      // wrote cannot be recomputed, so every field that differs from base counts as changed by both.
      const fields = differingFields(item.base, live);
      return fields.length > 0 ? { kind: 'conflictOnly', conflicts: fields } : { kind: 'leave', counter: 'unchanged' };
    }
    const merge = threeWay(item.base, outcome.doc, live);
    if (merge.reverted.length === 0) {
      return merge.conflicts.length > 0
        ? { kind: 'conflictOnly', conflicts: merge.conflicts }
        : { kind: 'leave', counter: 'unchanged' };
    }
    return {
      kind: 'write',
      doc: merge.result,
      etag: live._etag as string,
      counter: merge.untouchedSince ? 'reverted' : 'merged',
      conflicts: merge.conflicts,
    };
  }

  /** Counts a decision that writes nothing; returns the write, if it is one. */
  private account(item: Item, decision: Decision, counters: RevertCounters): Write | undefined {
    if (decision.kind === 'leave') counters[decision.counter] += 1;
    else if (decision.kind === 'conflictOnly') this.listConflict(item, decision.conflicts, counters);
    else return { item, decision };
    return undefined;
  }

  /** Decides for each item and writes the decisions, re-reading and deciding again after a 412. */
  private async settle(items: Item[], lives: (MigrationDocument | undefined)[], counters: RevertCounters) {
    const writes: Write[] = [];
    for (let i = 0; i < items.length; i += 1) {
      const write = this.account(items[i]!, await this.decide(items[i]!, lives[i]), counters);
      if (write) writes.push(write);
    }
    const outcomes = await this.writer.send(
      this.live,
      writes,
      ({ item, decision }) => ({
        operationType: BulkOperationType.Replace,
        id: item.id,
        partitionKey: item.partitionKey,
        ifMatch: decision.etag,
        resourceBody: decision.doc as JSONObject,
      }),
      {
        estimate: this.writeCharge,
        onCharge: this.charged(counters),
        // The application wrote the document after we read it: read it again and decide again, never overwrite.
        onPreconditionFailed: async ({ item }) => {
          item.attempts += 1;
          if (item.attempts > MAX_412_PER_DOCUMENT) {
            this.fail(
              {
                id: item.id,
                partitionKey: item.partitionKey ?? null,
                error: `changed by another writer ${MAX_412_PER_DOCUMENT} times while reverting; left as it is`,
              },
              counters
            );
            return undefined;
          }
          const fresh = await readCurrent<MigrationDocument>(
            this.live,
            item.id,
            item.partitionKey,
            this.budget,
            this.charged(counters)
          );
          return this.account(item, await this.decide(item, fresh), counters);
        },
      }
    );
    for (const { item: write, status } of outcomes) {
      const { item, decision } = write;
      if (status >= 200 && status < 300) {
        counters[decision.counter] += 1;
        if (decision.conflicts.length > 0) this.listConflict(item, decision.conflicts, counters);
      } else if (status === 404) {
        counters.deletedByApp += 1;
      } else {
        this.fail(
          { id: item.id, partitionKey: item.partitionKey ?? null, error: `replace failed with status ${status}` },
          counters
        );
      }
    }
  }
}

function describeCancel(err: unknown): string {
  return err instanceof Error ? err.message : 'cancelled';
}

export async function revertFromPreimages(deps: ActivityDeps, input: RevertInput): Promise<RevertResult> {
  const target = resolveTarget(deps.registry, { ...input, direction: 'up' });
  if (!target.rule || !target.transform) {
    throw invalid(`migration ${target.definition.id} has no up() with versions: there is nothing to revert`);
  }
  const live = deps.cosmos.database(target.database).container(target.container);
  const pkPaths = await readPartitionKeyPaths(live);
  const fromPreimages = input.source.kind === 'preimages';
  const source =
    input.source.kind === 'preimages'
      ? live.database.container(preimagesContainerName(target.container))
      : deps.cosmos.database(input.source.database).container(input.source.container);
  const sourceQuery: SqlQuerySpec = fromPreimages
    ? {
        query: 'SELECT * FROM c WHERE c.migrationId = @migrationId',
        parameters: [{ name: '@migrationId', value: target.definition.id }],
      }
    : candidateQuery(target.rule);
  const queryOptions = await rangeQueryOptions(source, input.feedRange);
  const resumed = activityContext()?.info.heartbeatDetails as RevertCheckpoint | undefined;
  const state: RevertCheckpoint = resumed
    ? {
        ...resumed,
        counters: { ...resumed.counters },
        conflicts: [...resumed.conflicts],
        failures: [...resumed.failures],
      }
    : { continuation: input.continuation, counters: zeroRevertCounters(), conflicts: [], failures: [] };
  return new RangeRevert(
    live,
    source,
    sourceQuery,
    queryOptions,
    input,
    target.rule,
    target.transform,
    pkPaths,
    fromPreimages,
    state
  ).run();
}

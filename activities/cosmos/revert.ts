/**
 * revertFromPreimages: the least destructive rollback (docs/architecture.md §5), decided per document, never per field:
 * a migration's fields derive from each other (`name` ↔ `firstName`/`lastName`), so a document is either given back
 * whole or left whole as the application wrote it.
 *
 * One feed range of the LIVE container at a time, scanning what a rollback must take back: the documents at the
 * migration's toVersion. For each page, the documents as they were before the migration (the base) are read with one
 * bulk Read: their pre-images (`{ kind: 'preimages' }`), or their copies in a container restored at T0
 * (`{ kind: 'container' }`). Then, for each live document:
 * - no base: the application created it (after T0, or an earlier run left it at toVersion) → `down(live)` when the
 *   run says the module's down() is proved (`down: true`), otherwise left as it is and named (`created`);
 * - a base of another document (the pre-image's `ridBefore` differs from the live `_rid`: deleted and re-created under
 *   the same id) → the application's document: `down(live)` when proved, otherwise named (`recreated`);
 * - unchanged since the migration wrote it (its content is `up(base)`) → the base, ETag-conditioned (`reverted`);
 * - changed by the application since → `down(live)` when proved, otherwise named (`changed`).
 * A field of the base is never copied into a document that changed since. Documents the application deleted are not at
 * toVersion: they stay deleted. Every write is a replace conditioned on the live `_etag`; a 412 re-reads the document
 * and decides again. Conflicts name the id and partition key, never contents.
 *
 * `up(base)` must be deterministic for an unchanged document to be recognised: a transform that stamps the time makes
 * every document look changed, and they are named (never overwritten).
 *
 * Pages are read with one iterator per scan (budgeted-reads.ts), checkpointed (heartbeated) after each page, so a
 * retried attempt resumes after the last committed page; `maxPages` returns a continuation for the next activity.
 * Every request goes through the one bulk writer (Low priority, the RU budget, resends only with ifMatch).
 */
import { BulkOperationType, type Container, type FeedOptions, type JSONObject, type PartitionKey } from '@azure/cosmos';
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
import { addRevertCounters, zeroRevertCounters } from '../../common/counters';
import type { MigrationDocument, Transform } from '../../common/migration';
import type { ActivityDeps } from '../deps';
import { BulkWriter } from './bulk-writer';
import { PageScan, readCurrent } from './budgeted-reads';
import { isPartitionGone, rangeQueryOptions } from './feed-ranges';
import { debtOf } from './migrate-range';
import { preimageOf, preimagesContainerName, type StoredPreimage } from './preimages';
import { activityContext } from './requests';
import { ChargeEstimate, RuBudget } from './ru-budget';
import { invalid, resolveTarget } from './target';
import { contentOf, sameValue } from './content';
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

/** Where the bases come from, and how a live document's base is found there. */
interface BaseSource {
  container: Container;
  /** The id and partition key of `live`'s base in `container`. */
  locate(live: MigrationDocument): { id: string; partitionKey: PartitionKey };
  /** The base's content and, when known, the `_rid` the document had before the migration. */
  baseOf(found: Record<string, unknown>): { base: Record<string, unknown>; rid?: string } | undefined;
}

/** One live document at toVersion, and what is known of it. */
interface Item {
  live: MigrationDocument;
  base?: { base: Record<string, unknown>; rid?: string };
  /** 412s met so far. */
  attempts: number;
}

type ConflictReason = RevertConflict['reason'];

/** What to do with a live document. */
type Decision =
  | { kind: 'leave' }
  | { kind: 'conflict'; reason: ConflictReason }
  | { kind: 'fail'; error: string }
  | { kind: 'write'; doc: Record<string, unknown>; counter: 'reverted' | 'down' };

/** A decision that writes, and the document it is for. */
interface Write {
  item: Item;
  decision: Extract<Decision, { kind: 'write' }>;
}

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
    private readonly source: BaseSource,
    private readonly queryOptions: FeedOptions,
    private readonly input: RevertInput,
    /** The up rule: documents at `rule.to` are the migration's. */
    private readonly rule: VersionRule,
    private readonly up: Transform,
    /** The module's down(), when the run proved it: what changed documents get. */
    private readonly down: { rule: VersionRule; transform: Transform } | undefined,
    private readonly pkPaths: string[],
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
      // The range split (or moved) under the scan. Every page before was committed; the workflow replaces the range
      // by its children, each scanned from its start: what this range reverted is no longer at toVersion, so nothing
      // is reverted twice or missed.
      this.heartbeat();
      throw ApplicationFailure.create({
        message: `feed range ${this.input.feedRange} of ${this.input.container} split while it was reverted; list the feed ranges again and revert its children from their start`,
        type: FEED_RANGE_SPLIT,
        nonRetryable: true,
        details: [this.result(false)],
        cause: err instanceof Error ? err : undefined,
      });
    } finally {
      clearInterval(keepAlive);
    }
  }

  /** Pages of the live documents at toVersion from the checkpoint, one iterator for the whole scan. */
  private async revert(): Promise<RevertResult> {
    const pages = new PageScan<MigrationDocument>(
      this.live,
      candidateQuery({ ...this.rule, direction: 'down' }),
      { ...this.queryOptions, maxItemCount: this.input.batchSize ?? 100 },
      this.state.continuation,
      this.budget
    );
    for (let count = 0; ; count += 1) {
      if (this.cancelled) {
        this.heartbeat();
        // What this attempt did, as a result would, so the workflow counts it and resumes from the continuation.
        throw new CancelledFailure(this.cancelError instanceof Error ? this.cancelError.message : 'cancelled', [
          this.result(false),
        ]);
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

  private keyOf(doc: MigrationDocument): { id: string; partitionKey: unknown } {
    return { id: doc.id, partitionKey: partitionKeyOf(doc, this.pkPaths) ?? null };
  }

  private fail(doc: MigrationDocument, error: string, counters: RevertCounters): void {
    counters.failed += 1;
    if (this.state.failures.length < MAX_LISTED) this.state.failures.push({ ...this.keyOf(doc), error });
  }

  private listConflict(doc: MigrationDocument, reason: ConflictReason, counters: RevertCounters): void {
    counters.conflicts += 1;
    if (this.state.conflicts.length < MAX_LISTED) this.state.conflicts.push({ ...this.keyOf(doc), reason });
  }

  private async processPage(docs: MigrationDocument[], counters: RevertCounters): Promise<void> {
    counters.scanned += docs.length;
    const items: Item[] = docs.map((live) => ({ live, attempts: 0 }));
    await this.readBases(items, counters);
    const writes: Write[] = [];
    for (const item of items) {
      const write = this.account(item, await this.decide(item), counters);
      if (write) writes.push(write);
    }
    await this.write(writes, counters);
  }

  /** The base of each item (absent: none), with bulk Reads in the source through the one writer. */
  private async readBases(items: Item[], counters: RevertCounters): Promise<void> {
    const outcomes = await this.writer.send(
      this.source.container,
      items,
      (item) => ({ operationType: BulkOperationType.Read, ...this.source.locate(item.live) }),
      { estimate: this.readCharge, onCharge: this.charged(counters) }
    );
    for (const { item, status, body } of outcomes) {
      if (status >= 200 && status < 300 && body) item.base = this.source.baseOf(body);
      else if (status !== 404) throw new Error(`reading the base of ${item.live.id} failed with status ${status}`);
    }
  }

  /** The decision for one live document (see the file comment). */
  private async decide(item: Item): Promise<Decision> {
    const { live, base } = item;
    // Re-read after a 412: gone (deleted) or no longer at toVersion (the application moved it on, or reverted it).
    if (!isCandidate({ ...this.rule, direction: 'down' }, live)) return { kind: 'leave' };
    if (!base) return this.applicationDocument(live, 'created');
    if (base.rid !== undefined && typeof live._rid === 'string' && live._rid !== base.rid) {
      return this.applicationDocument(live, 'recreated');
    }
    const ours = await runTransform(this.up, base.base as MigrationDocument, this.rule, this.pkPaths);
    if (ours.kind === 'change' && sameContent(ours.doc, live)) {
      return { kind: 'write', doc: base.base, counter: 'reverted' };
    }
    return this.applicationDocument(live, 'changed');
  }

  /** A document the application wrote since (or created): down(live) when proved, otherwise named and left. */
  private async applicationDocument(live: MigrationDocument, reason: ConflictReason): Promise<Decision> {
    if (!this.down) return { kind: 'conflict', reason };
    const outcome = await runTransform(this.down.transform, live, this.down.rule, this.pkPaths);
    if (outcome.kind === 'change') return { kind: 'write', doc: outcome.doc, counter: 'down' };
    if (outcome.kind === 'fail') return { kind: 'fail', error: outcome.error };
    return { kind: 'conflict', reason }; // down() skips it: it stays at toVersion, named
  }

  /** Counts a decision that writes nothing; returns the write, if it is one. */
  private account(item: Item, decision: Decision, counters: RevertCounters): Write | undefined {
    if (decision.kind === 'leave') counters.unchanged += 1;
    else if (decision.kind === 'conflict') this.listConflict(item.live, decision.reason, counters);
    else if (decision.kind === 'fail') this.fail(item.live, decision.error, counters);
    else return { item, decision };
    return undefined;
  }

  /** Writes the decisions, each conditioned on the live `_etag`; a 412 re-reads the document and decides again. */
  private async write(writes: Write[], counters: RevertCounters): Promise<void> {
    const outcomes = await this.writer.send(
      this.live,
      writes,
      ({ item, decision }) => ({
        operationType: BulkOperationType.Replace,
        id: item.live.id,
        partitionKey: partitionKeyOf(item.live, this.pkPaths),
        ifMatch: item.live._etag as string,
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
              item.live,
              `changed by another writer ${MAX_412_PER_DOCUMENT} times while reverting; left as it is`,
              counters
            );
            return undefined;
          }
          const fresh = await readCurrent<MigrationDocument>(
            this.live,
            item.live.id,
            partitionKeyOf(item.live, this.pkPaths),
            this.budget,
            this.charged(counters)
          );
          if (!fresh) {
            counters.unchanged += 1; // deleted meanwhile: stays deleted
            return undefined;
          }
          item.live = fresh;
          return this.account(item, await this.decide(item), counters);
        },
      }
    );
    for (const { item: write, status } of outcomes) {
      if (status >= 200 && status < 300) counters[write.decision.counter] += 1;
      else if (status === 404)
        counters.unchanged += 1; // deleted meanwhile: stays deleted
      else this.fail(write.item.live, `replace failed with status ${status}`, counters);
    }
  }
}

/** The same document content (system fields aside, JSON key order aside). */
function sameContent(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  return sameValue(contentOf(a), contentOf(b));
}

/** Pre-images of `migration`: the base of a live document is the image its pre-image keeps. */
function preimageSource(container: Container, migration: string, pkPaths: string[]): BaseSource {
  return {
    container,
    locate: (live) => {
      // Where migrateRange stored it: the same id and partition key as a pre-image of this document (preimages.ts).
      const key = preimageOf(migration, live, pkPaths, '');
      return { id: key.id, partitionKey: partitionKeyOf(key, pkPaths) };
    },
    baseOf: (found) => {
      const preimage = found as unknown as StoredPreimage;
      const image = preimage.image;
      if (!image || typeof image !== 'object' || preimage.migrationId !== migration) return undefined;
      return { base: image, ...(typeof preimage.ridBefore === 'string' ? { rid: preimage.ridBefore } : {}) };
    },
  };
}

/** A container restored at T0: the base is the document with the same id and partition key (its `_rid` is new). */
function copySource(container: Container, pkPaths: string[]): BaseSource {
  return {
    container,
    locate: (live) => ({ id: live.id, partitionKey: partitionKeyOf(live, pkPaths) }),
    baseOf: (found) => ({ base: contentOf(found) }),
  };
}

export async function revertFromPreimages(deps: ActivityDeps, input: RevertInput): Promise<RevertResult> {
  const target = resolveTarget(deps.registry, { ...input, direction: 'up' });
  if (!target.rule || !target.transform) {
    throw invalid(`migration ${target.definition.id} has no up() with versions: there is nothing to revert`);
  }
  let down: { rule: VersionRule; transform: Transform } | undefined;
  if (input.down) {
    const reverse = resolveTarget(deps.registry, { ...input, direction: 'down' });
    if (!reverse.rule || !reverse.transform) {
      throw invalid(`migration ${target.definition.id} has no down(): changed documents cannot be given back by it`);
    }
    down = { rule: reverse.rule, transform: reverse.transform };
  }
  const live = deps.cosmos.database(target.database).container(target.container);
  const pkPaths = await readPartitionKeyPaths(live);
  const source =
    input.source.kind === 'preimages'
      ? preimageSource(live.database.container(preimagesContainerName(target.container)), target.definition.id, pkPaths)
      : copySource(deps.cosmos.database(input.source.database).container(input.source.container), pkPaths);
  const queryOptions = await rangeQueryOptions(live, input.feedRange);
  const resumed = activityContext()?.info.heartbeatDetails as RevertCheckpoint | undefined;
  const state: RevertCheckpoint = resumed
    ? {
        ...resumed,
        counters: { ...resumed.counters },
        conflicts: [...resumed.conflicts],
        failures: [...resumed.failures],
      }
    : { continuation: input.continuation, counters: zeroRevertCounters(), conflicts: [], failures: [] };
  return new RangeRevert(live, source, queryOptions, input, target.rule, target.transform, down, pkPaths, state).run();
}

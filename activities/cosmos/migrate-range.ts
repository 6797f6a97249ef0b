/**
 * migrateRange: the migration of one feed range (docs/architecture.md §4).
 *
 * The candidate query (documents at the version this direction migrates) is scanned in pages with a continuation
 * token. Pages are transformed and written with bulk Replace operations conditioned on each document's _etag, so a
 * document the application changed meanwhile is re-read and re-transformed, never overwritten. Up to `concurrency`
 * pages are in flight; the continuation is committed (heartbeated) only once every page before it is written, so a
 * retried attempt resumes after the last committed page. Migrated documents leave the candidate set; once the scan
 * is exhausted a final pass re-queries until no candidate the transform would change remains.
 *
 * With `preimages`, every write round is two bulk rounds: first the pre-images of the documents about to be replaced
 * (Upsert into `<container>-preimages`), then the replaces of those whose pre-image is stored. A document is never
 * replaced before its pre-image of the very version being replaced is stored: a 412 re-read makes new work whose
 * pre-image is written again before its replace is retried.
 */
import {
  BulkOperationType,
  ChangeFeedStartFrom,
  PriorityLevel,
  type ChangeFeedPullModelIterator,
  type Container,
  type FeedOptions,
  type JSONObject,
} from '@azure/cosmos';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import {
  FAILURE_THRESHOLD_EXCEEDED,
  FEED_RANGE_SPLIT,
  MIGRATION_INVALID,
  type CatchUpInput,
  type CatchUpResult,
  type DocumentFailure,
  type MigrateRangeInput,
  type MigrateRangeResult,
  type MigrationCounters,
  type RuDebt,
} from '../../common/activities';
import { addCounters, zeroCounters } from '../../common/counters';
import type { MigrationDocument, Transform } from '../../common/migration';
import type { ActivityDeps } from '../deps';
import { isPartitionGone, parseFeedRange, rangeQueryOptions } from './feed-ranges';
import { BULK_LIMIT, BulkWriter } from './bulk-writer';
import { pageSizeWithin, PageScan, readCurrent, readFeedPage } from './budgeted-reads';
import { activityContext } from './requests';
import { failureMessage } from '../../common/failure-message';
import { openPreimagesContainer, preimageOf } from './preimages';
import { AdaptiveConcurrency, ChargeEstimate, RuBudget } from './ru-budget';
import { resolveTarget } from './target';
import { partitionKeyOf, readPartitionKeyPaths, runTransform } from './transform';
import { candidateQuery, isCandidate, type VersionRule } from './versions';

/** What a migrateRange attempt heartbeats after every committed page, and resumes from on a retry. */
export interface RangeCheckpoint {
  /** 'scan': the main scan, resuming at `continuation` (absent: from the start); 'final': the final pass. */
  phase: 'scan' | 'final';
  continuation?: string;
  counters: MigrationCounters;
  failures: DocumentFailure[];
  /** With `preimages`: pre-images upserted by the committed pages. */
  preimagesWritten?: number;
  /** RU still owed at the heartbeat (ru-budget.ts): a retried attempt starts owing it. */
  ruDebt?: RuDebt;
}

/** Failures kept in full (ids and messages); the counter keeps counting past it. */
const MAX_RECORDED_FAILURES = 100;
/** How often the committed state is heartbeated while pages are slow (well inside the 5 s heartbeat timeout). */
const KEEP_ALIVE_MS = 1000;
/** A document the application rewrites faster than we can migrate it is given up on after this many 412s. */
const MAX_CONFLICTS_PER_DOCUMENT = 10;
/**
 * Passes of the final pass after the scan. An application still writing documents at the old version would otherwise
 * be chased forever: what the last pass leaves is counted (`rewrittenByApp`) and left to verification to report.
 */
export const MAX_FINAL_PASSES = 3;
/**
 * Keys of skipped or failed documents remembered so the final pass does not transform them again. Beyond this many
 * the final pass re-reads and re-transforms them (bounded by MAX_FINAL_PASSES, counted nowhere): memory stays bounded
 * on a container of millions of documents the transform skips.
 */
export const MAX_SETTLED_KEYS = 10_000;
interface Work {
  original: MigrationDocument;
  doc: MigrationDocument;
  conflicts: number;
}

/** What one page adds to the checkpoint when it is committed. */
interface PageTally {
  counters: MigrationCounters;
  preimages: number;
}

type StopReason = 'exhausted' | 'maxPages' | 'cancelled';

class RangeMigration {
  private readonly budget: RuBudget;
  /** Every bulk request goes through it (budget, throttling, resends: bulk-writer.ts). */
  private readonly writer: BulkWriter;
  /** What a replace and a pre-image upsert cost, learned from the responses (first guesses: 10 RU each). */
  private readonly writeCharge = new ChargeEstimate(10);
  private readonly preimageCharge = new ChargeEstimate(10);
  private readonly concurrency = new AdaptiveConcurrency(4, 8);
  /**
   * Documents skipped or failed in this attempt, so the final pass does not transform them again and again. Capped
   * at MAX_SETTLED_KEYS (see `settle`).
   */
  private readonly settled = new Set<string>();
  private cancelled = false;
  private cancelError: unknown;
  private readonly startedAt = Date.now();
  private migratedThisAttempt = 0;

  constructor(
    private readonly container: Container,
    private readonly queryOptions: FeedOptions,
    private readonly input: MigrateRangeInput,
    private readonly rule: VersionRule,
    private readonly transform: Transform,
    private readonly pkPaths: string[],
    private readonly state: RangeCheckpoint,
    /** Where pre-images go; absent: none are kept. */
    private readonly preimages?: Container
  ) {
    this.budget = new RuBudget(input.ruBudget, state.ruDebt ?? input.ruDebt);
    this.writer = new BulkWriter(this.budget, this.concurrency);
    for (const f of state.failures) this.settle(keyOf(f.id, f.partitionKey));
    const ctx = activityContext();
    if (ctx) {
      ctx.cancelled.catch((err) => {
        this.cancelled = true;
        this.cancelError = err;
      });
    }
  }

  async run(): Promise<MigrateRangeResult> {
    // Pages can take long under a small RU budget or heavy throttling: keep heartbeating the last committed state,
    // so the heartbeat timeout measures a stuck worker, not a slow page (and cancellation still gets through).
    const keepAlive = setInterval(() => this.heartbeat(), KEEP_ALIVE_MS);
    try {
      return await this.migrate();
    } catch (err) {
      if (!isPartitionGone(err)) throw err;
      // The range split (or moved) under the scan. The pages in flight were written and committed before the scan
      // gave up (see `scan`), so what this attempt migrated is no longer a candidate: the workflow replaces the range
      // by its children, each scanned from its start, and nothing is migrated twice or missed.
      this.heartbeat();
      throw ApplicationFailure.create({
        message: `feed range ${this.input.feedRange} of ${this.input.container} split while it was migrated (${describeGone(err)}); list the feed ranges again and migrate its children from their start`,
        type: FEED_RANGE_SPLIT,
        nonRetryable: true,
        details: [{ ...this.state.counters }, [...this.state.failures]],
        cause: err instanceof Error ? err : undefined,
      });
    } finally {
      clearInterval(keepAlive);
    }
  }

  /**
   * The catch-up: the range's change feed followed page by page until its head (a 304, or an empty page) or `maxMs`,
   * migrating every document it returns still in the old shape through the same transform and writes as the scan (its
   * own writes come back in the feed at the new version and are passed over). The continuation is committed
   * (heartbeated) after each page, so a retried attempt resumes after the last page written.
   */
  async followFeed(feed: ChangeFeedPullModelIterator<MigrationDocument>, maxMs: number): Promise<CatchUpResult> {
    const keepAlive = setInterval(() => this.heartbeat(), KEEP_ALIVE_MS);
    const deadline = Date.now() + maxMs;
    const estimate = new ChargeEstimate(5);
    const follow = { done: false, oldShapeSeen: 0, lastOldShapeAt: undefined as number | undefined, secondsBehind: 0 };
    const result = (): CatchUpResult => ({
      done: follow.done,
      ...(this.state.continuation ? { continuation: this.state.continuation } : {}),
      counters: { ...this.state.counters },
      failures: [...this.state.failures],
      oldShapeSeen: follow.oldShapeSeen,
      ...(follow.lastOldShapeAt ? { lastOldShapeAt: new Date(follow.lastOldShapeAt).toISOString() } : {}),
      secondsBehind: follow.secondsBehind,
      ...debtOf(this.budget),
    });
    try {
      while (!follow.done && Date.now() < deadline) {
        if (this.cancelled) throw new CancelledFailure(failureMessage(this.cancelError), [result()]);
        const { response, charge } = await readFeedPage(this.container, feed, this.budget, estimate);
        const tally: PageTally = { counters: { ...zeroCounters(), ruConsumed: charge }, preimages: 0 };
        const docs = response.result ?? [];
        if (response.statusCode === 304 || docs.length === 0) {
          follow.done = true;
          follow.secondsBehind = 0;
        } else {
          const newest = Math.max(...docs.map((d) => Number(d._ts ?? 0)));
          follow.secondsBehind = Math.max(0, Math.round(Date.now() / 1000 - newest));
          const old = docs.filter((d) => isCandidate(this.rule, d));
          if (old.length > 0) {
            follow.oldShapeSeen += old.length;
            follow.lastOldShapeAt = Date.now();
            await this.processPage(old, tally, false);
          }
        }
        this.state.counters = addCounters(this.state.counters, tally.counters);
        if (this.preimages) this.state.preimagesWritten = (this.state.preimagesWritten ?? 0) + tally.preimages;
        this.state.continuation = response.continuationToken || this.state.continuation;
        this.heartbeat();
        if (this.overThreshold()) {
          // With what this attempt did and where its feed stands, so the workflow goes on after the pages committed.
          const over = this.thresholdExceeded();
          throw ApplicationFailure.create({
            message: over.message,
            type: over.type ?? undefined,
            nonRetryable: true,
            details: [result()],
          });
        }
      }
      return result();
    } catch (err) {
      if (!isPartitionGone(err)) throw err;
      throw ApplicationFailure.create({
        message: `feed range ${this.input.feedRange} of ${this.input.container} split while its change feed was read; list the feed ranges again and follow its children`,
        type: FEED_RANGE_SPLIT,
        nonRetryable: true,
        details: [result()],
        cause: err instanceof Error ? err : undefined,
      });
    } finally {
      clearInterval(keepAlive);
    }
  }

  /** Remembers a skipped or failed document for the final pass, up to MAX_SETTLED_KEYS. */
  private settle(key: string): void {
    if (this.settled.size < MAX_SETTLED_KEYS) this.settled.add(key);
  }

  private async migrate(): Promise<MigrateRangeResult> {
    if (this.state.phase === 'scan') {
      const stop = await this.scan(this.state.continuation, this.input.maxPages, false);
      if (stop === 'maxPages') return this.result(false);
      this.checkCancelled();
      this.state.phase = 'final';
      this.state.continuation = undefined;
      this.heartbeat();
    }
    // Final pass: documents the scan could not see (a continuation never skips on Cosmos or the emulator, but a
    // concurrent writer can put a document back at the old version, or create one) are picked up until a pass
    // changes nothing, at most MAX_FINAL_PASSES times: an application that keeps writing the old version is not
    // chased forever. What the passes find is counted as `rewrittenByApp`; what the last one leaves, verification
    // reports. A dry run writes nothing, so every candidate would come back: it stops after the scan.
    if (!this.input.dryRun) {
      for (let pass = 0; pass < MAX_FINAL_PASSES; pass += 1) {
        const before = this.state.counters.migrated;
        await this.scan(this.state.continuation, undefined, true);
        this.checkCancelled();
        this.state.continuation = undefined;
        if (this.state.counters.migrated === before) break;
      }
    }
    return this.result(true);
  }

  private result(done: boolean): MigrateRangeResult {
    const seconds = Math.max((Date.now() - this.startedAt) / 1000, 0.001);
    return {
      done,
      ...(done ? {} : { continuation: this.state.continuation }),
      counters: { ...this.state.counters },
      failures: [...this.state.failures],
      ruPerSecond: this.budget.spent / seconds,
      docsPerSecond: this.migratedThisAttempt / seconds,
      ...(this.preimages ? { preimagesWritten: this.state.preimagesWritten ?? 0 } : {}),
      ...debtOf(this.budget),
    };
  }

  private heartbeat(): void {
    activityContext()?.heartbeat({
      ...this.state,
      counters: { ...this.state.counters },
      ...debtOf(this.budget),
    } satisfies RangeCheckpoint);
  }

  /**
   * Cancelled (a rollback or a live control interrupts the range): the pages in flight have committed; the failure
   * carries what this attempt did, as a result would, so the workflow counts it and resumes from the continuation.
   */
  private checkCancelled(): void {
    if (!this.cancelled) return;
    const message = (this.cancelError as Error | undefined)?.message ?? 'cancelled';
    const partial: MigrateRangeResult = {
      ...this.result(false),
      ...(this.state.phase === 'final' ? { continuation: undefined } : {}),
    };
    throw new CancelledFailure(message, [partial]);
  }

  /**
   * One scan of the candidate query from `start`: fetches pages one after the other and processes up to
   * `concurrency.limit` of them at once; commits continuations in order. Stops at the end, after `maxPages`
   * pages, or between pages when the activity is cancelled or `maxFailures` is passed. Whatever the reason, the
   * pages in flight finish and are committed first: their documents are written and leave the candidate set, so
   * counters and a checkpoint taken before they settle would miss them for good.
   */
  private async scan(start: string | undefined, maxPages: number | undefined, final: boolean): Promise<StopReason> {
    const pending = new Map<number, { continuation?: string; tally: PageTally; done: boolean }>();
    const running = new Set<Promise<void>>();
    let nextToCommit = 0;
    let fetched = 0;
    // Boxed: whatever was thrown (even undefined) is rethrown as it was.
    let failure: { error: unknown } | undefined;
    let token = start;
    const pages = new PageScan<MigrationDocument>(
      this.container,
      candidateQuery(this.rule),
      { ...this.queryOptions, maxItemCount: this.input.batchSize },
      start,
      this.budget
    );
    let stop: StopReason = 'exhausted';

    const commit = () => {
      for (let entry = pending.get(nextToCommit); entry?.done; entry = pending.get(nextToCommit)) {
        pending.delete(nextToCommit);
        nextToCommit += 1;
        this.state.counters = addCounters(this.state.counters, entry.tally.counters);
        if (this.preimages) this.state.preimagesWritten = (this.state.preimagesWritten ?? 0) + entry.tally.preimages;
        this.state.continuation = entry.continuation;
        this.heartbeat();
      }
    };

    for (;;) {
      if (failure !== undefined || this.overThreshold()) break;
      if (this.cancelled) {
        stop = 'cancelled';
        break;
      }
      if (maxPages !== undefined && fetched >= maxPages) {
        stop = 'maxPages';
        break;
      }
      while (running.size >= this.concurrency.limit) await Promise.race(running);
      if (failure !== undefined || this.overThreshold()) break;
      let page;
      try {
        page = await pages.next();
      } catch (err) {
        failure ??= { error: err }; // let the pages in flight finish and commit before failing
        break;
      }
      const seq = fetched++;
      const counters = { ...zeroCounters(), ruConsumed: page.charge };
      const entry = { continuation: page.continuation, tally: { counters, preimages: 0 }, done: false };
      pending.set(seq, entry);
      const task = this.processPage(page.docs, entry.tally, final).then(
        () => {
          entry.done = true;
          commit();
        },
        (err: unknown) => {
          failure ??= { error: err };
        }
      );
      running.add(task);
      void task.finally(() => running.delete(task));
      token = page.continuation;
      if (!token) break;
    }
    await Promise.all(running);
    if (failure !== undefined) throw failure.error;
    // Built only now, so its counters are the last heartbeat's: everything written, the pages in flight at the trip
    // included.
    if (this.overThreshold()) throw this.thresholdExceeded();
    return stop;
  }

  /**
   * Transforms a page and writes what changed. In the final pass only changes count: a document the transform skips
   * or fails there was counted when the scan met it (possibly by an earlier activity of this range, given
   * maxPages), so counting it again would inflate `failed` past maxFailures. Verification still sees it.
   */
  private async processPage(docs: MigrationDocument[], tally: PageTally, final: boolean): Promise<void> {
    const { counters } = tally;
    const work: Work[] = [];
    for (const doc of docs) {
      const key = keyOf(doc.id, partitionKeyOf(doc, this.pkPaths));
      if (this.settled.has(key)) continue;
      if (final) {
        const outcome = await runTransform(this.transform, doc, this.rule, this.pkPaths);
        if (outcome.kind === 'change') {
          counters.scanned += 1;
          counters.rewrittenByApp = (counters.rewrittenByApp ?? 0) + 1;
          work.push({ original: doc, doc: outcome.doc, conflicts: 0 });
        } else {
          this.settle(key);
        }
        continue;
      }
      counters.scanned += 1;
      const item = await this.prepare(doc, counters);
      if (item) work.push(item);
    }
    if (this.input.dryRun) {
      counters.migrated += work.length;
      return;
    }
    for (let i = 0; i < work.length; i += BULK_LIMIT) {
      await this.write(work.slice(i, i + BULK_LIMIT), tally);
    }
  }

  /** Transforms a candidate; a skip or failure is counted and remembered, a change becomes work. */
  private async prepare(doc: MigrationDocument, counters: MigrationCounters, conflicts = 0): Promise<Work | undefined> {
    const key = keyOf(doc.id, partitionKeyOf(doc, this.pkPaths));
    if (!isCandidate(this.rule, doc)) {
      counters.skipped += 1;
      return undefined;
    }
    const outcome = await runTransform(this.transform, doc, this.rule, this.pkPaths);
    if (outcome.kind === 'change') return { original: doc, doc: outcome.doc, conflicts };
    this.settle(key);
    if (outcome.kind === 'skip') counters.skipped += 1;
    else this.recordFailure(doc, outcome.error, counters);
    return undefined;
  }

  private recordFailure(doc: MigrationDocument, error: string, counters: MigrationCounters): void {
    counters.failed += 1;
    this.settle(keyOf(doc.id, partitionKeyOf(doc, this.pkPaths)));
    if (this.state.failures.length < MAX_RECORDED_FAILURES) {
      this.state.failures.push({ id: doc.id, partitionKey: partitionKeyOf(doc, this.pkPaths) ?? null, error });
    }
  }

  /** Books a request's charge on the page's counters. */
  private charged(counters: MigrationCounters): (ru: number) => void {
    return (ru) => (counters.ruConsumed += ru);
  }

  /**
   * Upserts the pre-images of `batch` (the documents as read, about to be replaced). Returns the work whose pre-image
   * is stored; any other outcome records the document as failed, so it is never replaced without its pre-image.
   */
  private async storePreimages(batch: Work[], tally: PageTally): Promise<Work[]> {
    const at = new Date().toISOString();
    const outcomes = await this.writer.send(
      this.preimages!,
      batch,
      (w) => {
        const preimage = preimageOf(this.input.migration, w.original, this.pkPaths, at);
        return {
          operationType: BulkOperationType.Upsert,
          partitionKey: partitionKeyOf(preimage, this.pkPaths),
          resourceBody: preimage as unknown as JSONObject,
        };
      },
      { estimate: this.preimageCharge, onCharge: this.charged(tally.counters) }
    );
    const stored: Work[] = [];
    for (const { item, status } of outcomes) {
      if (status >= 200 && status < 300) {
        tally.preimages += 1;
        stored.push(item);
      } else {
        this.recordFailure(item.original, `pre-image write failed with status ${status}; not replaced`, tally.counters);
      }
    }
    return stored;
  }

  /**
   * Writes `items` (a page's work): with `preimages`, each round stores the pre-images first and replaces only the
   * documents whose pre-image is stored; a 412 re-reads the document and makes new work, whose own pre-image is stored
   * in the next round before its replace.
   */
  private async write(items: Work[], tally: PageTally): Promise<void> {
    const { counters } = tally;
    let todo = items;
    while (todo.length > 0) {
      const batch = this.preimages ? await this.storePreimages(todo, tally) : todo;
      const outcomes = await this.writer.send(
        this.container,
        batch,
        (w) => ({
          operationType: BulkOperationType.Replace,
          id: w.doc.id,
          partitionKey: partitionKeyOf(w.original, this.pkPaths),
          ifMatch: w.original._etag as string,
          resourceBody: w.doc as unknown as JSONObject,
        }),
        { estimate: this.writeCharge, onCharge: this.charged(counters) }
      );
      const again: Work[] = [];
      for (const { item: w, status } of outcomes) {
        if (status >= 200 && status < 300) {
          counters.migrated += 1;
          this.migratedThisAttempt += 1;
        } else if (status === 412) {
          counters.conflicts += 1;
          const retry = await this.reprepare(w, counters);
          if (retry) again.push(retry);
        } else if (status === 404) {
          counters.skipped += 1; // deleted by the application meanwhile
        } else {
          this.recordFailure(w.original, `replace failed with status ${status}`, counters);
        }
      }
      todo = again;
    }
  }

  /** After a 412: read the document as the application left it, and transform it again if it is still a candidate. */
  private async reprepare(w: Work, counters: MigrationCounters): Promise<Work | undefined> {
    if (w.conflicts + 1 > MAX_CONFLICTS_PER_DOCUMENT) {
      this.recordFailure(
        w.original,
        `changed by another writer ${MAX_CONFLICTS_PER_DOCUMENT} times while migrating`,
        counters
      );
      return undefined;
    }
    const fresh = await readCurrent<MigrationDocument>(
      this.container,
      w.original.id,
      partitionKeyOf(w.original, this.pkPaths),
      this.budget,
      this.charged(counters)
    );
    if (!fresh) {
      counters.skipped += 1;
      return undefined;
    }
    return this.prepare(fresh, counters, w.conflicts + 1);
  }

  private overThreshold(): boolean {
    return this.state.counters.failed > this.input.maxFailures;
  }

  private thresholdExceeded(): ApplicationFailure {
    const { counters, failures } = this.state;
    const first = failures
      .slice(0, 3)
      .map((f) => `${f.id}: ${f.error}`)
      .join('; ');
    return ApplicationFailure.nonRetryable(
      `${counters.failed} document(s) failed to migrate in ${this.input.database}/${this.input.container}, more than maxFailures (${this.input.maxFailures}); first: ${first}`,
      FAILURE_THRESHOLD_EXCEEDED,
      { ...counters },
      [...failures]
    );
  }
}

function describeGone(err: unknown): string {
  const e = err as { code?: number | string; substatus?: number | string };
  return e.substatus !== undefined ? `${e.code ?? '?'}/${e.substatus}` : `${e.code ?? 'gone'}`;
}

/** The budget's debt, for a checkpoint or a result (nothing when nothing is owed). */
export function debtOf(budget: RuBudget): { ruDebt?: RuDebt } {
  const debt = budget.debt();
  return debt ? { ruDebt: debt } : {};
}

function keyOf(id: string, partitionKey: unknown): string {
  return JSON.stringify([partitionKey ?? null, id]);
}

export async function migrateRange(deps: ActivityDeps, input: MigrateRangeInput): Promise<MigrateRangeResult> {
  const target = resolveTarget(deps.registry, input);
  const resumed = activityContext()?.info.heartbeatDetails as RangeCheckpoint | undefined;
  const state: RangeCheckpoint = resumed
    ? { ...resumed, counters: { ...resumed.counters }, failures: [...resumed.failures] }
    : { phase: 'scan', continuation: input.continuation, counters: zeroCounters(), failures: [] };
  if (!target.rule || !target.transform) {
    // Container steps only: no documents to migrate.
    return { done: true, counters: state.counters, failures: [], ruPerSecond: 0, docsPerSecond: 0 };
  }
  const container = deps.cosmos.database(target.database).container(target.container);
  const pkPaths = await readPartitionKeyPaths(container);
  const queryOptions: FeedOptions = await rangeQueryOptions(container, input.feedRange);
  let preimages: Container | undefined;
  if (input.preimages && !input.dryRun) {
    if (input.direction !== 'up') {
      throw ApplicationFailure.nonRetryable(
        `pre-images are kept for up only (they are what revertFromPreimages reverts to); migration ${input.migration} was asked for ${input.direction}`,
        MIGRATION_INVALID
      );
    }
    preimages = await openPreimagesContainer(container, pkPaths);
  }
  return new RangeMigration(
    container,
    queryOptions,
    input,
    target.rule,
    target.transform,
    pkPaths,
    state,
    preimages
  ).run();
}

/** The feed range (as the SDK takes it) whose bounds are `serialized`'s; a range that split since is refused. */
export async function sdkFeedRange(container: Container, serialized: string) {
  const wanted = parseFeedRange(serialized);
  const found = (await container.getFeedRanges()).find(
    (r) => r.minInclusive === wanted.minInclusive && r.maxExclusive === wanted.maxExclusive
  );
  if (!found) {
    throw ApplicationFailure.nonRetryable(
      `feed range [${wanted.minInclusive}, ${wanted.maxExclusive}) of ${container.id} is no longer one feed range (the container split?); list the feed ranges again`,
      FEED_RANGE_SPLIT
    );
  }
  return found;
}

/** How long a catch-up activity follows the feed before returning its continuation, unless the input says. */
const CATCH_UP_SECONDS = 60;

export async function catchUpRange(deps: ActivityDeps, input: CatchUpInput): Promise<CatchUpResult> {
  const asMigration: MigrateRangeInput = { ...input, direction: 'up', dryRun: false };
  const target = resolveTarget(deps.registry, asMigration);
  const resumed = activityContext()?.info.heartbeatDetails as RangeCheckpoint | undefined;
  const state: RangeCheckpoint = resumed
    ? { ...resumed, counters: { ...resumed.counters }, failures: [...resumed.failures] }
    : { phase: 'scan', continuation: input.continuation, counters: zeroCounters(), failures: [] };
  if (!target.rule || !target.transform) {
    return { done: true, counters: state.counters, failures: [], oldShapeSeen: 0, secondsBehind: 0 };
  }
  const container = deps.cosmos.database(target.database).container(target.container);
  const pkPaths = await readPartitionKeyPaths(container);
  const preimages = input.preimages ? await openPreimagesContainer(container, pkPaths) : undefined;
  // Low priority like every request of the engine; latest-version mode, the SDK's default (ChangeFeedMode).
  const feed = container.items.getChangeFeedIterator<MigrationDocument>({
    // Pages no larger than the share pays for at once, like the scan's (budgeted-reads.ts pageSizeWithin).
    maxItemCount: pageSizeWithin(input.batchSize, new RuBudget(input.ruBudget)).maxItemCount ?? input.batchSize,
    priorityLevel: PriorityLevel.Low,
    changeFeedStartFrom: state.continuation
      ? ChangeFeedStartFrom.Continuation(state.continuation)
      : ChangeFeedStartFrom.Time(new Date(input.startTime), await sdkFeedRange(container, input.feedRange)),
  });
  const migration = new RangeMigration(
    container,
    {},
    asMigration,
    target.rule,
    target.transform,
    pkPaths,
    state,
    preimages
  );
  return migration.followFeed(feed, (input.maxSeconds ?? CATCH_UP_SECONDS) * 1000);
}

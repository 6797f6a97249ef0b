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
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BulkOperationType,
  type Container,
  type FeedOptions,
  type JSONObject,
  type OperationInput,
  type PartitionKey,
  type SqlQuerySpec,
} from '@azure/cosmos';
import type {
  DocumentFailure,
  RevertConflict,
  RevertCounters,
  RevertInput,
  RevertResult,
} from '../../common/activities';
import type { MigrationDocument, Transform } from '../../common/migration';
import type { ActivityDeps } from '../deps';
import { rangeQueryOptions } from './feed-ranges';
import { preimagesContainerName, type StoredPreimage } from './preimages';
import {
  activityContext,
  isThrottled,
  isTransientBulkStatus,
  isTransientRequestError,
  MAX_TRANSIENT_BULK_RETRIES,
  statusOf,
  throttleDelayMs,
} from './requests';
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
}

const MAX_LISTED = 100;
const BULK_LIMIT = 100;
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

/** What to do with a live document. */
type Decision =
  | { kind: 'leave'; counter: 'deletedByApp' | 'unchanged' }
  | { kind: 'conflictOnly'; conflicts: string[] }
  | { kind: 'write'; doc: Record<string, unknown>; etag: string; counter: 'reverted' | 'merged'; conflicts: string[] };

class RangeRevert {
  private readonly budget: RuBudget;
  private readonly queryCharge = new ChargeEstimate(10);
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
    this.budget = new RuBudget(input.ruBudget);
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
      let pages = 0;
      let token = this.state.continuation;
      for (;;) {
        if (this.cancelled) {
          this.heartbeat();
          throw this.cancelError;
        }
        if (this.input.maxPages !== undefined && pages >= this.input.maxPages) return this.result(false);
        const counters = zeroRevertCounters();
        const page = await this.fetchPage(token, counters);
        await this.processPage(page.docs, counters);
        pages += 1;
        token = page.continuation;
        this.state.counters = addRevertCounters(this.state.counters, counters);
        this.state.continuation = token;
        this.heartbeat();
        if (!token) return this.result(true);
      }
    } finally {
      clearInterval(keepAlive);
    }
  }

  private result(done: boolean): RevertResult {
    return {
      done,
      ...(done ? {} : { continuation: this.state.continuation }),
      counters: { ...this.state.counters },
      conflicts: [...this.state.conflicts],
      failures: [...this.state.failures],
    };
  }

  private heartbeat(): void {
    activityContext()?.heartbeat({ ...this.state, counters: { ...this.state.counters } } satisfies RevertCheckpoint);
  }

  private spend(counters: RevertCounters, reserved: number, ru: number): void {
    const charge = Number.isFinite(ru) ? ru : 0;
    counters.ruConsumed += charge;
    this.budget.settle(reserved, charge);
  }

  private async fetchPage(
    continuation: string | undefined,
    counters: RevertCounters
  ): Promise<{ docs: Record<string, unknown>[]; continuation?: string }> {
    const reserved = this.queryCharge.get();
    await this.budget.acquire(reserved);
    const iterator = this.source.items.query<Record<string, unknown>>(this.sourceQuery, {
      ...this.queryOptions,
      maxItemCount: this.input.batchSize ?? 100,
      ...(continuation ? { continuationToken: continuation } : {}),
    });
    let response;
    try {
      response = await iterator.fetchNext();
    } catch (err) {
      this.budget.settle(reserved, 0);
      throw err;
    }
    this.queryCharge.observe(response.requestCharge);
    this.spend(counters, reserved, response.requestCharge);
    return { docs: response.resources ?? [], continuation: response.continuationToken || undefined };
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

  /** The live documents of `items` (undefined: not found), with one bulk Read call (retried on a whole-request 429). */
  private async readLive(items: Item[], counters: RevertCounters): Promise<(MigrationDocument | undefined)[]> {
    const operations: OperationInput[] = items.map((item) => ({
      operationType: BulkOperationType.Read,
      id: item.id,
      partitionKey: item.partitionKey,
    }));
    const found = new Array<MigrationDocument | undefined>(items.length).fill(undefined);
    let todo = operations.map((_, i) => i);
    let throttledInARow = 0;
    while (todo.length > 0) {
      const ops = todo.map((i) => operations[i]!);
      const responses = await this.bulk(ops, this.readCharge, counters).catch(async (err: unknown) => {
        const transient = !isThrottled(err) && isTransientRequestError(err);
        if (!isThrottled(err) && !(transient && throttledInARow < MAX_TRANSIENT_BULK_RETRIES)) throw err;
        throttledInARow += 1;
        await sleep(throttleDelayMs(err, throttledInARow));
        return undefined;
      });
      if (!responses) continue;
      throttledInARow = 0;
      const again: number[] = [];
      todo.forEach((index, k) => {
        const r = responses[k];
        const status = r?.statusCode ?? 0;
        if (status >= 200 && status < 300) found[index] = r!.resourceBody as unknown as MigrationDocument;
        else if (isTransientBulkStatus(status)) again.push(index);
        else if (status !== 404) throw new Error(`reading ${items[index]!.id} failed with status ${status}`);
      });
      if (again.length > 0) await sleep(100);
      todo = again;
    }
    return found;
  }

  private async bulk(operations: OperationInput[], estimate: ChargeEstimate, counters: RevertCounters) {
    const reserved = estimate.get() * operations.length;
    await this.budget.acquire(reserved);
    let responses;
    try {
      responses = await this.live.items.bulk(operations, { continueOnError: true });
    } catch (err) {
      this.budget.settle(reserved, 0);
      throw err;
    }
    const charge = responses.reduce((sum, r) => sum + (r?.requestCharge ?? 0), 0);
    if (responses.length > 0) estimate.observe(charge / responses.length);
    this.spend(counters, reserved, charge);
    return responses;
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

  /** Decides for each item and writes the decisions, re-reading and deciding again after a 412. */
  private async settle(items: Item[], lives: (MigrationDocument | undefined)[], counters: RevertCounters) {
    let todo: { item: Item; decision: Decision }[] = [];
    for (let i = 0; i < items.length; i += 1)
      todo.push({ item: items[i]!, decision: await this.decide(items[i]!, lives[i]) });
    let throttledInARow = 0;
    while (todo.length > 0) {
      const writes: { item: Item; decision: Extract<Decision, { kind: 'write' }> }[] = [];
      for (const { item, decision } of todo) {
        if (decision.kind === 'leave') counters[decision.counter] += 1;
        else if (decision.kind === 'conflictOnly') this.listConflict(item, decision.conflicts, counters);
        else writes.push({ item, decision });
      }
      if (writes.length === 0) return;
      const operations: OperationInput[] = writes.map(({ item, decision }) => ({
        operationType: BulkOperationType.Replace,
        id: item.id,
        partitionKey: item.partitionKey,
        ifMatch: decision.etag,
        resourceBody: decision.doc as JSONObject,
      }));
      let responses;
      try {
        responses = await this.bulk(operations, this.writeCharge, counters);
        throttledInARow = 0;
      } catch (err) {
        // A throttled request, or a 503, timeout or dropped connection on it: send it again (requests.ts says why
        // that is safe), a bounded number of times in a row for the transient ones.
        const transient = !isThrottled(err) && isTransientRequestError(err);
        if (!isThrottled(err) && !(transient && throttledInARow < MAX_TRANSIENT_BULK_RETRIES)) throw err;
        throttledInARow += 1;
        await sleep(transient ? Math.min(3_000, 100 * 2 ** throttledInARow) : throttleDelayMs(err, throttledInARow));
        todo = writes;
        continue;
      }
      const next: typeof todo = [];
      let throttled = false;
      for (let k = 0; k < writes.length; k += 1) {
        const { item, decision } = writes[k]!;
        const status = responses[k]?.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          counters[decision.counter] += 1;
          if (decision.conflicts.length > 0) this.listConflict(item, decision.conflicts, counters);
        } else if (status === 404) {
          counters.deletedByApp += 1;
        } else if (isTransientBulkStatus(status)) {
          throttled = true;
          next.push({ item, decision });
        } else if (status === 412) {
          // The application wrote the document after we read it: read it again and decide again, never overwrite.
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
            continue;
          }
          const fresh = await this.readOne(item, counters);
          next.push({ item, decision: await this.decide(item, fresh) });
        } else {
          this.fail(
            { id: item.id, partitionKey: item.partitionKey ?? null, error: `replace failed with status ${status}` },
            counters
          );
        }
      }
      if (throttled) await sleep(100);
      todo = next;
    }
  }

  private async readOne(item: Item, counters: RevertCounters): Promise<MigrationDocument | undefined> {
    await this.budget.acquire(1);
    try {
      const read = await this.live.item(item.id, item.partitionKey).read<MigrationDocument>();
      this.spend(counters, 1, read.requestCharge);
      return read.resource;
    } catch (err) {
      this.budget.settle(1, 0);
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }
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

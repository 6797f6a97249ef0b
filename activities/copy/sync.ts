/**
 * The copy's catch-up (docs/migrations.md "Copy mode"): the source's change feed, from a start point taken before the
 * backfill read anything (markCopyStart), replayed into the target after the backfill, so nothing written between is
 * missed and the last write to every changed document's copy is the feed's latest change of it.
 *
 * - all-versions-and-deletes mode (accounts with continuous backup): every create, replace and delete in order
 *   (https://learn.microsoft.com/azure/cosmos-db/nosql/change-feed-modes#all-versions-and-deletes-change-feed-mode;
 *   @azure/cosmos 4.9 client/ChangeFeed/changeFeedUtils.js `buildFeedOptions` sends `A-IM: Full-Fidelity Feed` for
 *   ChangeFeedMode.AllVersionsAndDeletes, and `decryptChangeFeedResponse` reads each item as `{ current, previous,
 *   metadata }`). A delete carries `metadata.id` and `metadata.partitionKey`, the deleted version's key as a dictionary
 *   of property name to value (https://learn.microsoft.com/dotnet/api/microsoft.azure.cosmos.changefeedmetadata), not
 *   the document: the copy to delete is looked up in the target by id and source partition key, the fields up() keeps
 *   (derive.ts), since its new partition key cannot be derived from a document that is gone.
 * - latest-version mode: creates and replaces only (the latest version of each); deletes are found by
 *   findDeletedCopies (reconcile.ts), which compares the target with the source.
 *
 * For every page: the last change of each source document wins; one cross-partition query of the target by the page's
 * ids finds the copies that exist; then one bulk round (the one writer) upserts each new copy, deletes a copy an
 * update moved to another new logical partition or a delete removed, and refuses a copy whose id meets another source
 * document's copy in its new logical partition (a named problem). The continuation is heartbeated after each page.
 *
 * The reverse sync (reverseSyncRange, after the cutover) is the same Sync the other way (a Flow): the target's feed
 * written back to the source through down().
 */
import {
  BulkOperationType,
  ChangeFeedMode,
  ChangeFeedStartFrom,
  PriorityLevel,
  type ChangeFeedPullModelIterator,
  type Container,
  type JSONObject,
  type OperationInput,
} from '@azure/cosmos';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { FEED_RANGE_SPLIT, type DocumentFailure, type RuDebt } from '../../common/activities';
import {
  addCopyCounters,
  zeroCopyCounters,
  type CopyCounters,
  type CopyFeedMode,
  type CopyStartInput,
  type CopyStartResult,
  type SyncCopyInput,
  type SyncCopyResult,
} from '../../common/copy';
import type { MigrationDocument } from '../../common/migration';
import { failureMessage } from '../../common/failure-message';
import type { ActivityDeps } from '../deps';
import { BulkWriter } from '../cosmos/bulk-writer';
import { PageScan, readCurrent, readFeedPage } from '../cosmos/budgeted-reads';
import { isPartitionGone } from '../cosmos/feed-ranges';
import { debtOf, sdkFeedRange } from '../cosmos/migrate-range';
import { activityContext } from '../cosmos/requests';
import { ChargeEstimate, RuBudget } from '../cosmos/ru-budget';
import { partitionKeyOf } from '../cosmos/transform';
import { openCopy, type OpenCopy } from './context';
import { derive, deriveBack, sourceKeyOf, type Derived } from './derive';
import { collision, problemsExceeded, recordProblem } from './problems';

const KEEP_ALIVE_MS = 1000;
const SYNC_SECONDS = 60;

function sdkMode(mode: CopyFeedMode): ChangeFeedMode {
  return mode === 'all-versions-and-deletes' ? ChangeFeedMode.AllVersionsAndDeletes : ChangeFeedMode.LatestVersion;
}

/**
 * The start point of one source range's feed, taken before the backfill: the feed read once from now (Azure offers
 * all-versions-and-deletes from now or a continuation only) and its continuation kept.
 */
export async function markCopyStart(deps: ActivityDeps, input: CopyStartInput): Promise<CopyStartResult> {
  const db = deps.cosmos.database(input.database);
  const source = input.of === 'target' ? db.container(input.target.container) : db.container(input.container);
  const at = new Date().toISOString();
  const feed = source.items.getChangeFeedIterator({
    changeFeedMode: sdkMode(input.mode),
    priorityLevel: PriorityLevel.Low,
    maxItemCount: 1,
    changeFeedStartFrom: ChangeFeedStartFrom.Now(await sdkFeedRange(source, input.feedRange)),
  });
  const first = await feed.readNext();
  if (!first.continuationToken) throw new Error(`the change feed of ${input.container} gave no continuation`);
  // Whatever this first answer returned (a change made since "now") is older than anything the backfill will read:
  // the backfill sees its result. What matters is only that the start point comes before the backfill's reads.
  return { continuation: first.continuationToken, at };
}

interface SyncCheckpoint {
  continuation: string;
  counters: CopyCounters;
  failures: DocumentFailure[];
  ruDebt?: RuDebt;
}

/** One source change, reduced to what the target needs. */
type Change =
  | { kind: 'write'; id: string; fromPk: unknown; doc: MigrationDocument; at: number }
  | { kind: 'delete'; id: string; fromPk: unknown; at: number };

/**
 * Which way a sync goes: forward (the source's feed into the target through up(), until the cutover) or reverse (the
 * target's feed back into the source through down(), after it). In both, `derive` makes the destination document of a
 * changed one and names the changed one by its key in the feed's container; `ownerOf` names, for a document already in
 * the destination, the key of the document in the feed's container it corresponds to.
 */
interface Flow {
  from: Container;
  to: Container;
  fromPaths: string[];
  toPaths: string[];
  derive(doc: MigrationDocument): Promise<Derived>;
  ownerOf(doc: MigrationDocument): Promise<string | undefined>;
}

function forward(open: OpenCopy): Flow {
  const { shape } = open;
  return {
    from: open.source,
    to: open.target,
    fromPaths: shape.sourcePaths,
    toPaths: shape.targetPaths,
    derive: (doc) => derive(shape, doc),
    // A copy carries its source's partition key fields and id (derive.ts).
    ownerOf: (doc) => Promise.resolve(sourceKeyOf(doc, shape.sourcePaths)),
  };
}

function reverse(open: OpenCopy): Flow {
  const { shape } = open;
  return {
    from: open.target,
    to: open.source,
    fromPaths: shape.targetPaths,
    toPaths: shape.sourcePaths,
    derive: (doc) => deriveBack(shape, doc),
    // A source document corresponds to the target document up() makes of it (its new partition key and id).
    ownerOf: async (doc) => {
      const copy = await derive(shape, doc);
      return copy.kind === 'copy' ? JSON.stringify([copy.partitionKey ?? null, doc.id]) : undefined;
    },
  };
}

export async function syncCopyRange(deps: ActivityDeps, input: SyncCopyInput): Promise<SyncCopyResult> {
  return sync(deps, input, forward);
}

/**
 * The reverse sync after the cutover: the target's change feed (from the cutover point, `markCopyStart` of the
 * target's ranges taken before the cutover hook pointed the application at it) written back to the source through
 * down(), so a rollback after the cutover loses none of the application's writes. `feedRange` is the target's.
 */
export async function reverseSyncRange(deps: ActivityDeps, input: SyncCopyInput): Promise<SyncCopyResult> {
  return sync(deps, input, reverse);
}

async function sync(deps: ActivityDeps, input: SyncCopyInput, flowOf: (open: OpenCopy) => Flow) {
  const open = await openCopy(deps, input);
  const resumed = activityContext()?.info.heartbeatDetails as SyncCheckpoint | undefined;
  const state: SyncCheckpoint = resumed
    ? { ...resumed, counters: { ...resumed.counters }, failures: [...resumed.failures] }
    : { continuation: input.continuation, counters: zeroCopyCounters(), failures: [] };
  const budget = new RuBudget(input.ruBudget, state.ruDebt ?? input.ruDebt);
  return new Sync(flowOf(open), input, state, budget).run();
}

class Sync {
  private readonly writer: BulkWriter;
  private readonly writeCharge = new ChargeEstimate(10);
  private readonly feedCharge = new ChargeEstimate(5);
  private cancelled: unknown;
  private done = false;
  private secondsBehind = 0;

  constructor(
    private readonly flow: Flow,
    private readonly input: SyncCopyInput,
    private readonly state: SyncCheckpoint,
    private readonly budget: RuBudget
  ) {
    this.writer = new BulkWriter(budget);
    activityContext()?.cancelled.catch((err: unknown) => {
      this.cancelled = err ?? new Error('cancelled');
    });
  }

  private result(): SyncCopyResult {
    return {
      done: this.done,
      continuation: this.state.continuation,
      counters: { ...this.state.counters },
      failures: [...this.state.failures],
      secondsBehind: this.secondsBehind,
      ...debtOf(this.budget),
    };
  }

  private heartbeat(): void {
    activityContext()?.heartbeat({ ...this.state, ...debtOf(this.budget) } satisfies SyncCheckpoint);
  }

  async run(): Promise<SyncCopyResult> {
    const keepAlive = setInterval(() => this.heartbeat(), KEEP_ALIVE_MS);
    const deadline = Date.now() + (this.input.maxSeconds ?? SYNC_SECONDS) * 1000;
    const where = `${this.input.database}/${this.input.container} range ${this.input.feedRange}`;
    const feed = this.flow.from.items.getChangeFeedIterator<Record<string, unknown>>({
      changeFeedMode: sdkMode(this.input.mode),
      priorityLevel: PriorityLevel.Low,
      maxItemCount: this.input.batchSize,
      changeFeedStartFrom: ChangeFeedStartFrom.Continuation(this.state.continuation),
    });
    try {
      // At least one page per attempt, however short maxSeconds.
      do {
        if (this.cancelled !== undefined) throw new CancelledFailure(failureMessage(this.cancelled), [this.result()]);
        const tally = zeroCopyCounters();
        const page = await this.readPage(feed, tally);
        if (page.items.length === 0) {
          this.done = true;
          this.secondsBehind = 0;
        } else {
          const changes = page.items.map((item) => this.changeOf(item));
          const newest = Math.max(...changes.map((c) => c.at));
          this.secondsBehind = Math.max(0, Math.round(Date.now() / 1000 - newest));
          tally.read += changes.length;
          await this.apply(changes, tally);
        }
        this.state.counters = addCopyCounters(this.state.counters, tally);
        this.state.continuation = page.continuation || this.state.continuation;
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
      } while (!this.done && Date.now() < deadline);
      return this.result();
    } catch (err) {
      if (!isPartitionGone(err)) throw err;
      throw ApplicationFailure.create({
        message: `feed range ${this.input.feedRange} of ${this.input.container} split while its change feed was copied; list the feed ranges again and follow its children`,
        type: FEED_RANGE_SPLIT,
        nonRetryable: true,
        details: [this.result()],
        cause: err instanceof Error ? err : undefined,
      });
    } finally {
      clearInterval(keepAlive);
    }
  }

  private async readPage(
    feed: ChangeFeedPullModelIterator<Record<string, unknown>>,
    tally: CopyCounters
  ): Promise<{ items: Record<string, unknown>[]; continuation?: string }> {
    const { response, charge } = await readFeedPage(this.flow.from, feed, this.budget, this.feedCharge);
    tally.ruConsumed += charge;
    const items = response.statusCode === 304 ? [] : (response.result ?? []);
    return { items, continuation: response.continuationToken };
  }

  /** A feed item as a change: an all-versions-and-deletes item (`current`/`metadata`), or a latest-version document. */
  private changeOf(item: Record<string, unknown>): Change {
    const sourcePaths = this.flow.fromPaths;
    if (this.input.mode === 'latest-version') {
      const doc = item as MigrationDocument;
      const fromPk = partitionKeyOf(doc, sourcePaths);
      return { kind: 'write', id: doc.id, fromPk, doc, at: Number(doc._ts ?? 0) };
    }
    const metadata = (item.metadata ?? {}) as Record<string, unknown>;
    const at = Number(metadata.crts ?? 0);
    if (metadata.operationType === 'delete') {
      // Azure names the source key by its paths' last segments: {"accountNo": "A-1"}.
      const keyObject = (metadata.partitionKey ?? {}) as Record<string, unknown>;
      const values = sourcePaths.map((p) => keyObject[p.split('/').pop()!]);
      const fromPk = sourcePaths.length === 1 ? values[0] : values;
      return { kind: 'delete', id: String(metadata.id), fromPk, at };
    }
    const doc = item.current as MigrationDocument;
    return { kind: 'write', id: doc.id, fromPk: partitionKeyOf(doc, sourcePaths), doc, at };
  }

  /** The copies in the target of these ids, by the source document they came from. */
  private async existingCopies(ids: string[], tally: CopyCounters): Promise<MigrationDocument[]> {
    const found: MigrationDocument[] = [];
    const scan = new PageScan<MigrationDocument>(
      this.flow.to,
      { query: 'SELECT * FROM c WHERE ARRAY_CONTAINS(@ids, c.id)', parameters: [{ name: '@ids', value: ids }] },
      { maxItemCount: 1000 },
      undefined,
      this.budget
    );
    for (;;) {
      const page = await scan.next();
      tally.ruConsumed += page.charge;
      found.push(...page.docs);
      if (!page.continuation) return found;
    }
  }

  /**
   * Whether the document of the feed's container that owns a place (`[partition key, id]`) is gone from it. In
   * latest-version mode its delete is not in the feed (https://learn.microsoft.com/azure/cosmos-db/nosql/change-feed-modes#latest-version-change-feed-mode):
   * the application moving a document to another new partition key (a delete and a create of the same id) meets its
   * own former place, which is handed over, not a collision. One point read, only when a place is taken.
   */
  private async ownerGone(owner: string, tally: CopyCounters): Promise<boolean> {
    const [pk, id] = JSON.parse(owner) as [unknown, string];
    const found = await readCurrent<MigrationDocument>(
      this.flow.from,
      id,
      (pk ?? undefined) as Parameters<typeof readCurrent>[2],
      this.budget,
      (ru) => (tally.ruConsumed += ru)
    );
    return found === undefined;
  }

  private async apply(changes: Change[], tally: CopyCounters): Promise<void> {
    const { flow } = this;
    const last = new Map<string, Change>();
    for (const change of changes) {
      const key = JSON.stringify([change.fromPk ?? null, change.id]);
      last.delete(key); // keep the feed's order of last changes
      last.set(key, change);
    }
    const existing = await this.existingCopies([...new Set([...last.values()].map((c) => c.id))], tally);
    /** Target key ([new pk, id]) → the source document whose copy is there. */
    const owners = new Map<string, string>();
    /** Source key → the target keys of its copies (one, or two after an update moved it, before this page). */
    const copies = new Map<string, { id: string; partitionKey: unknown }[]>();
    for (const doc of existing) {
      const pk = partitionKeyOf(doc, flow.toPaths);
      const source = await flow.ownerOf(doc);
      if (source === undefined) continue; // a destination document that corresponds to nothing the feed can change
      owners.set(JSON.stringify([pk ?? null, doc.id]), source);
      copies.set(source, [...(copies.get(source) ?? []), { id: doc.id, partitionKey: pk }]);
    }
    type Op = { op: OperationInput; change: Change };
    const upserts: (Op & { at: string })[] = [];
    const removals: { change: Change; at: string; copy: { id: string; partitionKey: unknown } }[] = [];
    const remove = (change: Change, copy: { id: string; partitionKey: unknown }) =>
      removals.push({ change, copy, at: JSON.stringify([copy.partitionKey ?? null, copy.id]) });
    // Deletes first: a document deleted and another created in its place (the same id under another key that derives
    // the same destination) in one page hands the place over instead of colliding with the one that is gone.
    const ordered = [...last].sort(([, a], [, b]) => Number(b.kind === 'delete') - Number(a.kind === 'delete'));
    for (const [source, change] of ordered) {
      const old = copies.get(source) ?? [];
      if (change.kind === 'delete') {
        for (const copy of old) {
          remove(change, copy);
          owners.delete(JSON.stringify([copy.partitionKey ?? null, copy.id]));
        }
        continue;
      }
      const derived = await flow.derive(change.doc);
      if (derived.kind === 'fail') {
        recordProblem(this.state, tally, change.id, change.fromPk, derived.error);
        continue;
      }
      const at = JSON.stringify([derived.partitionKey ?? null, change.id]);
      const owner = owners.get(at);
      if (owner !== undefined && owner !== derived.source && !(await this.ownerGone(owner, tally))) {
        recordProblem(this.state, tally, change.id, change.fromPk, collision(owner));
        continue;
      }
      owners.set(at, derived.source);
      upserts.push({
        change,
        at,
        op: {
          operationType: BulkOperationType.Upsert,
          partitionKey: derived.partitionKey as never,
          resourceBody: derived.doc as unknown as JSONObject,
        },
      });
      // An update that changed the derived partition key: the copy in the old logical partition goes.
      for (const copy of old) {
        if (JSON.stringify([copy.partitionKey ?? null, copy.id]) !== at) remove(change, copy);
      }
    }
    // A place an upsert of this page writes is not also deleted: one bulk request does not order its operations.
    const written = new Set(upserts.map((u) => u.at));
    const ops: Op[] = [
      ...upserts.map(({ op, change }) => ({ op, change })),
      ...removals
        .filter((r) => !written.has(r.at))
        .map((r) => ({
          change: r.change,
          op: { operationType: BulkOperationType.Delete, id: r.copy.id, partitionKey: r.copy.partitionKey as never },
        })),
    ];
    if (ops.length === 0) return;
    const outcomes = await this.writer.send(flow.to, ops, (o) => o.op, {
      estimate: this.writeCharge,
      onCharge: (ru) => (tally.ruConsumed += ru),
    });
    for (const { item, status } of outcomes) {
      const deleting = item.op.operationType === BulkOperationType.Delete;
      if (status >= 200 && status < 300) {
        if (deleting) tally.deleted += 1;
        else tally.written += 1;
      } else if (deleting && status === 404) {
        // already gone (a retried page)
      } else {
        const what = deleting ? 'delete' : 'upsert';
        recordProblem(
          this.state,
          tally,
          item.change.id,
          item.change.fromPk,
          `${what} in the target failed with status ${status}`
        );
      }
    }
  }
}

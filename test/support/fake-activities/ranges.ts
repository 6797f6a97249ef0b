/**
 * The range activities in memory: migrateRange, revertFromPreimages and listFeedRanges over a FakeContainer, with the
 * real ones' contract (activities/cosmos/migrate-range.ts): pages of `batchSize` candidates in id order, a heartbeat
 * of the checkpoint after every page (a retry resumes from it), `maxPages` returns the continuation, a cancellation
 * stops after the page and fails CancelledFailure carrying what the attempt did, a split or merge fails non-retryable
 * FeedRangeSplit with the counters, and more failed documents than `maxFailures` fail FailureThresholdExceeded.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import {
  FAILURE_THRESHOLD_EXCEEDED,
  FEED_RANGE_SPLIT,
  type DocumentFailure,
  type MigrateRangeInput,
  type MigrateRangeResult,
  type MigrationCounters,
  type RevertInput,
  type RevertResult,
  type RunbookActivities,
  type CatchUpInput,
  type CatchUpResult,
} from '../../../common/activities';
import { zeroCounters } from '../../../common/counters';
import type { FakeContainer, FakeDocument } from './container';
import type { RangeGate } from './gate';
import type { Lag } from './lag';
import type { FakeScript, RangeFault } from './script';

interface Checkpoint {
  /** The id of the last document the scan passed. */
  continuation?: string;
  counters: MigrationCounters;
  failures: DocumentFailure[];
}

/** Every RU the fake container charged. */
export interface RuMeter {
  charged: number;
}

export function createRangeActivities(
  container: FakeContainer,
  script: FakeScript,
  gate: RangeGate,
  meter: RuMeter,
  lag: Lag,
  from: number | string | undefined,
  to: number | string | undefined
): Pick<RunbookActivities, 'listFeedRanges' | 'migrateRange' | 'catchUpRange' | 'revertFromPreimages'> {
  const ruPerWrite = script.ruPerWrite ?? 5;
  const pageMs = script.pageMs ?? 10;
  const failing = { up: new Set(script.failing ?? []), down: new Set(script.failingDown ?? []) };
  /** Faults by feed range (the starting ranges' indexes resolved now), and pages written per range so far. */
  const faults = new Map<string, RangeFault[]>();
  container.feedRanges().forEach((r, i) =>
    faults.set(
      r,
      (script.faults?.[i] ?? []).map((f) => ({ ...f }))
    )
  );
  const pagesWritten = new Map<string, number>();
  /** A scan of a range starts (not a continuation, not a retried attempt): what a lagging replica hides is decided. */
  const freshScan = (input: { continuation?: string }) =>
    input.continuation === undefined && Context.current().info.heartbeatDetails === undefined;
  /** What the change feed last delivered of each document; the documents there at the start are before T0. */
  const feedKey = (d: FakeDocument) => `${String(d.version)}|${d.ups}|${d.downs}`;
  const delivered = new Map(container.documents.map((d) => [d.id, feedKey(d)]));

  /** The fault due now in `feedRange`, if any (each fires once, a transient one `times` times). */
  function faultDue(feedRange: string): RangeFault | undefined {
    const list = faults.get(feedRange) ?? [];
    const due = list.find((f) => f.afterPages === (pagesWritten.get(feedRange) ?? 0));
    if (!due) return undefined;
    if (due.kind === 'transient' && (due.times ?? 1) > 1) due.times = (due.times ?? 1) - 1;
    else list.splice(list.indexOf(due), 1);
    return due;
  }

  /** RU the container charged: what a test compares with the counters the workflow reports. */
  function charge(ru: number): number {
    meter.charged += ru;
    return ru;
  }

  function fire(fault: RangeFault, feedRange: string, done: Checkpoint): never {
    switch (fault.kind) {
      case 'transient':
        throw new Error(`scripted transient fault in ${feedRange}`);
      case 'non-retryable':
        throw ApplicationFailure.nonRetryable(fault.message ?? `scripted ${fault.type} in ${feedRange}`, fault.type);
      case 'split':
      case 'merge':
        if (fault.kind === 'split') container.split(feedRange, fault.into ?? 2);
        else container.mergeWithNext(feedRange);
        throw ApplicationFailure.create({
          message: `feed range ${feedRange} ${fault.kind === 'split' ? 'split' : 'merged'} while it was migrated`,
          type: FEED_RANGE_SPLIT,
          nonRetryable: true,
          details: [{ ...done.counters }, [...done.failures]],
        });
    }
  }

  /**
   * One scan of `feedRange`'s candidates after `start`, page by page, through `write`. Shared by migrate and revert:
   * both are "range loops" to the workflow.
   */
  async function scan(
    feedRange: string,
    input: { continuation?: string; batchSize?: number; maxPages?: number },
    isCandidate: (d: FakeDocument) => boolean,
    write: (d: FakeDocument, counters: MigrationCounters, failures: DocumentFailure[]) => void,
    threshold?: number,
    where = 'the container'
  ): Promise<{ done: boolean; checkpoint: Checkpoint }> {
    const ctx = Context.current();
    const resumed = ctx.info.heartbeatDetails as Checkpoint | undefined;
    const state: Checkpoint = resumed ?? { continuation: input.continuation, counters: zeroCounters(), failures: [] };
    let cancelled: Error | undefined;
    void ctx.cancelled.catch((err: unknown) => {
      cancelled = err instanceof Error ? err : new Error('cancelled');
    });
    const stopIfCancelled = () => {
      if (!cancelled && !ctx.cancellationSignal.aborted) return;
      throw new CancelledFailure(cancelled?.message ?? 'cancelled', [result(false, state)]);
    };
    // As the real activity does while a page is slow: heartbeat the last checkpoint, so a cancellation (delivered in
    // a heartbeat's answer) reaches a range held at the gate.
    const keepAlive = setInterval(() => ctx.heartbeat(state), 300);
    try {
      for (let pages = 0; ; pages++) {
        if (input.maxPages !== undefined && pages >= input.maxPages) return { done: false, checkpoint: state };
        // A range that split or merged under an earlier attempt is gone: Cosmos answers 410 and the real activity
        // fails FeedRangeSplit (activities/cosmos/migrate-range.ts), whatever the attempt.
        if (!container.isCurrent(feedRange)) {
          throw ApplicationFailure.create({
            message: `feed range ${feedRange} is gone (split or merged)`,
            type: FEED_RANGE_SPLIT,
            nonRetryable: true,
            details: [{ ...state.counters }, [...state.failures]],
          });
        }
        const fault = faultDue(feedRange);
        if (fault) fire(fault, feedRange, state);
        const candidates = container
          .documentsIn(feedRange)
          .filter((d) => isCandidate(d) && (state.continuation === undefined || d.id > state.continuation));
        if (candidates.length === 0) return { done: true, checkpoint: state };
        await gate.pass(ctx.cancellationSignal);
        stopIfCancelled();
        await new Promise((resolve) => setTimeout(resolve, pageMs));
        for (const d of candidates.slice(0, input.batchSize ?? 100)) {
          write(d, state.counters, state.failures);
          state.counters.scanned += 1;
          state.continuation = d.id;
        }
        state.counters.ruConsumed += charge(ruPerWrite);
        pagesWritten.set(feedRange, (pagesWritten.get(feedRange) ?? 0) + 1);
        ctx.heartbeat(state);
        gate.written += 1;
        if (threshold !== undefined && state.counters.failed > threshold) {
          const first = state.failures
            .slice(0, 3)
            .map((x) => `${x.id}: ${x.error}`)
            .join('; ');
          throw ApplicationFailure.nonRetryable(
            `${state.counters.failed} document(s) failed to migrate in ${where}, more than maxFailures (${threshold}); first: ${first}`,
            FAILURE_THRESHOLD_EXCEEDED,
            { ...state.counters },
            [...state.failures]
          );
        }
        // Let a heartbeat's answer (a cancellation) arrive before the next page, as a real page's I/O would.
        await new Promise((resolve) => setImmediate(resolve));
        stopIfCancelled();
      }
    } finally {
      clearInterval(keepAlive);
    }
  }

  function result(done: boolean, { continuation, counters, failures }: Checkpoint): MigrateRangeResult {
    return {
      done,
      ...(done ? {} : { continuation }),
      counters: { ...counters },
      failures: [...failures],
      ruPerSecond: 0,
      docsPerSecond: 0,
    };
  }

  return {
    async listFeedRanges() {
      return container.feedRanges();
    },

    async migrateRange(input: MigrateRangeInput) {
      const [source, target] = input.direction === 'up' ? [from, to] : [to, from];
      // A rollback's down() reads what a lagging replica shows (the forward migration's scans are not scripted to lag).
      const hidden =
        input.direction === 'down' ? lag.hiddenInRange(container, input.feedRange, freshScan(input)) : new Set();
      const { done, checkpoint } = await scan(
        input.feedRange,
        input,
        (d) => d.version === source && !hidden.has(d.id),
        (d, counters, failures) => {
          if (failing[input.direction].has(d.id)) {
            counters.failed += 1;
            if (failures.length < 100)
              failures.push({
                id: d.id,
                partitionKey: d.id,
                error: `${input.direction}() threw: scripted failure of ${d.id}`,
              });
            return;
          }
          counters.migrated += 1;
          counters.ruConsumed += input.dryRun ? 0 : charge(ruPerWrite);
          if (input.dryRun) return;
          d.version = target;
          if (input.direction === 'up') d.ups += 1;
          else d.downs += 1;
        },
        input.maxFailures,
        `${input.database}/${input.container}`
      );
      return result(done, checkpoint);
    },

    /**
     * The change feed of a range, in memory: every document still in the old shape (an old writer's, or one written
     * back) is what the feed would show; it is migrated like the scan does, and the head is reached at once.
     */
    async catchUpRange(input: CatchUpInput): Promise<CatchUpResult> {
      const counters = zeroCounters();
      // A change feed brings a document once per change: those changed since the last read, in the old shape.
      const changed = container.documentsIn(input.feedRange).filter((d) => delivered.get(d.id) !== feedKey(d));
      const old = changed.filter((d) => d.version === from);
      for (const d of changed) delivered.set(d.id, feedKey(d));
      for (const d of old) {
        counters.scanned += 1;
        if (failing.up.has(d.id)) {
          counters.failed += 1;
          continue;
        }
        d.version = to;
        d.ups += 1;
        delivered.set(d.id, feedKey(d)); // our own write comes back in the feed at the new version: passed over
        counters.migrated += 1;
        counters.ruConsumed += charge(ruPerWrite);
      }
      return {
        done: true,
        counters,
        failures: [],
        oldShapeSeen: old.length,
        ...(old.length > 0 ? { lastOldShapeAt: new Date().toISOString() } : {}),
        secondsBehind: 0,
      };
    },

    /**
     * The live documents at toVersion that the migration wrote (every one has its pre-image here, none was changed by
     * an application): reverting puts each back at fromVersion.
     */
    async revertFromPreimages(input: RevertInput): Promise<RevertResult> {
      const hidden = lag.hiddenInRange(container, input.feedRange, freshScan(input));
      const { done, checkpoint } = await scan(
        input.feedRange,
        input,
        (d) => d.version === to && d.ups > d.downs && !hidden.has(d.id),
        (d, counters) => {
          d.version = from;
          d.downs += 1;
          counters.migrated += 1;
        }
      );
      const { scanned, migrated, ruConsumed } = checkpoint.counters;
      return {
        done,
        ...(done ? {} : { continuation: checkpoint.continuation }),
        counters: { ...zeroRevert(), scanned, reverted: migrated, ruConsumed },
        conflicts: [],
        failures: [],
      };
    },
  };
}

function zeroRevert(): RevertResult['counters'] {
  return { scanned: 0, reverted: 0, down: 0, conflicts: 0, unchanged: 0, failed: 0, ruConsumed: 0 };
}

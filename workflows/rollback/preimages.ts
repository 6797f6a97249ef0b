/**
 * Rollback by pre-images, the surgical one: a three-way revert of the migration, like `git revert`, from the
 * pre-images the migration kept (revertFromPreimages, per feed range of the pre-images container). The container is
 * never deleted and the application keeps running: a document unchanged since the migration gets its pre-image back,
 * one the application changed since gets back only the fields the migration changed and the application did not;
 * fields both changed are conflicts, left as the application wrote them and listed in the report; documents the
 * application created stay.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { RevertConflict, RevertCounters, RevertResult, RevertSource } from '../../common/activities';
import { describe } from '../describe';
import { runRanges, type LoopRange } from '../range-loop';
import type { RollbackRun } from './context';
import { undoContainerSteps } from './down';
import { ErrorType } from '../../common/errors';

const MAX_CONFLICTS_KEPT = 100;

function zeroRevert(): RevertCounters {
  return { scanned: 0, reverted: 0, merged: 0, conflicts: 0, deletedByApp: 0, unchanged: 0, failed: 0, ruConsumed: 0 };
}

function addRevert(a: RevertCounters, b: RevertCounters): RevertCounters {
  const sum = zeroRevert();
  for (const key of Object.keys(sum) as (keyof RevertCounters)[]) sum[key] = (a[key] ?? 0) + (b[key] ?? 0);
  return sum;
}

/**
 * Reverts every document of the source (pre-images, or a copy restored at T0) into the live container through the one
 * range loop (range-loop.ts): source ranges in a sliding window of the live concurrency, each in calls of `maxPages`
 * pages resumed from the last continuation, splits of the source followed, and the live RU budget shared by the
 * ranges (budget-share.ts). A budget or concurrency the operator changes meanwhile (forwarded by the parent) restarts
 * the ranges in flight after their page with it.
 */
export async function revertFrom(r: RollbackRun, source: RevertSource, sourceContainer: string): Promise<void> {
  const { input, ref, result } = r;
  const { quick, range } = r.acts;
  const sourceRef = { database: ref.database, container: sourceContainer };
  const listRanges = () =>
    quick.listFeedRanges.executeWithOptions(
      { summary: `list feed ranges of ${sourceRef.database}/${sourceContainer}` },
      [sourceRef]
    );
  const ranges: LoopRange[] = (await listRanges()).map((feedRange) => ({ feedRange, done: false }));
  let counters = zeroRevert();
  const conflicts: RevertConflict[] = [];
  let failures = 0;
  const count = (done: RevertResult) => {
    counters = addRevert(counters, done.counters);
    conflicts.push(...done.conflicts.slice(0, MAX_CONFLICTS_KEPT - conflicts.length));
    failures += done.failures.length;
  };
  for (;;) {
    const seen = r.controlsVersion;
    const changed = () => (r.controlsVersion !== seen ? 'controls' : undefined);
    const outcome = await runRanges<RevertResult, LoopRange>({
      ranges,
      newRange: (feedRange) => ({ feedRange, done: false }),
      priorityBased: input.priorityBased,
      ruBudget: () => r.ruBudget(),
      concurrency: () => r.concurrency(),
      start: (loopRange, index, part) =>
        range.revertFromPreimages.executeWithOptions(
          { summary: `revert range ${index + 1}/${ranges.length} of ${r.where}` },
          [
            {
              ...ref,
              migration: input.migration.id,
              checksum: input.migration.checksum,
              source,
              feedRange: loopRange.feedRange,
              continuation: loopRange.continuation,
              batchSize: input.batchSize,
              maxPages: input.tuning.maxPagesPerActivity,
              ...part,
            },
          ]
        ),
      onResult: (_range, done) => count(done),
      onSplitPartial: (_range, failure) => {
        const [partial] = (failure.details ?? []) as [RevertResult?];
        if (partial) count(partial);
      },
      shouldStop: changed,
      interruptWhen: () => changed() !== undefined,
      listRanges,
    });
    if (outcome.error) throw outcome.error instanceof Error ? outcome.error : new Error(describe(outcome.error));
    if (outcome.finished) break;
  }
  result.revert = counters;
  result.conflicts = conflicts;
  if (counters.failed > 0 || failures > 0) {
    result.problems.push(`${counters.failed} document(s) could not be reverted (see the rollback child's history)`);
  }
  await r.step(
    `reverted: ${counters.reverted} to their pre-image, ${counters.merged} merged with the application's writes, ` +
      `${counters.conflicts} with conflicts left as the application wrote them`
  );
}

export async function rollbackByPreimages(r: RollbackRun): Promise<void> {
  const container = r.input.preimagesContainer;
  if (!container) {
    throw ApplicationFailure.nonRetryable(`no pre-images were kept for ${r.where}`, ErrorType.RollbackImpossible);
  }
  await r.step(`revert the migration from the pre-images in ${r.ref.database}/${container}`);
  await revertFrom(r, { kind: 'preimages' }, container);
  if (r.result.problems.length === 0) await undoContainerSteps(r);
}

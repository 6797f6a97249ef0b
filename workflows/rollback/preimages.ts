/**
 * Rollback by pre-images, the least destructive one, decided per document (activities/cosmos/revert.ts): every
 * document the migration wrote and nobody touched since gets its pre-image back; one the application changed,
 * re-created or created gets the module's down() when the plan proved it, otherwise it is left exactly as the
 * application wrote it and named. The container is never deleted and the application keeps running.
 *
 * It ends verified by version counts: no document at the migration's toVersion is left unless the operator accepts it
 * at the conflicts gate (the count, and the first 100 named by id and partition key). A run never ends `rolled-back`
 * with documents left at the new version that nobody saw.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { RevertConflict, RevertResult, RevertSource } from '../../common/activities';
import { addRevertCounters, versionKey, zeroRevertCounters } from '../../common/counters';
import { ErrorType } from '../../common/errors';
import { failureMessage } from '../../common/failure-message';
import { runRanges, type LoopRange } from '../range-loop';
import type { RollbackRun } from './context';
import { undoContainerSteps } from './down';

const MAX_CONFLICTS_KEPT = 100;

/**
 * Reverts every document at toVersion in the live container through the one range loop (range-loop.ts): its feed
 * ranges in a sliding window of the live concurrency, each in calls of `maxPages` pages resumed from the last
 * continuation, splits followed, and the live RU budget shared by the ranges (budget-share.ts). A budget or
 * concurrency the operator changes meanwhile (forwarded by the parent) restarts the ranges in flight with it.
 */
export async function revertFrom(r: RollbackRun, source: RevertSource): Promise<void> {
  const { input, ref, result } = r;
  const { quick, range } = r.acts;
  const listRanges = () =>
    quick.listFeedRanges.executeWithOptions({ summary: `list feed ranges of ${r.where}` }, [ref]);
  const ranges: LoopRange[] = (await listRanges()).map((feedRange) => ({ feedRange, done: false }));
  let counters = zeroRevertCounters();
  const conflicts: RevertConflict[] = [];
  let failures = 0;
  const count = (done: RevertResult) => {
    counters = addRevertCounters(counters, done.counters);
    conflicts.push(...done.conflicts.slice(0, MAX_CONFLICTS_KEPT - conflicts.length));
    failures += done.failures.length;
  };
  for (;;) {
    const seen = r.controlsVersion;
    const changed = () => (r.controlsVersion !== seen ? 'controls' : undefined);
    r.rangesStart();
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
              ...(input.downProved ? { down: true } : {}),
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
    r.rangesStop();
    if (outcome.error) throw outcome.error instanceof Error ? outcome.error : new Error(failureMessage(outcome.error));
    if (outcome.finished) break;
  }
  result.revert = counters;
  result.conflicts = conflicts;
  if (counters.failed > 0 || failures > 0) {
    result.problems.push(`${counters.failed} document(s) could not be reverted (see the rollback child's history)`);
  }
  await r.step(
    `reverted: ${counters.reverted} to their pre-image, ${counters.down} by down(), ` +
      `${counters.conflicts} left as the application wrote them`
  );
}

/**
 * Counts the documents still at toVersion. None: verified. Some (conflicts, or written at the new version since the
 * revert read their range): the operator decides at the conflicts gate; approve accepts them as they are.
 */
async function verifyByVersionCounts(r: RollbackRun): Promise<void> {
  const { input, ref, result } = r;
  const { migration } = input;
  await r.step('count the documents by version');
  const counted = await r.acts.scan.countVersions.executeWithOptions({ summary: `count ${r.where} by version` }, [
    { ...ref, versionField: migration.versionField },
  ]);
  const left = counted.countsByVersion[versionKey(migration.toVersion)] ?? 0;
  if (left === 0) return;
  const named = result.revert?.conflicts ?? 0;
  const detail =
    `${left} document(s) of ${r.where} are still at version ${String(migration.toVersion)}` +
    (named < left
      ? `, ${left - named} of them written since the revert read them (rollback again to take them back)`
      : '') +
    '; approve accepts them as the application wrote them';
  await r.step(`waiting for the operator: ${detail}`, {
    awaitingConflictAcceptance: { left, conflicts: result.conflicts ?? [] },
    detail,
  });
  result.conflictsAcceptedBy = await r.decide(
    `accept ${left} document(s) left at version ${String(migration.toVersion)}`,
    ErrorType.RollbackImpossible
  );
  await r.step(`${left} document(s) left at the new version accepted by ${result.conflictsAcceptedBy ?? 'unknown'}`);
}

export async function rollbackByPreimages(r: RollbackRun): Promise<void> {
  const container = r.input.preimagesContainer;
  if (!container) {
    throw ApplicationFailure.nonRetryable(`no pre-images were kept for ${r.where}`, ErrorType.RollbackImpossible);
  }
  await r.step(`revert the migration from the pre-images in ${r.ref.database}/${container}`);
  await revertFrom(r, { kind: 'preimages' });
  if (r.result.problems.length > 0) return;
  await verifyByVersionCounts(r);
  await undoContainerSteps(r);
}

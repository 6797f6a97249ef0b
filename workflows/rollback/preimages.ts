/**
 * Rollback by pre-images, the least destructive one, decided per document (activities/cosmos/revert.ts): every
 * document the migration wrote and nobody touched since gets its pre-image back; one the application changed,
 * re-created or created gets the module's down() when the plan proved it, otherwise it is left exactly as the
 * application wrote it and named. The container is never deleted and the application keeps running.
 *
 * It ends verified by version counts: no document at the migration's toVersion is left unless the operator accepts it
 * at the conflicts gate (the count, and the first 100 named by id and partition key). The count is settled, and when it
 * holds more documents than the revert named, the revert passes over the ranges again (a lagging replica hid them from
 * the first scan); after MAX_REVERT_PASSES the gate says how many no pass saw. A run never ends `rolled-back` with
 * documents left at the new version that nobody saw.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { RevertConflict, RevertCounters, RevertResult, RevertSource } from '../../common/activities';
import { addRevertCounters, versionKey, zeroRevertCounters } from '../../common/counters';
import { ErrorType } from '../../common/errors';
import { failureMessage } from '../../common/failure-message';
import { runRanges, type LoopRange } from '../range-loop';
import type { RollbackRun } from './context';
import { undoContainerSteps } from './down';

const MAX_CONFLICTS_KEPT = 100;

/**
 * Passes over the ranges at most. A pass misses a document a lagging replica did not show it yet (Session consistency:
 * the worker has no session token for the application's writes, https://learn.microsoft.com/azure/cosmos-db/consistency-levels),
 * or one the application writes at the new version while the pass runs; the next pass sees it once the count has.
 */
export const MAX_REVERT_PASSES = 3;

/** What one pass over the ranges did, and the first documents it named. */
interface RevertPass {
  counters: RevertCounters;
  conflicts: RevertConflict[];
  failures: number;
}

/**
 * One pass: reverts every document at toVersion in the live container through the one range loop (range-loop.ts):
 * its feed ranges in a sliding window of the live concurrency, each in calls of `maxPages` pages resumed from the last
 * continuation, splits followed, and the live RU budget shared by the ranges (budget-share.ts). A budget or
 * concurrency the operator changes meanwhile (forwarded by the parent) restarts the ranges in flight with it.
 */
async function revertPass(r: RollbackRun, source: RevertSource): Promise<RevertPass> {
  const { input, ref } = r;
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
    if (outcome.finished) return { counters, conflicts, failures };
  }
}

/**
 * The documents still at toVersion, counted again until two counts a settle apart agree, the highest kept
 * (activities/cosmos/settled-count.ts): the run concludes on it, and a replica that lags must not make it look lower.
 */
async function countLeft(r: RollbackRun): Promise<number> {
  const { migration } = r.input;
  await r.step('count the documents by version');
  const key = versionKey(migration.toVersion);
  const counted = await r.acts.scan.countVersions.executeWithOptions({ summary: `count ${r.where} by version` }, [
    { ...r.ref, versionField: migration.versionField, settled: true, settledOn: key },
  ]);
  return counted.countsByVersion[key] ?? 0;
}

/**
 * Reverts in passes until the documents counted at toVersion are the ones the last pass named (each pass scans every
 * document still at toVersion, so it names again those left before): a document a pass did not see is taken by the
 * next one, at most MAX_REVERT_PASSES. Returns the documents left at toVersion and those no pass named.
 */
export async function revertFrom(r: RollbackRun, source: RevertSource): Promise<{ left: number; unnamed: number }> {
  const { result } = r;
  let total = zeroRevertCounters();
  for (let pass = 1; ; pass++) {
    const done = await revertPass(r, source);
    total = addRevertCounters(total, done.counters);
    // What is left named is the last pass's: an earlier pass's conflicts are still at toVersion, and named again.
    result.revert = { ...total, conflicts: done.counters.conflicts };
    result.conflicts = done.conflicts;
    if (done.counters.failed > 0 || done.failures > 0) {
      result.problems.push(
        `${done.counters.failed} document(s) could not be reverted (see the rollback child's history)`
      );
    }
    await r.step(
      `reverted: ${total.reverted} to their pre-image, ${total.down} by down(), ` +
        `${done.counters.conflicts} left as the application wrote them`
    );
    if (result.problems.length > 0) return { left: 0, unnamed: 0 };
    const left = await countLeft(r);
    const unnamed = Math.max(0, left - done.counters.conflicts);
    if (unnamed === 0 || pass >= MAX_REVERT_PASSES) return { left, unnamed };
    await r.step(
      `${unnamed} document(s) at version ${String(r.input.migration.toVersion)} that the revert did not see ` +
        `(written within a replica's lag, or while it ran): revert again (pass ${pass + 1} of at most ${MAX_REVERT_PASSES})`
    );
  }
}

/**
 * None left at toVersion: verified. Some (conflicts, or documents no pass saw): the operator decides at the conflicts
 * gate; approve accepts them as they are, abort leaves the run in rollback-failed (`rollback` tries again).
 */
async function acceptLeft(r: RollbackRun, left: number, unnamed: number): Promise<void> {
  const { input, result } = r;
  const { migration } = input;
  if (left === 0) return;
  const detail =
    `${left} document(s) of ${r.where} are still at version ${String(migration.toVersion)}` +
    (unnamed > 0
      ? `, ${unnamed} of them not named: ${MAX_REVERT_PASSES} passes of the revert did not see them (the application ` +
        'keeps writing at the new version, or a replica lags; rollback again to take them back)'
      : '') +
    '; approve accepts them as the application wrote them';
  await r.step(`waiting for the operator: ${detail}`, {
    awaitingConflictAcceptance: { left, conflicts: result.conflicts ?? [], ...(unnamed > 0 ? { unnamed } : {}) },
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
  const { left, unnamed } = await revertFrom(r, { kind: 'preimages' });
  if (r.result.problems.length > 0) return;
  await acceptLeft(r, left, unnamed);
  await undoContainerSteps(r);
}

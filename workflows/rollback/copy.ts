/**
 * The rollback of a copy (docs/runbook.md "Copy mode"): the source was never written by the run, so
 * - before the cutover the target is deleted once it is proved to hold only the run's copies (the application was
 *   never pointed at it), so no consent is asked; a target document that is not up() of its source document opens a
 *   gate (deleteTarget below); the source is left as it is;
 * - after the cutover the application writes to the target: it is stopped (stop-app hook), the reverse sync is
 *   drained (every target range's change feed from where monitoring left it, written back into the source through
 *   down(), deletes included), the `rollbackCutover` hook points the application back at the source, and it is
 *   started again (start-app). The target is kept: it holds the application's writes too. Without a proved down()
 *   (the plan said so, and the approval request) this rollback is not possible and says so.
 */
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type { ContainerRef } from '../../common/activities';
import { ErrorType } from '../../common/errors';
import type { CopyFeedMode, CopyRangeResult, SyncCopyResult } from '../../common/copy';
import { failureMessage } from '../../common/failure-message';
import { runRanges, type LoopRange } from '../range-loop';
import { feedRangeFrom } from '../copy/feed-continuation';
import type { RollbackRun } from './context';

/** What the rollback child needs of a copy (the parent's state.copy at the rollback). */
export interface CopyRollbackInput {
  target: ContainerRef;
  mode: CopyFeedMode;
  /**
   * The run prepared the target (created it, or found it empty with the declared key): only then is it the run's to
   * delete. A target refused by prepareCopyTarget (it held documents) is never touched.
   */
  targetPrepared: boolean;
  /** The cutover point (ISO), once recorded: from then on the application may write to the target. */
  cutoverAt?: string;
  /** The plan proved down(): the target's changes can be written back to the source. */
  reverseSync: boolean;
  /** The target's ranges and their reverse-sync continuations, as monitoring left them. */
  reverseRanges: LoopRange[];
  /**
   * Every source document had its copy at the cutover point: no problem while copying, and a verification that passed
   * (not one the operator accepted). Absent (a run recorded before this field): not known, so not complete.
   */
  copyComplete?: boolean;
}

/**
 * Before the cutover the target should hold only the run's copies, but nothing stopped the application from writing
 * to it: the delete is proved first (checkTargetCopies: every target document compared with up() of its source
 * document). None other than copies: deleted without asking. Otherwise the operator is asked at the gate a created
 * container's delete uses (down.ts), with the target's document count, how many are not the run's copies and up to
 * 100 of their ids: approve deletes it with them, abort (or no answer) keeps it, and the report says so. The delete
 * itself refuses if more documents came since the check (documentsApproved) and, without consent, if any document was
 * created or replaced since the check began (unchangedSince: the target's change feed, marked by the check); then the
 * target is checked once more, and written again, the operator is asked.
 */
async function deleteTarget(r: RollbackRun, copy: CopyRollbackInput): Promise<void> {
  const where = `${copy.target.database}/${copy.target.container}`;
  const { input, result } = r;
  const ref = copyRef(r, copy);
  for (let attempt = 1; ; attempt += 1) {
    await r.step(`compare every document of the target ${where} with up() of its source document`);
    const budget = r.ruBudget();
    const check = await r.acts.scan.checkTargetCopies.executeWithOptions(
      { summary: `check that ${where} holds only the run's copies` },
      [{ ...ref, batchSize: input.batchSize, ...(budget !== undefined ? { ruBudget: budget } : {}) }]
    );
    result.counters.scanned += check.documents;
    result.counters.ruConsumed += check.ruConsumed;
    const { documents, notCopies, ids } = check;
    let writtenMeanwhile = false;
    if (notCopies === 0) {
      await r.step(
        `delete the target ${where}: its ${documents} document(s) are all the run's copies (no cutover yet)`
      );
      try {
        // Only if nothing was created or replaced in it since the check began (its change feed, marked then).
        await r.acts.arm.deleteContainer.executeWithOptions({ summary: `delete the copy's target ${where}` }, [
          {
            ...copy.target,
            documentsApproved: documents,
            ...(check.changesFrom !== undefined ? { unchangedSince: check.changesFrom } : {}),
          },
        ]);
        return;
      } catch (err) {
        if (!isContainerInUse(err)) throw err;
        if (attempt < MAX_TARGET_CHECKS) {
          await r.step(`the target ${where} was written while it was checked: check it again`);
          continue;
        }
        writtenMeanwhile = true;
      }
    }
    const named = ids.length < notCopies ? `${ids.join(', ')} and ${notCopies - ids.length} more` : ids.join(', ');
    const detail = writtenMeanwhile
      ? `the copy's target ${where} holds ${documents} document(s) and was written while it was checked, ` +
        `${MAX_TARGET_CHECKS} times (possibly by the application); approve deletes it with them, abort keeps it`
      : `the copy's target ${where} holds ${documents} document(s), ${notCopies} of them not up() of a source document ` +
        `(possibly the application's: ${named}); approve deletes it with them, abort keeps it`;
    await r.step(`waiting for the operator: ${detail}`, {
      awaitingContainerDelete: { documents, notCopies, ids },
      detail,
    });
    try {
      const by = await r.decide(
        `delete ${where} with its ${documents} document(s)`,
        ErrorType.ContainerDeleteNotApproved
      );
      await r.step(`deleting the target ${where} with its ${documents} document(s) approved by ${by ?? 'unknown'}`);
    } catch (err) {
      if (!(err instanceof ApplicationFailure) || err.type !== ErrorType.ContainerDeleteNotApproved) throw err;
      result.keptContainer = { documents, reason: err.message };
      await r.step(`kept the target ${where} with its ${documents} document(s): ${err.message}`);
      return;
    }
    await r.acts.arm.deleteContainer.executeWithOptions({ summary: `delete the copy's target ${where}` }, [
      { ...copy.target, documentsApproved: documents },
    ]);
    return;
  }
}

/** Checks of the target before a refused delete (written during the check) goes on to ask the operator. */
const MAX_TARGET_CHECKS = 2;

function isContainerInUse(err: unknown): boolean {
  return (
    err instanceof ActivityFailure &&
    err.cause instanceof ApplicationFailure &&
    err.cause.type === ErrorType.ContainerInUse
  );
}

/** The copy activities' reference: the migration (its source container) and the target. */
function copyRef(r: RollbackRun, copy: CopyRollbackInput) {
  const { migration } = r.input;
  return {
    database: migration.database,
    container: migration.container,
    migration: migration.id,
    checksum: migration.checksum,
    target: copy.target,
  };
}

export async function rollbackCopy(r: RollbackRun): Promise<void> {
  const copy = r.input.copy!;
  const targetWhere = `${copy.target.database}/${copy.target.container}`;
  if (copy.cutoverAt === undefined && !copy.targetPrepared) {
    await r.step(
      `nothing to undo: the target ${targetWhere} was never prepared by the run, and the source never written`
    );
    return;
  }
  if (copy.cutoverAt === undefined) {
    await deleteTarget(r, copy);
    await r.step(`${r.where} left as it is: the run never wrote it`);
    return;
  }
  if (!copy.reverseSync) {
    r.result.problems.push(
      `a rollback after the cutover (${copy.cutoverAt}) is not possible: down() was not proved on the plan's sample, so the application's writes to ${targetWhere} cannot be written back to ${r.where}; the plan and the approval request said so`
    );
    return;
  }
  await r.step('stop the application');
  await r.runHook('stop-app');
  await r.step(`drain the reverse sync: ${targetWhere}'s changes since the cutover written back to ${r.where}`);
  await drainReverseSync(r, copy);
  if (copy.mode === 'latest-version') await deleteWhatTheTargetLost(r, copy);
  await r.step('run the rollbackCutover hook: point the application back at the source');
  await r.acts.long.runHook.executeWithOptions({ summary: 'rollbackCutover hook' }, [
    { hook: 'rollback-cutover', ...r.hookArgs },
  ]);
  await r.step('start the application');
  await r.runHook('start-app');
  await r.step(`the target ${targetWhere} is kept (it holds the application's writes since the cutover)`);
}

async function drainReverseSync(r: RollbackRun, copy: CopyRollbackInput): Promise<void> {
  const { input, result } = r;
  const ranges = copy.reverseRanges.map((range) => ({ ...range, done: false }));
  const listRanges = () =>
    r.acts.quick.listFeedRanges.executeWithOptions({ summary: `list feed ranges of ${copy.target.container}` }, [
      copy.target,
    ]);
  const ref = copyRef(r, copy);
  // The live budget and concurrency (forwarded by the parent): a change restarts the ranges in flight with it.
  for (;;) {
    const seen = r.controlsVersion;
    const changed = () => (r.controlsVersion !== seen ? 'controls' : undefined);
    r.rangesStart();
    const outcome = await runRanges<SyncCopyResult, LoopRange>({
      ranges,
      // A split's children (a merge's union) go on from where the target ranges they replace had got to: none of
      // the application's writes made before the split is missed (feed-continuation.ts).
      newRange: feedRangeFrom,
      priorityBased: input.priorityBased,
      ruBudget: () => r.ruBudget(),
      concurrency: () => r.concurrency(),
      start: async (range, index, part) => {
        // Only a range that never had a start point (none in practice: every target range is marked at the cutover
        // point, and a split's children inherit their parent's).
        range.continuation ??= (
          await r.acts.quick.markCopyStart.executeWithOptions(
            { summary: 'mark the change feed of a split target range' },
            [{ ...ref, feedRange: range.feedRange, mode: copy.mode, of: 'target' }]
          )
        ).continuation;
        return r.acts.range.reverseSyncRange.executeWithOptions(
          { summary: `reverse sync of target range ${index + 1}/${ranges.length}` },
          [
            {
              ...ref,
              feedRange: range.feedRange,
              continuation: range.continuation,
              mode: copy.mode,
              batchSize: input.batchSize,
              maxFailures: input.maxFailures,
              ...part,
            },
          ]
        );
      },
      onResult: (_range, res) => {
        result.counters.scanned += res.counters.read;
        result.counters.migrated += res.counters.written + res.counters.deleted;
        result.counters.failed += res.counters.failed;
        result.counters.ruConsumed += res.counters.ruConsumed;
      },
      shouldStop: changed,
      interruptWhen: () => changed() !== undefined,
      listRanges,
    });
    r.rangesStop();
    if (outcome.error) throw outcome.error instanceof Error ? outcome.error : new Error(failureMessage(outcome.error));
    if (outcome.finished) return;
  }
}

/**
 * Latest-version mode: the target's feed carries no deletes, so once the reverse sync is drained (the application
 * stopped) every source range is compared with the target (findDeletedSources): a source document whose copy is gone
 * was deleted by the application after the cutover (the cutover verified every copy existed) and is deleted from the
 * source, ETag-conditioned on the version compared.
 */
async function deleteWhatTheTargetLost(r: RollbackRun, copy: CopyRollbackInput): Promise<void> {
  const { input, result } = r;
  const targetWhere = `${copy.target.database}/${copy.target.container}`;
  await r.step(
    `latest-version mode: compare ${r.where} with ${targetWhere} and delete from it what the application deleted in the target since the cutover`
  );
  const ref = copyRef(r, copy);
  const ranges: LoopRange[] = (
    await r.acts.quick.listFeedRanges.executeWithOptions({ summary: `list feed ranges of ${r.where}` }, [r.ref])
  ).map((feedRange) => ({ feedRange, done: false }));
  let deleted = 0;
  r.rangesStart();
  const outcome = await runRanges<CopyRangeResult, LoopRange>({
    ranges,
    // A scan: a split's children (a merge's union) are compared from their start.
    newRange: (feedRange) => ({ feedRange, done: false }),
    priorityBased: input.priorityBased,
    ruBudget: () => r.ruBudget(),
    concurrency: () => r.concurrency(),
    start: (range, index, part) =>
      r.acts.long.findDeletedSources.executeWithOptions(
        { summary: `find what the application deleted in the target: source range ${index + 1}/${ranges.length}` },
        [
          {
            ...ref,
            feedRange: range.feedRange,
            continuation: range.continuation,
            batchSize: input.batchSize,
            maxFailures: input.maxFailures,
            ...(copy.copyComplete === true ? {} : { keepMissing: true }),
            ...part,
          },
        ]
      ),
    onResult: (_range, res) => {
      deleted += res.counters.deleted;
      result.counters.scanned += res.counters.read;
      result.counters.migrated += res.counters.deleted;
      result.counters.failed += res.counters.failed;
      result.counters.ruConsumed += res.counters.ruConsumed;
      for (const f of res.failures) result.problems.push(`${f.id}: ${f.error}`);
    },
    listRanges: () =>
      r.acts.quick.listFeedRanges.executeWithOptions({ summary: `list feed ranges of ${r.where}` }, [r.ref]),
  });
  r.rangesStop();
  if (outcome.error) throw outcome.error instanceof Error ? outcome.error : new Error(failureMessage(outcome.error));
  await r.step(
    `${deleted} document(s) the application deleted in ${targetWhere} since the cutover deleted from ${r.where}`
  );
}

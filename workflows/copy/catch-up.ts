/**
 * The copy's catch-up (phase catching-up): the source's change feed from the start points taken before the backfill,
 * into the target (syncCopyRange: creates, updates, and deletes in all-versions-and-deletes mode), in rounds that read
 * every range to its head, with the lag in the status as for the in-place catch-up (`catchUp.secondsBehind`), until
 * the operator's `cutover` signal (the application no longer writes to the source). A copy always cuts over on the
 * signal (docs/runbook.md "Copy mode"): pointing the application at another container is the operator's decision, and
 * a quiet feed does not say the writers are gone. After the signal the feed is drained to its head once more: lag
 * zero, and the run verifies at that cutover point (workflows/copy/cutover.ts).
 */
import type { SyncCopyResult } from '../../common/copy';
import type { Run } from '../run/run';
import type { Transition } from '../run/transition';
import { CATCH_UP_ROUND_MS } from '../phases/catch-up';
import { feedRangeFrom } from './feed-continuation';
import { afterRound, copyRef, copyRound, failuresLeft, listRangesOf } from './ranges';

export async function copyCatchUp(run: Run): Promise<Transition> {
  const { state, options, inbox } = run;
  const cu = state.catchUp!;
  const ref = copyRef(run);
  const mode = state.copy!.outcome.mode;
  if (cu.cutoverBy === undefined) {
    inbox.ask({
      kind: 'cutover',
      signals: ['cutover', 'rollback'],
      reason:
        'send cutover once the application no longer writes to the source: the feed is drained to its head, the copy verified, and the cutover hook points the application at the target',
    });
  }
  if (state.phase !== 'catching-up') {
    await run.enterPhase('catching-up', "following the source's change feed into the target until the cutover signal");
  }
  const cutoverAsked = () => inbox.cutoverBy ?? state.gates.cutoverRequestedBy;
  const leaving = (t: Transition): Transition => {
    inbox.stopAsking('cutover');
    return t;
  };
  const completions = { n: 0 };
  for (;;) {
    for (const range of cu.ranges) range.done = false;
    let behind = 0;
    const outcome = await copyRound<SyncCopyResult>(
      run,
      {
        ranges: cu.ranges,
        stopsFor: 'all',
        listRanges: () => listRangesOf(run, 'source'),
        // A split's children (a merge's union) go on from where the ranges they replace had got to: no change made
        // between their last page and the split is missed (feed-continuation.ts).
        newRange: feedRangeFrom,
        afterSplit: "each goes on from the parent's point in the change feed",
        afterMerge: "the merged range goes on from its parts' points in the change feed",
        start: async (range, index, part) => {
          // Only a range that never had a start point (none in practice: every source range is marked before the
          // backfill, and a split's children inherit their parent's).
          range.continuation ??= (
            await run.acts.quick.markCopyStart.executeWithOptions(
              { summary: `mark the change feed of a split source range` },
              [{ ...ref, feedRange: range.feedRange, mode }]
            )
          ).continuation;
          return run.acts.range.syncCopyRange.executeWithOptions(
            { summary: `catch up source range ${index + 1}/${cu.ranges.length} from the change feed` },
            [
              {
                ...ref,
                feedRange: range.feedRange,
                continuation: range.continuation,
                mode,
                batchSize: options.batchSize,
                maxFailures: failuresLeft(run),
                ...part,
              },
            ]
          );
        },
        onResult: (result) => {
          cu.caughtUp += result.counters.written + result.counters.deleted;
          behind = Math.max(behind, result.secondsBehind);
        },
      },
      completions
    );
    cu.secondsBehind = behind;
    const next = await afterRound(run, outcome, 'catching-up');
    if (next === 'again') continue;
    if (next !== 'done') return leaving(next);
    run.refreshDetails();
    if (cu.cutoverBy !== undefined) {
      run.note(
        `drained to the head of the source's change feed after the cutover: lag 0, ${cu.caughtUp} change(s) caught up in all`
      );
      return leaving({ to: 'verifying' });
    }
    const by = cutoverAsked();
    if (by !== undefined) {
      run.note(`cutover by ${by}: draining the source's change feed to its head`);
      cu.cutoverBy = by;
      continue;
    }
    const waited = await run.waitFor(
      () => inbox.rollbackRequested || inbox.pauseRequested !== undefined || cutoverAsked() !== undefined,
      CATCH_UP_ROUND_MS,
      'next catch-up round'
    );
    if (waited === 'continue-as-new') return { to: 'continue-as-new' };
  }
}

/**
 * Monitoring after a copy's cutover: the health checks of phases/monitor.ts, and before each one a round of the
 * reverse sync when the plan proved down() (reverseSyncRange: every target range's change feed, from the cutover
 * point, written back into the source through down(), deletes included), so the source keeps up with the
 * application's writes to the target and a rollback loses none of them. When monitoring ends the run completes: the
 * reverse sync stops, and the source is kept as it is (the run never deletes it; docs/runbook.md "Copy mode").
 */
import type { SyncCopyResult } from '../../common/copy';
import { addCopyCounters } from '../../common/copy';
import { failureMessage } from '../../common/failure-message';
import { monitor } from '../phases/monitor';
import type { Run } from '../run/run';
import type { Transition } from '../run/transition';
import { copyRef, copyRound, listRangesOf } from './ranges';
import { feedRangeFrom } from './feed-continuation';

export async function copyMonitor(run: Run): Promise<Transition> {
  const copy = run.state.copy!;
  const next = await monitor(run, copy.plan.reverseSync ? () => reverseRound(run) : undefined);
  if (next.to === 'end' && next.end.status === 'completed') {
    run.note(
      `monitoring over: the reverse sync stops${copy.plan.reverseSync ? '' : ' (there was none: down() was not proved)'}; the source ${run.where} is kept as it is: retire it yourself (docs/runbook.md "Copy mode")`
    );
  }
  return next;
}

/**
 * One round of the reverse sync: every target range read to its head. Returns true when it stopped for a rollback
 * (the rollback drains from where it stopped). Its counters are the reverse sync's own, apart from the copy's.
 */
export async function reverseRound(run: Run): Promise<boolean> {
  const { state, options } = run;
  const copy = state.copy!;
  const sync = copy.outcome.reverseSync!;
  const ref = copyRef(run);
  const ranges = copy.reverseRanges ?? [];
  for (const range of ranges) range.done = false;
  let behind = 0;
  const outcome = await copyRound<SyncCopyResult>(
    run,
    {
      ranges,
      stopsFor: 'rollback',
      countInRun: false,
      afterSplit: "each goes on from the parent's point in the target's change feed",
      afterMerge: "the merged range goes on from its parts' points in the target's change feed",
      listRanges: () => listRangesOf(run, 'target'),
      // A split's children (a merge's union) go on from where the target ranges they replace had got to: none of
      // the application's writes made before the split is missed (feed-continuation.ts).
      newRange: feedRangeFrom,
      start: async (range, index, part) => {
        // Only a range that never had a start point (none in practice: every target range is marked at the cutover
        // point, and a split's children inherit their parent's).
        range.continuation ??= (
          await run.acts.quick.markCopyStart.executeWithOptions(
            { summary: 'mark the change feed of a split target range' },
            [{ ...ref, feedRange: range.feedRange, mode: copy.outcome.mode, of: 'target' }]
          )
        ).continuation;
        return run.acts.range.reverseSyncRange.executeWithOptions(
          { summary: `reverse sync of target range ${index + 1}/${ranges.length}` },
          [
            {
              ...ref,
              feedRange: range.feedRange,
              continuation: range.continuation,
              mode: copy.outcome.mode,
              batchSize: options.batchSize,
              maxFailures: 0,
              ...part,
            },
          ]
        );
      },
      onResult: (result) => {
        sync.counters = addCopyCounters(sync.counters, result.counters);
        behind = Math.max(behind, result.secondsBehind);
      },
    },
    { n: 0 }
  );
  sync.secondsBehind = behind;
  if (outcome.error) throw outcome.error instanceof Error ? outcome.error : new Error(failureMessage(outcome.error));
  return !outcome.finished;
}

/**
 * The copy's backfill (phase migrating; docs/migrations.md "Copy mode", "Ordering"): the target created through ARM
 * (prepareCopyTarget), the start point of every source feed range's change feed taken (markCopyStart) before any
 * range is read, then every source range copied through up() into the target (copyRange) by the one range loop, its
 * continuation in the run's state after every activity so a killed worker or continue-as-new goes on from there.
 * The source is only read.
 */
import { zeroCounters } from '../../common/counters';
import type { Run } from '../run/run';
import type { Transition } from '../run/transition';
import { pauseThenResume } from '../phases/migrate';
import { afterRound, copyRef, copyRound, failuresLeft, listRangesOf } from './ranges';

/** After the approval (instead of the in-place snapshot: the source is never written, there is no T0 to restore). */
export async function startCopy(run: Run): Promise<Transition> {
  run.state.migrating.since = run.now();
  await run.enterPhase('migrating', `copying into ${run.state.migration.target!.container}`);
  return { to: 'migrating' };
}

export async function copyBackfill(run: Run): Promise<Transition> {
  const { state, options } = run;
  const copy = state.copy!;
  const ref = copyRef(run);
  if (copy.outcome.targetCreated === undefined) {
    const prepared = await run.acts.arm.prepareCopyTarget.executeWithOptions(
      { summary: `create the target ${ref.database}/${ref.target.container}` },
      [{ ...ref, createdByThisRun: false }]
    );
    copy.outcome.targetCreated = prepared.created;
    run.note(
      `target ${ref.target.container} ${prepared.created ? 'created' : 'found empty'} with partition key ${prepared.partitionKeyPaths.join(', ')}`
    );
  }
  if (!state.catchUp) {
    // Every start point before any range is read: the catch-up replays the feed from there, so nothing written while
    // the backfill runs is missed.
    const ranges = await listRangesOf(run, 'source');
    const starts = await Promise.all(
      ranges.map((feedRange, i) =>
        run.acts.quick.markCopyStart.executeWithOptions(
          { summary: `mark the change feed of source range ${i + 1}/${ranges.length}` },
          [{ ...ref, feedRange, mode: copy.outcome.mode }]
        )
      )
    );
    state.catchUp = {
      ranges: ranges.map((feedRange, i) => ({ feedRange, continuation: starts[i]!.continuation, done: false })),
      startTime: starts.map((s) => s.at).sort()[0] ?? run.now(),
      caughtUp: 0,
      oldShapeSeen: 0,
      secondsBehind: 0,
    };
    state.migrating.ranges = ranges.map((feedRange) => ({ feedRange, done: false, counters: zeroCounters() }));
    run.note(`change feed start points taken for ${ranges.length} source range(s) before the backfill`);
  }
  if (state.phase === 'paused') {
    const next = await pauseThenResume(run, state.lastError ?? 'paused', state.migrating.pausedBecause);
    if (next) return next;
  }
  const ranges = state.migrating.ranges!;
  const completions = { n: 0 };
  for (;;) {
    const outcome = await copyRound(
      run,
      {
        ranges,
        stopsFor: 'all',
        listRanges: () => listRangesOf(run, 'source'),
        newRange: (feedRange) => ({ feedRange, done: false, counters: zeroCounters() }),
        start: (range, index, part) =>
          run.acts.range.copyRange.executeWithOptions({ summary: `copy source range ${index + 1}/${ranges.length}` }, [
            {
              ...ref,
              feedRange: range.feedRange,
              continuation: range.continuation,
              batchSize: options.batchSize,
              maxFailures: failuresLeft(run),
              ...part,
            },
          ]),
      },
      completions
    );
    const next = await afterRound(run, outcome, 'migrating');
    if (next === 'again') continue;
    if (next !== 'done') return next;
    run.note(`backfill done: ${copy.outcome.copied.written} cop(ies) written`);
    return { to: 'catching-up' };
  }
}

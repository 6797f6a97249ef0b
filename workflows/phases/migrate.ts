/**
 * Migrating (the manual runbook's "execute migration"): the container steps, then every feed range through the range loop
 * (workflows/ranges.ts), checkpointed in the run's state. Stops for a rollback, a pause (failures over the threshold,
 * the lease lost, the maintenance window closed) or continue-as-new.
 */
import { workflowInfo } from '@temporalio/workflow';
import { addCounters, zeroCounters } from '../../common/counters';
import { migrateAllRanges, type MigrateOutcome } from '../ranges';
import { rangeShare, shareGrew } from '../budget-share';
import { failureMessage } from '../../common/failure-message';
import { MAX_FAILURES_KEPT, budgetOf, concurrencyOf } from '../state';
import type { Run } from '../run/run';
import { end, type Transition } from '../run/transition';

export async function migrate(run: Run): Promise<Transition> {
  const { state, options } = run;
  const { migration } = state;
  if (!state.steps && migration.containerSteps && !options.dryRun) await applyContainerSteps(run);
  if (!migration.migratesDocuments) return migrated(run);
  const ref = { database: migration.database, container: migration.container };
  if (state.rollback.preimages && state.rollback.preimagesContainer === undefined) {
    const made = await run.acts.arm.ensurePreimagesContainer.executeWithOptions(
      { summary: `pre-images container for ${run.where}` },
      [{ ...ref, throughput: options.preimagesThroughput }]
    );
    state.rollback.preimagesContainer = made.name;
    run.note(`pre-images go to ${migration.database}/${made.name}${made.created ? ' (created)' : ''}`);
  }
  if (!state.migrating.ranges) {
    const ranges = await listFeedRanges(run);
    state.migrating.ranges = ranges.map((feedRange) => ({ feedRange, done: false, counters: zeroCounters() }));
  }
  // A run continued as new while paused waits on where the last one stopped.
  if (state.phase === 'paused') {
    const next = await pauseThenResume(run, state.lastError ?? 'paused', state.migrating.pausedBecause);
    if (next) return next;
  }
  let completionsThisRun = 0;
  const priorityBased = state.backup?.priorityBasedExecution === true;
  for (;;) {
    // Live controls: a budget or concurrency change, or a pause, interrupts the ranges in flight after their page.
    const seen = run.inbox.controlsVersion;
    const shareAtStart = shareNow(state, priorityBased);
    run.inbox.rangesStarted(seen);
    const outcome = await migrateAllRanges({
      range: run.acts.range,
      ranges: state.migrating.ranges,
      base: {
        ...ref,
        migration: migration.id,
        checksum: migration.checksum,
        direction: options.direction,
        batchSize: options.batchSize,
        dryRun: options.dryRun,
        maxPages: state.tuning.maxPagesPerActivity,
        ...(state.rollback.preimages ? { preimages: true } : {}),
      },
      ruBudget: () => budgetOf(state),
      concurrency: () => concurrencyOf(state),
      priorityBased,
      failureAllowance: () => state.migrating.failureAllowance - state.migrating.counters.failed,
      onResult: (counters, failures, result) => {
        completionsThisRun++;
        state.migrating.counters = addCounters(state.migrating.counters, counters);
        const room = MAX_FAILURES_KEPT - state.migrating.failures.length;
        if (room > 0) state.migrating.failures.push(...failures.slice(0, room));
        // With priority-based execution a finished range's part of the RU budget goes to the ranges still running:
        // they restart with it, as on a budget change, once it has grown enough to be worth the pages in flight.
        if (
          result?.done &&
          shareGrew(shareAtStart, shareNow(state, priorityBased)) &&
          stopReason(run, completionsThisRun, seen) === undefined
        ) {
          run.inbox.controlsChanged();
          const left = (state.migrating.ranges ?? []).filter((r) => !r.done).length;
          run.note(`a feed range is done: the RU budget goes to the ${left} range(s) left`);
        }
        run.refreshDetails();
      },
      shouldStop: () => stopReason(run, completionsThisRun, seen),
      interruptWhen: () =>
        run.inbox.rollbackRequested || run.inbox.pauseRequested !== undefined || run.inbox.controlsVersion !== seen,
      listRanges: () => listFeedRanges(run),
      onSplit: (_parent, children) => {
        run.note(`a feed range split into ${children.length}: they go on from their start`);
        run.refreshDetails();
      },
      onMerge: () => {
        run.note('feed ranges merged: the merged range goes on from its start');
        run.refreshDetails();
      },
    });
    // No range is in flight any more: whatever the controls say now is in force.
    run.inbox.rangesStopped();
    if (outcome.finished) return migrated(run);
    // A failure pauses the run whatever else stopped it.
    if (!outcome.error && outcome.stoppedBecause === 'rollback') return rollingBack(run, 'rollback requested');
    // The ranges restart at once with the new budget or concurrency.
    if (!outcome.error && outcome.stoppedBecause === 'controls') continue;
    if (!outcome.error && outcome.stoppedBecause === 'continue-as-new') {
      // A rollback asked for while the ranges drained is not lost in the next run.
      if (run.inbox.rollbackRequested) {
        return rollingBack(run, 'rollback requested');
      }
      // Nor a pause: the inbox does not cross continue-as-new, so the run pauses here (and a long pause continues as
      // new from the paused state, which does).
      if (run.inbox.pauseRequested === undefined) return { to: 'continue-as-new' };
      outcome.stoppedBecause = 'pause';
    }
    const next = await pauseThenResume(
      run,
      pauseReason(run, outcome),
      outcome.error ? 'error' : outcome.stoppedBecause
    );
    if (next) return next;
  }
}

/** Paused until the operator decides; undefined when the run goes on migrating. */
export async function pauseThenResume(
  run: Run,
  reason: string,
  because?: string,
  phase: 'migrating' | 'catching-up' = 'migrating'
): Promise<Transition | undefined> {
  const decision = await run.pause(reason, 'migrating', because);
  if (decision === 'rollback') return rollingBack(run, 'rollback requested');
  if (decision === 'continue-as-new') return { to: 'continue-as-new' };
  // Resuming after the window closed is the operator's decision to go on outside it.
  if (because === 'window') run.state.gates.windowOverridden = true;
  await run.enterPhase(phase, 'resumed');
  return undefined;
}

function listFeedRanges(run: Run): Promise<string[]> {
  const { database, container } = run.state.migration;
  return run.acts.quick.listFeedRanges.executeWithOptions({ summary: `list feed ranges of ${run.where}` }, [
    { database, container },
  ]);
}

async function applyContainerSteps(run: Run): Promise<void> {
  const { state } = run;
  const { migration } = state;
  const ref = { database: migration.database, container: migration.container };
  const steps = await run.acts.arm.applyContainerSteps.executeWithOptions(
    { summary: `container steps on ${run.where}` },
    [{ ...ref, migration: migration.id, checksum: migration.checksum, direction: run.options.direction }]
  );
  state.steps = steps;
  if (steps.applied.length) run.note(steps.applied.join('; '), 'migrating');
  if (migration.containerSteps?.indexingPolicy && steps.applied.length) {
    await run.acts.arm.waitForIndexTransformation.executeWithOptions(
      { summary: `wait for the index rebuild of ${run.where}` },
      [ref]
    );
  }
}

/** The part of the budget a range started now would get (budget-share.ts). */
function shareNow(state: Run['state'], priorityBased: boolean): number | undefined {
  const ranges = state.migrating.ranges ?? [];
  return rangeShare(budgetOf(state), {
    ranges: ranges.length,
    unfinished: ranges.filter((r) => !r.done).length,
    inFlight: 0,
    concurrency: concurrencyOf(state),
    priorityBased,
  });
}

/** Every range done: a dry run ends here, a real one is verified. */
function migrated(run: Run): Transition {
  if (!run.options.dryRun) return { to: 'catching-up' };
  return end({
    phase: 'completed',
    status: 'dry-run',
    reason: `dry run: ${run.state.migrating.counters.migrated} document(s) would change`,
  });
}

export function rollingBack(run: Run, reason: string): Transition {
  return { to: 'rolling-back', reason: run.inbox.takeRollback() ?? reason };
}

/** A reason to stop starting new work: rollback asked, lease lost, window closed, continue-as-new due. */
export function stopReason(run: Run, completionsThisRun: number, controlsSeen: number): string | undefined {
  if (run.inbox.rollbackRequested) return 'rollback';
  if (run.inbox.pauseRequested !== undefined) return 'pause';
  if (run.inbox.controlsVersion !== controlsSeen) return 'controls';
  if (run.lease.lost) return 'lease';
  const window = run.options.maintenanceWindow;
  if (window && !run.state.gates.windowOverridden && Date.now() > Date.parse(window.end)) return 'window';
  const { continueAsNewSuggested } = workflowInfo();
  if (continueAsNewSuggested || completionsThisRun >= run.state.tuning.continueAsNewAfterActivities) {
    return 'continue-as-new';
  }
  return undefined;
}

export function pauseReason(run: Run, outcome: MigrateOutcome): string {
  if (outcome.error) {
    // The engine's message says how many failed, the threshold and the first ids and errors.
    return outcome.thresholdExceeded
      ? failureMessage(outcome.error)
      : `migrating failed: ${failureMessage(outcome.error)}`;
  }
  if (outcome.stoppedBecause === 'lease') return run.lease.lost!;
  if (outcome.stoppedBecause === 'pause') {
    return run.inbox.takePause() ?? 'paused by the operator';
  }
  if (outcome.stoppedBecause === 'window') {
    return `the maintenance window closed at ${run.options.maintenanceWindow!.end}: no new work is started; resume to go on anyway`;
  }
  return `migrating stopped: ${outcome.stoppedBecause}`;
}

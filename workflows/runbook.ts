/**
 * migrationRunbook: the manual database-migration runbook as one durable workflow (docs/architecture.md §2), a machine
 * of phases, each its own module under workflows/phases with the run's state in one object (workflows/state.ts):
 *
 *   preflight → awaiting-approval → snapshot → migrating → verifying → monitoring → completed
 *
 * with paused, rolling-back (a child workflow), rolled-back, rollback-failed and aborted on the way when things go
 * wrong. Each phase returns a Transition (workflows/run/transition.ts); only this file moves between phases, continues
 * as new, and ends the run. Only ids, counts and tokens enter history: never document contents.
 */
import {
  ApplicationFailure,
  ContinueAsNew,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { RunbookActivities } from '../common/activities';
import type { RunbookReport } from '../common/report';
import type { RunbookStart } from '../common/runbook-input';
import { runbookActivities } from './activities';
import { statusQuery } from './messages';
import { awaitApproval } from './phases/approval';
import { finish } from './phases/finish';
import { catchUp } from './phases/catch-up';
import { copyBackfill, startCopy } from './copy/backfill';
import { copyCatchUp } from './copy/catch-up';
import { copyCutover } from './copy/cutover';
import { copyMonitor } from './copy/monitor';
import { copyPreflight } from './copy/preflight';
import { migrate } from './phases/migrate';
import { monitor } from './phases/monitor';
import { preflight, startRun } from './phases/preflight';
import { rollBack } from './rollback/phase';
import { snapshot } from './phases/snapshot';
import { verify } from './phases/verify';
import { failureMessage } from '../common/failure-message';
import { registerControls } from './run/controls';
import { pausingOnFailure } from './run/failures';
import { Inbox } from './run/inbox';
import { Lease } from './run/lease';
import { Run } from './run/run';
import { initialStatus, previewOptions, runStatus } from './run/status';
import type { RunEnd, Transition } from './run/transition';
import type { CarriedState } from './state';
import { ErrorType } from '../common/errors';

export type { CarriedState } from './state';

export async function migrationRunbook(input: unknown, carried?: CarriedState): Promise<RunbookReport> {
  // Signals and the status query first, so nothing sent early is lost and the query answers from the start.
  const inbox = new Inbox();
  let run: Run | undefined;
  let start: RunbookStart | undefined = carried && { options: carried.options, tuning: carried.tuning };
  inbox.register({
    phase: () => run?.state.phase ?? 'preflight',
    dryRun: () => (start?.options ?? previewOptions(input)).dryRun,
    // A copy always cuts over on the signal (workflows/copy/catch-up.ts).
    cutover: () => (run?.state.copy ? 'signal' : ((start?.options ?? previewOptions(input)).cutover ?? 'auto')),
    note: (text) => {
      log.info('runbook signal', { note: text });
      run?.note(text);
      run?.refreshDetails();
    },
    changed: () => run?.refreshDetails(),
  });
  registerControls(() => run, inbox);
  const { startTime } = workflowInfo();
  setHandler(statusQuery, () =>
    run ? runStatus(run.state, inbox, Date.now()) : initialStatus(start?.options ?? previewOptions(input), startTime)
  );
  start ??= await resolveStart(input);
  const acts = runbookActivities(start.tuning);

  let report: RunbookReport;
  let ended: RunEnd;
  try {
    let next: Transition;
    if (carried) {
      run = resumeRun(carried, inbox, acts);
      next = resumeAt(carried);
    } else {
      run = await startRun(start, inbox, acts);
      next = run.state.migration.target ? await copyPreflight(run) : await preflight(run);
    }
    ended = await runPhases(run, next);
    report = await finish(run, ended);
  } catch (err) {
    // Continue-as-new hands the lease to the next run; any other way out gives it up.
    if (!(err instanceof ContinueAsNew)) await run?.lease.release();
    throw err;
  }
  await run.lease.release();
  if (ended.phase === 'failed') throw ApplicationFailure.nonRetryable(ended.reason, ErrorType.PreflightFailed);
  await condition(allHandlersFinished);
  return report;
}

/** Moves from phase to phase until the run ends (or continues as new, which does not return). */
async function runPhases(run: Run, first: Transition): Promise<RunEnd> {
  let next = first;
  // Copy mode (a module with `target`) has phases of its own under the same names: workflows/copy/.
  const copy = run.state.migration.target !== undefined;
  for (;;) {
    switch (next.to) {
      case 'end':
        return next.end;
      case 'awaiting-approval':
        next = await awaitApproval(run);
        break;
      case 'snapshot':
        next = copy ? await startCopy(run) : await snapshot(run);
        break;
      case 'migrating':
        next = await pausingOnFailure(run, 'migrating', () => (copy ? copyBackfill(run) : migrate(run)));
        break;
      case 'catching-up':
        next = await pausingOnFailure(run, 'catching-up', () => (copy ? copyCatchUp(run) : catchUp(run)));
        break;
      case 'verifying':
        next = await pausingOnFailure(run, 'verifying', () => (copy ? copyCutover(run) : verify(run)));
        break;
      case 'monitoring':
        next = await pausingOnFailure(run, 'monitoring', () => (copy ? copyMonitor(run) : monitor(run)));
        break;
      case 'rolling-back':
        return rollBack(run, next.reason);
      case 'continue-as-new':
        return continueAsNewWithState(run);
    }
  }
}

/**
 * Input defaults are resolved once, when the run starts, by a local activity whose result history keeps: a default
 * changed in a later release never changes what an open run replays. Bad input fails the run at once, non-retryably,
 * naming each field.
 */
async function resolveStart(input: unknown): Promise<RunbookStart> {
  const invalid = (message: string) => ApplicationFailure.nonRetryable(message, ErrorType.InvalidInput);
  const { resolveRunbookInput } = proxyLocalActivities<RunbookActivities>({
    startToCloseTimeout: '1 minute',
    retry: { maximumAttempts: 3, nonRetryableErrorTypes: [ErrorType.InvalidInput] },
  });
  try {
    return await resolveRunbookInput({ input });
  } catch (err) {
    throw invalid(failureMessage(err));
  }
}

/** A run continued as new: the same lease, renewed again; it resumes migrating where the last one stopped. */
function resumeRun(carried: CarriedState, inbox: Inbox, acts: ReturnType<typeof runbookActivities>): Run {
  const { workflowId } = workflowInfo();
  const lease = new Lease(acts.quick, carried.tuning, workflowId, carried.leaseKey);
  const run = new Run(carried, inbox, lease, acts, workflowId);
  lease.keep();
  run.refreshDetails();
  return run;
}

/** Where a run continued as new goes on: the gates it was waiting at, a pause, or migrating. */
function resumeAt(state: CarriedState): Transition {
  if (state.phase === 'preflight' || state.phase === 'awaiting-approval') return { to: 'awaiting-approval' };
  if (state.phase === 'paused' && state.migrating.pausedIn === 'verifying') return { to: 'verifying' };
  if (state.phase === 'monitoring') return { to: 'monitoring' };
  if (state.phase === 'catching-up') return { to: 'catching-up' };
  return { to: 'migrating' };
}

async function continueAsNewWithState(run: Run): Promise<never> {
  const { state } = run;
  state.generation += 1;
  // A cutover the operator already sent is not lost with the inbox.
  state.gates.cutoverRequestedBy ??= run.inbox.cutoverBy;
  run.note(`continued as new (generation ${state.generation})`);
  run.lease.stopRenewing();
  await condition(allHandlersFinished);
  return continueAsNew<typeof migrationRunbook>(null, state);
}

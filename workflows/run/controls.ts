/**
 * Live controls (gh-ost style): Temporal Updates that change a running migration and answer its new state. Each is
 * validated first (a rejected update leaves no trace in history); a budget or concurrency change takes effect within
 * a page: the ranges in flight stop after the page they are writing and restart with it. The answer comes once they
 * have stopped, so an operator (or a script) that lowers the budget knows that from the answer on the migration is
 * within it.
 */
import { condition, setHandler } from '@temporalio/workflow';
import { FINAL_PHASES } from '../../common/phases';
import { pauseUpdate, resumeUpdate, setBudgetUpdate, setConcurrencyUpdate, type LiveControls } from '../messages';
import { recordBudget } from '../metrics';
import { budgetOf, concurrencyOf } from '../state';
import type { Inbox } from './inbox';
import type { Run } from './run';

const MAX_CONCURRENCY = 32;
/**
 * The longest a setBudget or setConcurrency answer waits for the ranges in flight to stop. A page takes well under
 * a second at any sane budget; under a budget of a few RU/s it can take minutes, and the answer then says
 * `inForce: false` rather than hold the caller.
 */
export const CONTROLS_IN_FORCE_TIMEOUT = '1 minute';

function answer(run: Run, inbox: Inbox): LiveControls {
  const { state } = run;
  return {
    ruBudget: budgetOf(state) ?? null,
    concurrency: concurrencyOf(state),
    paused: state.phase === 'paused' || inbox.pauseRequested !== undefined,
    phase: state.phase,
  };
}

export function registerControls(current: () => Run | undefined, inbox: Inbox): void {
  /** The run, once preflight has loaded it and while it has not ended. */
  const live = (): Run => {
    const run = current();
    if (!run) throw new Error('the run is still loading its migration: try again in a moment');
    if (FINAL_PHASES.includes(run.state.phase)) throw new Error(`the run has ended (${run.state.phase})`);
    return run;
  };
  const changed = (run: Run, note: string) => {
    inbox.controlsChanged();
    run.note(note);
    run.refreshDetails();
  };
  /** The answer to a budget or concurrency change, once no range started under the old value is in flight. */
  const inForce = (run: Run): Promise<LiveControls> => {
    const version = inbox.controlsVersion;
    // While rolling back, the child runs the ranges: in force once it says so for this change (rollback/context.ts).
    const forwarded = inbox.controlsSentToRollback;
    const applied = () =>
      forwarded > 0 && run.state.phase === 'rolling-back'
        ? inbox.rollbackControlsInForce(forwarded)
        : inbox.controlsInForce(version);
    return condition(applied, CONTROLS_IN_FORCE_TIMEOUT).then((ok) => ({ ...answer(run, inbox), inForce: ok }));
  };

  setHandler(
    setBudgetUpdate,
    (args) => {
      const run = live();
      run.state.migrating.controls = { ...run.state.migrating.controls, ruBudget: args.ruPerSecond };
      if (run.state.phase === 'rolling-back') inbox.forwardControls({ ruBudget: args.ruPerSecond });
      recordBudget(run.state.migration.id, budgetOf(run.state));
      changed(run, `RU budget set to ${args.ruPerSecond === null ? 'none' : `${args.ruPerSecond} RU/s`}`);
      return inForce(run);
    },
    {
      validator: (args) => {
        live();
        const ru = (args as { ruPerSecond?: unknown } | undefined)?.ruPerSecond;
        if (ru !== null && (typeof ru !== 'number' || !Number.isFinite(ru) || ru <= 0)) {
          throw new Error('setBudget: ruPerSecond must be a positive number of RU/s, or null for no cap');
        }
      },
    }
  );
  setHandler(
    setConcurrencyUpdate,
    (args) => {
      const run = live();
      run.state.migrating.controls = { ...run.state.migrating.controls, concurrency: args.concurrency };
      if (run.state.phase === 'rolling-back') inbox.forwardControls({ concurrency: args.concurrency });
      changed(run, `concurrency set to ${args.concurrency}`);
      return inForce(run);
    },
    {
      validator: (args) => {
        live();
        const n = (args as { concurrency?: unknown } | undefined)?.concurrency;
        if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_CONCURRENCY) {
          throw new Error(`setConcurrency: concurrency must be a whole number from 1 to ${MAX_CONCURRENCY}`);
        }
      },
    }
  );
  setHandler(
    pauseUpdate,
    (args?: { reason?: string }) => {
      const run = live();
      inbox.requestPause(`paused by the operator${args?.reason ? `: ${args.reason}` : ''}`);
      run.note(`pause asked: ${inbox.pauseRequested}`);
      run.refreshDetails();
      return answer(run, inbox);
    },
    {
      validator: (_args?: { reason?: string }) => {
        const phase = live().state.phase;
        if (phase !== 'migrating' && phase !== 'catching-up')
          throw new Error(`pause: nothing to pause in phase ${phase} (a migrating or catching-up run pauses)`);
      },
    }
  );
  setHandler(
    resumeUpdate,
    () => {
      const run = live();
      inbox.requestResume();
      return { ...answer(run, inbox), paused: false };
    },
    {
      validator: () => {
        const phase = live().state.phase;
        if (phase !== 'paused') throw new Error(`resume: the run is not paused (phase ${phase})`);
      },
    }
  );
}

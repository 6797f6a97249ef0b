/**
 * `budget <id> <ru|none>`, `concurrency <id> <n>`, `pause <id>`: the live controls of a running migration (Temporal
 * Updates: validated by the run, answered with its new state; a budget or concurrency change once it is in force). A rejected update prints the run's reason and exits 1.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { pauseUpdate, setBudgetUpdate, setConcurrencyUpdate, type LiveControls } from '../../workflows/messages';
import { print, type CliContext } from '../context';
import { emit } from '../output';
import { CliError, rootMessage } from '../errors';
import { runFor, type SignalOptions } from './signals';

export type ControlName = 'budget' | 'concurrency' | 'pause';

function describe(state: LiveControls): string {
  const budget = state.ruBudget === null ? 'no RU budget' : `${state.ruBudget} RU/s`;
  const pending = state.inForce === false ? '; not in force yet: the ranges in flight switch after their page' : '';
  return `${budget}, ${state.concurrency} range(s) at once, phase ${state.phase}${state.paused ? ' (pausing)' : ''}${pending}`;
}

export async function controlCommand(
  ctx: CliContext,
  name: ControlName,
  migrationId: string,
  value: string | undefined,
  options: SignalOptions
): Promise<number> {
  const handle = await runFor(ctx, migrationId, options);
  let state: LiveControls;
  try {
    if (name === 'budget') {
      const ruPerSecond = value === 'none' ? null : Number(value);
      if (ruPerSecond !== null && !(ruPerSecond > 0)) {
        throw new CliError(`budget: "${value}" is not a number of RU/s`, 'give a positive number, or none for no cap');
      }
      state = await handle.executeUpdate(setBudgetUpdate, { args: [{ ruPerSecond }] });
    } else if (name === 'concurrency') {
      state = await handle.executeUpdate(setConcurrencyUpdate, { args: [{ concurrency: Number(value) }] });
    } else {
      state = await handle.executeUpdate(pauseUpdate, { args: [options.reason ? { reason: options.reason } : {}] });
    }
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) throw new CliError(err.cause ? rootMessage(err.cause) : err.message);
    throw err;
  }
  print(`${migrationId} (${handle.workflowId}): ${describe(state)}`);
  emit({ migration: migrationId, workflowId: handle.workflowId, control: name, controls: state });
  return 0;
}

/**
 * resolveRunbookInput: the workflow input validated and its defaults filled in, once, when a run starts. Called as a
 * local activity so the resolved options are kept in the run's history (a marker): a default changed in a later
 * release never changes what an open run replays.
 */
import { ErrorType } from '../common/errors';
import { ApplicationFailure } from '@temporalio/activity';
import { parseRunbookStart, type RunbookStart } from '../common/runbook-input';

export function createInputActivities() {
  return {
    async resolveRunbookInput({ input }: { input: unknown }): Promise<RunbookStart> {
      try {
        return parseRunbookStart(input);
      } catch (err) {
        throw ApplicationFailure.nonRetryable((err as Error).message, ErrorType.InvalidInput);
      }
    },
  };
}

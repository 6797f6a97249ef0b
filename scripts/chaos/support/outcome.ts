/**
 * A run's report, or an error as soon as it stops where only an operator can move it on (`paused`,
 * `rollback-failed`): a chaos case must end with a figure that does not hold, not wait forever.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import type { RunbookReport } from '../../../common/report';
import { statusQuery } from '../../../workflows/messages';

export async function reportOf(handle: WorkflowHandle): Promise<RunbookReport> {
  let done = false;
  const result = (handle.result() as Promise<RunbookReport>).finally(() => {
    done = true;
  });
  const watch = async (): Promise<RunbookReport> => {
    while (!done) {
      const status = await handle.query(statusQuery).catch(() => undefined);
      if (status && (status.phase === 'paused' || status.phase === 'rollback-failed')) {
        await handle.terminate(`chaos: the run stopped in ${status.phase}`).catch(() => undefined);
        throw new Error(`run ${handle.workflowId} stopped in ${status.phase}: ${status.lastError ?? ''}`);
      }
      await sleep(1_000);
    }
    return result;
  };
  return Promise.race([result, watch()]);
}

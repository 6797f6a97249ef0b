/** The production gate `requireStagingRun`: the same migration, same checksum, completed in the staging database. */
import type { StagingRunQuery } from '../../common/activities';
import type { ActivityDeps } from '../deps';
import { readHistory } from './history';

export function createStagingActivities(deps: ActivityDeps) {
  return {
    async checkStagingRun(
      input: StagingRunQuery
    ): Promise<{ found: boolean; workflowId?: string; finishedAt?: string }> {
      const records = await readHistory(deps, input.database, input.migrationId);
      const match = records.find(
        (r) => r.status === 'completed' && r.checksum === input.checksum && r.direction === input.direction
      );
      return match ? { found: true, workflowId: match.workflowId, finishedAt: match.finishedAt } : { found: false };
    },
  };
}

/** A tiny workflow for the foundation tests: one activity, and the runbook's search attributes upserted. */
import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import { COSMOS_CONTAINER, MIGRATION_ID, MIGRATION_PHASE } from '../../common/search-attributes';

export interface FoundationActivities {
  greet(name: string): Promise<string>;
}

const { greet } = proxyActivities<FoundationActivities>({ startToCloseTimeout: '10s' });

export async function roundTrip(name: string): Promise<string> {
  upsertSearchAttributes([
    { key: MIGRATION_ID, value: `rt-${name}` },
    { key: MIGRATION_PHASE, value: 'completed' },
    { key: COSMOS_CONTAINER, value: 'foundation' },
  ]);
  return await greet(name);
}

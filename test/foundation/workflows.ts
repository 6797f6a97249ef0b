/** Tiny workflows for the foundation tests: one activity with the runbook's search attributes; one waiting for a signal. */
import { condition, defineSignal, proxyActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
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

export const goSignal = defineSignal<[string]>('go');

/** Waits for `go` (its state lives only in the server's history), then greets whoever sent it. */
export async function waitForGo(): Promise<string> {
  let who: string | undefined;
  setHandler(goSignal, (name) => void (who = name));
  await condition(() => who !== undefined);
  return await greet(who!);
}

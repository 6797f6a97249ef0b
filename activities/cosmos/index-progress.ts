/**
 * Index transformation after an indexing-policy change: ARM accepts the new policy at once, then Cosmos rebuilds
 * the index in the background; queries may be incomplete until the rebuild reaches 100 %. The progress is the
 * data-plane header x-ms-documentdb-collection-index-transformation-progress on a container read with
 * populateQuotaInfo. An endpoint that does not report it answers -1 (the stock emulator server did; the local one
 * reports a rebuild's progress: local/cosmos/index-transformation.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { log } from '@temporalio/activity';
import type { Container } from '@azure/cosmos';
import type { ContainerRef } from '../../common/activities';
import type { ActivityDeps } from '../deps';
import { activityContext, heartbeat } from './requests';

/** -1: the endpoint does not report index transformation progress. */
export const PROGRESS_NOT_REPORTED = -1;

export async function readIndexProgress(container: Container): Promise<number> {
  const response = await container.read({ populateQuotaInfo: true });
  const raw = response.headers['x-ms-documentdb-collection-index-transformation-progress'];
  // A missing header means the same as -1 does (.NET maps absence to -1).
  if (raw === undefined || raw === null || raw === '') return PROGRESS_NOT_REPORTED;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`index transformation progress header is not a number: ${String(raw)}`);
  return value;
}

/** Sleeps `ms`: cancellably inside an activity (Context.sleep, @temporalio/activity lib/index.js), plainly outside. */
async function pauseFor(ms: number): Promise<void> {
  const context = activityContext();
  if (context) await context.sleep(ms);
  else await sleep(ms);
}

/**
 * The one wait for an index rebuild (after an indexing-policy step, after a restore): polls the progress until 100,
 * heartbeating it. An endpoint that does not report progress (-1) is not waited for, with a warning.
 */
export async function waitForIndexRebuild(container: Container, where: string, pollMs = 2000): Promise<number> {
  for (;;) {
    const progress = await readIndexProgress(container);
    if (progress === PROGRESS_NOT_REPORTED) {
      const message = `${where}: the endpoint does not report index transformation progress (-1); not waiting for it`;
      if (activityContext()) log.warn(message);
      else console.warn(message);
      return progress;
    }
    if (progress >= 100) return progress;
    heartbeat({ indexProgress: progress });
    await pauseFor(pollMs);
  }
}

export async function waitForIndexTransformation(
  deps: ActivityDeps,
  input: ContainerRef,
  pollMs = 2000
): Promise<{ progress: number }> {
  const container = deps.cosmos.database(input.database).container(input.container);
  return { progress: await waitForIndexRebuild(container, `${input.database}/${input.container}`, pollMs) };
}

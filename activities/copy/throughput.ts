/**
 * The copy's target throughput lowered at the cutover point (target.throughputAfterCopy): the backfill's RU/s are no
 * longer needed once the copy's own writes are done. Through ARM (@azure/arm-cosmosdb), as container steps set
 * throughput (activities/arm/ensure-container.ts applyThroughput: a no-op when it is already so, so a retry is safe).
 * Azure refuses a value below the container's minimum (https://learn.microsoft.com/azure/cosmos-db/concepts-limits#minimum-throughput-limits):
 * the activity fails and the run pauses with Azure's message.
 */
import type { CopyRef } from '../../common/copy';
import type { ActivityDeps } from '../deps';
import { applyThroughput } from '../arm/ensure-container';

export async function setCopyTargetThroughput(
  deps: ActivityDeps,
  input: CopyRef & { throughput: number }
): Promise<{ changed: boolean }> {
  return { changed: await applyThroughput(deps, input.target, { throughput: input.throughput }) };
}

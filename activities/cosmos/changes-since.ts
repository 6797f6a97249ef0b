/**
 * A mark in a container's change feed and the changes since it: how a step that proved something of a container's
 * documents (that a copy's target holds only the run's copies) tells, just before it acts on that proof (deletes the
 * container), that nothing was created or replaced in between. The whole container's feed, in latest-version mode,
 * from "now": the continuation @azure/cosmos gives back is composite over the container's ranges and follows splits
 * (client/ChangeFeed/ChangeFeedForEpkRange.js). Deletes are not in that feed, and need not be: a document deleted
 * since cannot be lost by deleting the container.
 */
import { ChangeFeedStartFrom, PriorityLevel, type Container } from '@azure/cosmos';

/** The change feed's position now (read once from now; anything that one read returned is before the mark). */
export async function markChanges(container: Container): Promise<string> {
  const feed = container.items.getChangeFeedIterator({
    priorityLevel: PriorityLevel.Low,
    maxItemCount: 1,
    changeFeedStartFrom: ChangeFeedStartFrom.Now(),
  });
  const first = await feed.readNext();
  if (!first.continuationToken) throw new Error(`the change feed of ${container.id} gave no continuation`);
  return first.continuationToken;
}

/** Documents created or replaced since `mark` (a change counted once per version), read to the feed's head. */
export async function changesSince(container: Container, mark: string): Promise<number> {
  const feed = container.items.getChangeFeedIterator({
    priorityLevel: PriorityLevel.Low,
    maxItemCount: 100,
    changeFeedStartFrom: ChangeFeedStartFrom.Continuation(mark),
  });
  let changes = 0;
  for (;;) {
    const page = await feed.readNext();
    // An empty page (304 Not Modified) is the head: the pull model's hasMoreResults never turns false.
    if (page.result.length === 0) return changes;
    changes += page.result.length;
  }
}

/**
 * The two loops the whole run is compared with, on the same endpoint and the same kind of data:
 *
 * - the hand-written bulk loop, the practical limit: pages of documents at the old version (one query, pages of 100
 *   in order), each page transformed and bulk-replaced with `ifMatch` on its _etag, 4 pages in flight;
 * - a migrate-mongo-style loop: the same pages, each document replaced one at a time, awaited.
 */
import { BulkOperationType, type Container, type JSONObject, type OperationInput } from '@azure/cosmos';
import { isConnectionBroken } from '../activities/cosmos/requests';
import { addTier } from './migrations/bench-add-tier';
import { PAGE_SIZE, type Doc } from './data';

const OLD_VERSION = 'SELECT * FROM c WHERE c.schemaVersion = 1';
const IN_FLIGHT = 4;

function migrated(doc: Doc): Doc {
  return { ...(addTier(doc) as Doc), schemaVersion: 2 };
}

/**
 * One bulk replace of a page. A broken connection (items.bulk does not retry it) is sent again, as the engine does;
 * an operation that was applied the first time then answers 412, which nobody else writing here means "done".
 */
async function replacePage(container: Container, docs: Doc[]): Promise<void> {
  const operations: OperationInput[] = docs.map((doc) => ({
    operationType: BulkOperationType.Replace,
    id: doc.id,
    partitionKey: doc.tenantId,
    ifMatch: doc._etag as string,
    resourceBody: migrated(doc) as unknown as JSONObject,
  }));
  for (let attempt = 1; ; attempt++) {
    try {
      const responses = await container.items.bulk(operations, { continueOnError: true });
      const failed = responses.filter((r) => r.statusCode >= 300 && !(attempt > 1 && r.statusCode === 412));
      if (failed.length) throw new Error(`bulk replace: ${failed.length} failed (status ${failed[0]!.statusCode})`);
      return;
    } catch (err) {
      if (!isConnectionBroken(err) || attempt >= 5) throw err;
    }
  }
}

/** The hand-written bulk loop over the whole container; returns the documents written. */
export async function bulkLoop(container: Container): Promise<number> {
  const pages = container.items.query<Doc>(OLD_VERSION, { maxItemCount: PAGE_SIZE });
  const inFlight = new Set<Promise<void>>();
  let written = 0;
  let failure: Error | undefined;
  while (pages.hasMoreResults() && failure === undefined) {
    while (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
    const { resources } = await pages.fetchNext();
    if (!resources?.length) continue;
    const task = replacePage(container, resources).then(
      () => {
        written += resources.length;
      },
      (err: unknown) => {
        failure ??= err instanceof Error ? err : new Error(String(err));
      }
    );
    inFlight.add(task);
    void task.finally(() => inFlight.delete(task));
  }
  await Promise.all(inFlight);
  if (failure !== undefined) throw failure;
  return written;
}

/** The one-at-a-time loop: the same pages, one awaited replace per document, until `limit` are written. */
export async function sequentialLoop(container: Container, limit: number): Promise<number> {
  const pages = container.items.query<Doc>(OLD_VERSION, { maxItemCount: PAGE_SIZE });
  let written = 0;
  while (pages.hasMoreResults() && written < limit) {
    const { resources } = await pages.fetchNext();
    for (const doc of resources ?? []) {
      if (written >= limit) break;
      await container.item(doc.id, doc.tenantId).replace(migrated(doc), {
        accessCondition: { type: 'IfMatch', condition: doc._etag as string },
      });
      written++;
    }
  }
  return written;
}

/**
 * The loops the whole run is compared with, on the same endpoint and the same kind of data. They run in their own
 * Node process (bench/hand-process.ts), as the product's worker does, never on the event loop of the emulator:
 *
 * - the fair peer, a hand-written bulk loop doing what the product does and nothing more: one query per physical
 *   partition (`x-ms-documentdb-partitionkeyrangeid`, as the SDK's own fan-out and the product's
 *   activities/cosmos/feed-ranges.ts scope it), every range at once, pages of 100 fetched one after the other,
 *   each page transformed and bulk-replaced with `ifMatch` on its _etag, pages in flight per range as the product
 *   keeps them (AdaptiveConcurrency(4, 8) of activities/cosmos/ru-budget.ts, the same class). No budget, no
 *   checkpoint, no final pass, no history: the practical limit of the endpoint;
 * - a migrate-mongo-style loop: one query's pages, each document replaced one at a time, awaited.
 */
import { BulkOperationType, type Container, type JSONObject, type OperationInput } from '@azure/cosmos';
import { isConnectionBroken } from '../activities/cosmos/requests';
import { AdaptiveConcurrency } from '../activities/cosmos/ru-budget';
import { addTier } from './migrations/bench-add-tier';
import { PAGE_SIZE, type Doc } from './data';

const OLD_VERSION = 'SELECT * FROM c WHERE c.schemaVersion = 1';
/** The product's pages in flight per range: 4 at first, one more after 5 successes, at most 8 (migrate-range.ts). */
const IN_FLIGHT_START = 4;
const IN_FLIGHT_MAX = 8;

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

/** One physical partition: its own query, pages fetched in order, up to the product's pages in flight. */
async function rangeLoop(container: Container, rangeId: string): Promise<number> {
  const pages = container.items.query<Doc>(OLD_VERSION, {
    maxItemCount: PAGE_SIZE,
    initialHeaders: { 'x-ms-documentdb-partitionkeyrangeid': rangeId },
  });
  const concurrency = new AdaptiveConcurrency(IN_FLIGHT_START, IN_FLIGHT_MAX);
  const inFlight = new Set<Promise<void>>();
  let written = 0;
  let failure: Error | undefined;
  while (pages.hasMoreResults() && failure === undefined) {
    while (inFlight.size >= concurrency.limit) await Promise.race(inFlight);
    const { resources } = await pages.fetchNext();
    if (!resources?.length) continue;
    const task = replacePage(container, resources).then(
      () => {
        written += resources.length;
        concurrency.onSuccess();
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

/** The fair peer over the whole container: every physical partition at once; returns the documents written. */
export async function bulkLoop(container: Container): Promise<number> {
  const { resources: ranges } = await container.readPartitionKeyRanges().fetchAll();
  const written = await Promise.all(ranges.map((r) => rangeLoop(container, r.id)));
  return written.reduce((a, b) => a + b, 0);
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

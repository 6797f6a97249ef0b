/**
 * The engine's reads, within the range's RU budget and at Low priority like its writes (bulk-writer.ts): the pages of
 * a scan, and the point read of one document after a 412.
 */
import type {
  ChangeFeedIteratorResponse,
  ChangeFeedPullModelIterator,
  Container,
  FeedOptions,
  QueryIterator,
  SqlQuerySpec,
} from '@azure/cosmos';
import { LOW } from './bulk-writer';
import { feedPageCharge, inRequestSpan, partitionKeyRangeOf } from './page-spans';
import { statusOf } from './requests';
import { ChargeEstimate, RuBudget } from './ru-budget';

export interface Page<T> {
  docs: T[];
  /** Where the next page starts (absent: the scan is exhausted). */
  continuation?: string;
  charge: number;
}

/**
 * One scan of a query in pages, from `continuation`. The pages come from ONE query iterator: the SDK fetches a query
 * plan once per iterator (@azure/cosmos 4.9 queryIterator.js `fetchQueryPlan`, cached in `queryPlanPromise`), so a
 * new iterator per page would send a plan request with every page. Each page's continuation token is still the one
 * a checkpoint commits (`response.continuationToken`, the same a new iterator would resume from).
 */
export class PageScan<T> {
  private readonly iterator: QueryIterator<T>;
  private readonly estimate = new ChargeEstimate(10);
  private readonly partitionKeyRangeId: string | undefined;

  constructor(
    private readonly container: Container,
    query: SqlQuerySpec | string,
    options: FeedOptions,
    continuation: string | undefined,
    private readonly budget: RuBudget
  ) {
    this.partitionKeyRangeId = partitionKeyRangeOf(options);
    this.iterator = container.items.query<T>(query, {
      ...options,
      ...pageSizeWithin(options.maxItemCount, budget),
      ...LOW,
      ...(continuation ? { continuationToken: continuation } : {}),
    });
  }

  async next(): Promise<Page<T>> {
    const reserved = this.estimate.get();
    await this.budget.acquire(reserved);
    let response;
    try {
      // One span per page (page-spans.ts), its charge as the SDK reports it for the page.
      response = await inRequestSpan(
        this.container,
        'Query',
        { partitionKeyRangeId: this.partitionKeyRangeId },
        () => this.iterator.fetchNext(),
        (page) => ({ charge: page.requestCharge, statusCode: 200, count: page.resources?.length ?? 0 })
      );
    } catch (err) {
      this.budget.settle(reserved, 0);
      throw err;
    }
    const charge = Number.isFinite(response.requestCharge) ? response.requestCharge : 0;
    this.estimate.observe(charge);
    this.budget.settle(reserved, charge);
    return { docs: response.resources ?? [], continuation: response.continuationToken || undefined, charge };
  }
}

/**
 * What a query page is expected to cost per document returned: about 1 RU per KB read, for documents of about 1 KB
 * (https://learn.microsoft.com/azure/cosmos-db/request-units: "a point read of a 1-KB item is 1 RU"; a query page
 * of 100 such documents measured ~106 RU at the emulator).
 */
const QUERY_RU_PER_DOCUMENT = 1;

/**
 * A page is reserved whole, like a bulk: at a small share (125 RU/s per range) a page of 100 documents is 0.85 s of
 * budget in one burst, and the migration's 1 s windows reached 1.7 × its share. So a page asks for no more documents
 * than `budget.maxRequestRu()` pays for (at least 1), as the bulk writer sends smaller bulks; with a larger share the
 * page size is the caller's.
 */
export function pageSizeWithin(
  maxItemCount: number | undefined,
  budget: Pick<RuBudget, 'maxRequestRu'>
): { maxItemCount?: number } {
  const fit = Math.max(1, Math.floor(budget.maxRequestRu() / QUERY_RU_PER_DOCUMENT));
  if (maxItemCount === undefined || maxItemCount <= 0) return Number.isFinite(fit) ? { maxItemCount: fit } : {};
  return { maxItemCount: Math.min(maxItemCount, fit) };
}

/** One document as it is now (undefined: deleted), within the budget; `onCharge` books what the read cost. */
export async function readCurrent<T extends object>(
  container: Container,
  id: string,
  partitionKey: Parameters<Container['item']>[1],
  budget: RuBudget,
  onCharge: (ru: number) => void
): Promise<T | undefined> {
  await budget.acquire(1);
  try {
    const read = await inRequestSpan(
      container,
      'Read',
      {},
      () => container.item(id, partitionKey).read<T>(LOW),
      (answer) => ({ charge: answer.requestCharge, statusCode: answer.statusCode, count: answer.resource ? 1 : 0 })
    );
    budget.settle(1, read.requestCharge);
    onCharge(Number.isFinite(read.requestCharge) ? read.requestCharge : 0);
    return read.resource;
  } catch (err) {
    budget.settle(1, 0);
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
}

/**
 * One change-feed page within the budget: reserved at the estimate, settled at its charge read from the
 * `x-ms-request-charge` header (page-spans.ts feedPageCharge: the SDK's `requestCharge` drops the fraction), in a span.
 * The catch-up (migrate-range.ts) and the copy's syncs (activities/copy/sync.ts) read their feeds through it.
 */
export async function readFeedPage<T>(
  container: Container,
  feed: ChangeFeedPullModelIterator<T>,
  budget: RuBudget,
  estimate: ChargeEstimate
): Promise<{ response: ChangeFeedIteratorResponse<Array<T>>; charge: number }> {
  const reserved = estimate.get();
  await budget.acquire(reserved);
  let response: ChangeFeedIteratorResponse<Array<T>>;
  try {
    response = await inRequestSpan(
      container,
      'ReadFeed',
      {},
      () => feed.readNext(),
      (page) => ({ charge: feedPageCharge(page), statusCode: page.statusCode, count: page.result?.length ?? 0 })
    );
  } catch (err) {
    budget.settle(reserved, 0);
    throw err;
  }
  const charge = feedPageCharge(response);
  estimate.observe(charge);
  budget.settle(reserved, charge);
  return { response, charge };
}

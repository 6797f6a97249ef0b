/**
 * The one bulk writer of the engine: every bulk request to Cosmos DB (the migration's replaces and pre-image upserts,
 * the revert's reads and replaces, and every later writer) is sent here, so each gets the same guarantees:
 *
 * - within the range's RU budget (ru-budget.ts): a request reserves its estimated charge before it is sent and settles
 *   the real one after, and never reserves more than `budget.maxRequestRu()`: at a small share the bulks are smaller;
 * - Low priority (`x-ms-cosmos-priority-level: Low`, @azure/cosmos 4.9 SharedOptions.priorityLevel), so on an account
 *   with priority-based execution Azure throttles these before the application's requests;
 * - minimal answers: `contentResponseOnWriteEnabled: false` makes @azure/cosmos 4.9 send `Prefer: return=minimal`
 *   (request/request.js `getHeaders`), so writes come back with status, charge and ETag only (reads keep their body);
 * - a whole request throttled (items.bulk does not retry a 429 on a bulk request) is sent again, smaller, after its
 *   retry-after, and the adaptive concurrency halves;
 * - a whole request lost to a transient failure (503, timeout, a broken connection: its fate unknown) is sent again
 *   exactly as it was. That is safe only because every replace carries the `ifMatch` it was built with (an applied one
 *   answers 412 the second time, never a blind overwrite of a write the application made meanwhile): `send` refuses a
 *   Replace without one;
 * - a request only partly paid for: Azure runs a bulk's operations until the partition's RU run out and answers the
 *   others 429 with `retryAfterMilliseconds` each, in a 207; `items.bulk` hands those back per operation without
 *   retrying them (node_modules/@azure/cosmos/dist/commonjs/client/Item/Items.js `executeBatchOperations` copies
 *   `response.result` as it came). Exactly those operations are sent again, after the longest of their retry-afters;
 *   like a whole request throttled, this is back-pressure, not a fault, so it does not count against
 *   MAX_TRANSIENT_PER_OPERATION, and the charge learned per operation leaves them out (they cost nothing);
 * - an operation answered with another transient status (requests.ts TRANSIENT_BULK_STATUSES) is sent again; a 412
 *   goes to the caller's `onPreconditionFailed` (re-read, decide again) when it has one; every other status is the
 *   operation's outcome.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BulkOperationType,
  PriorityLevel,
  type Container,
  type JSONObject,
  type OperationInput,
  type RequestOptions,
} from '@azure/cosmos';
import {
  isThrottled,
  isTransientBulkStatus,
  isTransientRequestError,
  MAX_TRANSIENT_BULK_RETRIES,
  retryAfterMs,
  throttleDelayMs,
} from './requests';
import { inRequestSpan } from './page-spans';
import { AdaptiveConcurrency, ChargeEstimate, RuBudget } from './ru-budget';

/** Every request of the engine goes at Low priority (see the file comment). */
export const LOW: RequestOptions = { priorityLevel: PriorityLevel.Low };
/** Bulk requests: Low, and minimal answers for writes. */
export const LOW_MINIMAL: RequestOptions = { ...LOW, contentResponseOnWriteEnabled: false };

/** Bulk requests take at most 100 operations. */
export const BULK_LIMIT = 100;
/**
 * Transient answers in a row to one operation before it is returned with that status (a failure for its caller, never
 * a write): without a bound, one partition that keeps answering 503 would hold the activity until its timeout, its
 * keep-alive heartbeats hiding the stall.
 */
export const MAX_TRANSIENT_PER_OPERATION = 20;
/** The longest wait honoured from one operation's retry-after (a service asking for more is asked again sooner). */
const MAX_OPERATION_RETRY_AFTER_MS = 5_000;
/** The smallest bulk request the writer shrinks to under whole-request throttling (unless the budget asks smaller). */
const MIN_BULK_OPERATIONS = 10;

/** The final answer to one item's operation. */
export interface BulkOutcome<T> {
  item: T;
  /** 2xx: done; 404, 409, 412 (without `onPreconditionFailed`), 4xx/5xx: the caller decides. */
  status: number;
  /** Reads only (writes are answered minimally). */
  body?: JSONObject;
}

export interface SendOptions<T> {
  /** The request's kind of charge, learned from the answers (one estimate per kind of operation). */
  estimate: ChargeEstimate;
  /** Books each request's charge on the caller's counters. */
  onCharge: (ru: number) => void;
  /**
   * A 412: the document changed since it was read. Returns the item to send in its place (re-read and decided again),
   * or undefined when there is nothing to send for it any more (the callback has counted it).
   */
  onPreconditionFailed?: (item: T) => Promise<T | undefined>;
}

export class BulkWriter {
  constructor(
    private readonly budget: RuBudget,
    readonly concurrency: AdaptiveConcurrency = new AdaptiveConcurrency(4, 8)
  ) {}

  /**
   * Sends one operation per item to `container`, in bulk requests of at most 100 operations and at most the budget's
   * largest reservation, until every item has a final outcome (in no particular order). Throws what cannot be
   * retried (a whole request refused for a non-transient reason, or transient more than MAX_TRANSIENT_BULK_RETRIES
   * times in a row).
   */
  async send<T>(
    container: Container,
    items: readonly T[],
    operationOf: (item: T) => OperationInput,
    options: SendOptions<T>
  ): Promise<BulkOutcome<T>[]> {
    const outcomes: BulkOutcome<T>[] = [];
    const transientAnswers = new Map<T, number>();
    let todo = [...items];
    let throttledInARow = 0;
    let transientInARow = 0;
    let size = BULK_LIMIT;
    while (todo.length > 0) {
      const fit = Math.max(1, Math.floor(this.budget.maxRequestRu() / Math.max(options.estimate.get(), 0.01)));
      const slice = todo.slice(0, Math.min(size, fit, BULK_LIMIT));
      const operations = slice.map((item) => checked(operationOf(item)));
      let responses;
      try {
        responses = await this.request(container, operations, options);
        throttledInARow = 0;
        transientInARow = 0;
      } catch (err) {
        if (isThrottled(err)) {
          // A request that costs more than the partition's RU/s for a second is throttled whole every time: smaller.
          throttledInARow += 1;
          this.concurrency.onThrottled();
          size = Math.max(Math.min(MIN_BULK_OPERATIONS, slice.length), Math.ceil(slice.length / 2));
          await sleep(throttleDelayMs(err, throttledInARow));
          continue;
        }
        if (isTransientRequestError(err) && transientInARow < MAX_TRANSIENT_BULK_RETRIES) {
          transientInARow += 1;
          await sleep(Math.min(3_000, 100 * 2 ** transientInARow));
          continue;
        }
        throw err;
      }
      const again: T[] = [];
      let throttled = false;
      let throttledWaitMs = 0;
      for (let i = 0; i < slice.length; i += 1) {
        const item = slice[i]!;
        const response = responses[i];
        const status = response?.statusCode ?? 0;
        if (status === 429) {
          throttled = true;
          throttledWaitMs = Math.max(throttledWaitMs, retryAfterMs(response));
          again.push(item);
        } else if (isTransientBulkStatus(status)) {
          throttled = true;
          const answers = (transientAnswers.get(item) ?? 0) + 1;
          transientAnswers.set(item, answers);
          if (answers < MAX_TRANSIENT_PER_OPERATION) again.push(item);
          else outcomes.push({ item, status });
        } else if (status === 412 && options.onPreconditionFailed) {
          const next = await options.onPreconditionFailed(item);
          if (next !== undefined) again.push(next);
        } else {
          outcomes.push({ item, status, ...(response?.resourceBody ? { body: response.resourceBody } : {}) });
        }
      }
      if (throttled) {
        this.concurrency.onThrottled();
        await sleep(Math.min(MAX_OPERATION_RETRY_AFTER_MS, Math.max(100, throttledWaitMs)));
      } else {
        this.concurrency.onSuccess();
      }
      todo = [...again, ...todo.slice(slice.length)];
    }
    return outcomes;
  }

  /** One bulk request within the budget and the adaptive concurrency; its charge booked and learned. */
  private async request<T>(container: Container, operations: OperationInput[], options: SendOptions<T>) {
    const reserved = options.estimate.get() * operations.length;
    let responses;
    try {
      responses = await this.concurrency.run(async () => {
        await this.budget.acquire(reserved);
        // One span per bulk request (page-spans.ts): its charge is the sum of its operations' (as below).
        return inRequestSpan(
          container,
          'Batch',
          { operations: operations.length },
          () => container.items.bulk(operations, { continueOnError: true }, LOW_MINIMAL),
          (answers) => ({
            charge: answers.reduce((sum, r) => sum + (r?.requestCharge ?? 0), 0),
            statusCode: 200,
            count: answers.length,
          })
        );
      });
    } catch (err) {
      this.budget.settle(reserved, 0);
      throw err;
    }
    const charge = responses.reduce((sum, r) => sum + (r?.requestCharge ?? 0), 0);
    const answered = responses.filter((r) => r && r.statusCode >= 200 && r.statusCode < 300).length;
    // Operations throttled inside the request did not run and cost nothing: learning from them would halve the
    // estimate under partial throttling, and the next request would reserve too little and be throttled more.
    const ran = responses.filter((r) => r && r.statusCode !== 429).length;
    if (answered > 0) options.estimate.observe(charge / ran);
    this.budget.settle(reserved, charge);
    options.onCharge(Number.isFinite(charge) ? charge : 0);
    return responses;
  }
}

/** A replace without `ifMatch` would overwrite whatever the application wrote since the read: never sent. */
function checked(operation: OperationInput): OperationInput {
  if (operation.operationType === BulkOperationType.Replace && !operation.ifMatch) {
    throw new Error(`a bulk Replace of ${operation.id} without ifMatch would overwrite blind; not sent`);
  }
  return operation;
}

/**
 * Request units like Cosmos DB: what each operation costs, and a provisioned RU/s per container enforced with a
 * token bucket (one second of capacity) per physical partition. A request is admitted when the bucket holds its estimated cost (or is full,
 * so one expensive request cannot starve forever); its actual cost is settled afterwards and may leave the bucket in
 * debt, as Cosmos does. Over budget: 429 with x-ms-retry-after-ms.
 */
import type { Route } from './routes';
import { fixEnabled } from './fix-flags';
import type { RuModelOptions } from './types';

/**
 * RU/s of a container nobody provisioned. Generous on purpose: seeding scripts (often `items.bulk`, which the SDK does
 * not retry on 429) should not be throttled unless they ask for it by provisioning throughput.
 */
export const DEFAULT_THROUGHPUT = 1_000_000;

const KB = 1024;
const round = (n: number) => Math.round(n * 100) / 100;

/** ~1 RU per KB read, at least 1. */
export const readCharge = (bytes: number) => round(Math.max(1, bytes / KB));
/** ~5 RU per KB written, at least 5. */
export const writeCharge = (bytes: number) => round(Math.max(5, (5 * bytes) / KB));
/** 2.5 RU, plus ~1 RU per KB returned. */
export const queryCharge = (bytes: number) => round(2.5 + bytes / KB);

/**
 * A query or feed page: ~1 RU per KB of the documents it returns, plus 2.5 RU for the first page only, so a query
 * costs the same however it is paged (Microsoft's SDK tests compare fetchAll with fetchNext within 1 %: the page
 * envelope is not counted either).
 */
export function queryPageCharge(responseBody: string, continued: boolean): number {
  let bytes = Buffer.byteLength(responseBody);
  try {
    const body = JSON.parse(responseBody) as Record<string, unknown>;
    const items = body.Documents ?? body.DocumentCollections ?? body.Databases;
    if (Array.isArray(items)) bytes = items.reduce((sum: number, item) => sum + byteLength(item), 0);
  } catch {
    // not JSON (e.g. a 304 without body): charged by its length
  }
  return round((continued ? 0 : 2.5) + bytes / KB);
}

export interface BatchOperation {
  operationType?: string;
  resourceBody?: unknown;
  partitionKey?: string;
  id?: string;
  ifMatch?: string;
}

export interface BatchResult {
  statusCode: number;
  requestCharge?: number;
  resourceBody?: unknown;
  eTag?: string;
}

const byteLength = (value: unknown) => (value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value)));

function operationCharge(op: BatchOperation | undefined, result: BatchResult): number {
  if (result.statusCode === 424) return 0;
  if (result.statusCode >= 400) return 1;
  if (op?.operationType === 'Read') return readCharge(byteLength(result.resourceBody));
  return writeCharge(Math.max(byteLength(op?.resourceBody), byteLength(result.resourceBody)));
}

/** Sets each operation's requestCharge in a batch/bulk response and returns the sum. */
export function chargeBatch(ops: BatchOperation[], results: BatchResult[]): number {
  let total = 0;
  results.forEach((result, i) => {
    result.requestCharge = operationCharge(ops[i], result);
    total += result.requestCharge;
  });
  return round(total);
}

/** What a request will cost at least, known before it runs (reserved from the bucket at admission). */
export function estimateCharge(route: Route, requestBody: string, ops: BatchOperation[] | undefined): number {
  switch (route.kind) {
    case 'read':
      return 1;
    case 'write':
      return writeCharge(route.action === 'delete' ? 0 : Buffer.byteLength(requestBody));
    case 'query':
      return 2.5;
    case 'batch':
      return round((ops ?? []).reduce((sum, op) => sum + estimateOperation(op), 0));
    default:
      return 1;
  }
}

/** What one operation of a batch or bulk will cost at least: 1 RU for a read, a write by its body's size. */
export function estimateOperation(op: BatchOperation): number {
  return op.operationType === 'Read' ? 1 : writeCharge(byteLength(op.resourceBody));
}

/** The cost of a finished single (non-batch) request. */
export function chargeFor(
  route: Route,
  requestBody: string,
  status: number,
  responseBody: string,
  continued = false
): number {
  if (status >= 400) return 1;
  switch (route.kind) {
    case 'read':
      return readCharge(Buffer.byteLength(responseBody));
    case 'write':
      return writeCharge(Math.max(Buffer.byteLength(requestBody), Buffer.byteLength(responseBody)));
    case 'query':
      return fixEnabled('charges')
        ? queryPageCharge(responseBody, continued)
        : queryCharge(Buffer.byteLength(responseBody));
    default:
      return 1;
  }
}

interface Bucket {
  tokens: number;
  at: number;
  /** When a High-priority request last came to this partition (performance.now()); -Infinity if never. */
  lastHighAt: number;
}

export interface RuSettings {
  enabled: boolean;
  defaultThroughput: number;
  /** Per container, keyed "database/container". */
  throughput: Record<string, number>;
  /** Whether a bulk over budget is answered in part (RuModel.admitPrefix) rather than refused whole. */
  partialBulkThrottling: boolean;
}

export type Admission = { admitted: true; reserved: number } | { admitted: false; retryAfterMs: number };

/**
 * A bulk over budget, admitted in part: its first `count` operations (in order) are paid for (`reserved`), the others
 * are answered 429 with `retryAfterMs`, the time until the partition could pay for the next one.
 */
export interface PartialAdmission {
  count: number;
  reserved: number;
  retryAfterMs: number;
}

/** x-ms-cosmos-priority-level (the SDK's `priorityLevel` request option, request/request.js); absent: High. */
export type Priority = 'High' | 'Low';

/**
 * Priority-based execution, simplified: while High-priority traffic reached a partition in the last
 * HIGH_TRAFFIC_WINDOW_MS, a Low-priority request is admitted only if the partition's bucket still holds
 * LOW_PRIORITY_FLOOR of its capacity after it. Low traffic is throttled first; alone, it may use the whole budget.
 * It is an account setting (`enablePriorityBasedExecution`, off by default on Azure; the local account starts with it
 * on, as docs/production.md recommends for migrations): with it off, the priority header changes nothing.
 */
export const LOW_PRIORITY_FLOOR = 0.5;
export const HIGH_TRAFFIC_WINDOW_MS = 1000;

/**
 * Token buckets per physical partition: a container's provisioned RU/s is divided evenly among its partition key
 * ranges (partitions.ts), each with one second of capacity; a request is charged to the range(s) it touches (a
 * request over several ranges, e.g. a cross-partition query, shares its charge evenly among them).
 */
export class RuModel {
  private enabled: boolean;
  private defaultThroughput: number;
  private readonly throughput = new Map<string, number>();
  private readonly buckets = new Map<string, Bucket>();
  /** The account's enablePriorityBasedExecution. */
  priorityBased = true;
  /** A bulk over budget is answered in part (207, the rest 429 per operation) as on Azure; off: refused whole. */
  partialBulkThrottling = true;

  constructor(options: RuModelOptions | false | undefined) {
    this.enabled = options !== false;
    this.defaultThroughput = (options || {}).defaultThroughput ?? DEFAULT_THROUGHPUT;
  }

  get isEnabled(): boolean {
    return this.enabled;
  }

  configure(enabled: boolean, options?: RuModelOptions): void {
    this.enabled = enabled;
    if (options?.defaultThroughput !== undefined) {
      this.defaultThroughput = positive(options.defaultThroughput, 'defaultThroughput');
    }
    this.buckets.clear();
  }

  setThroughput(database: string, container: string, ruPerSecond: number): void {
    const key = `${database}/${container}`;
    this.throughput.set(key, positive(ruPerSecond, `throughput of ${key}`));
    this.resetBuckets(key);
  }

  /** Provisioned RU/s of a container, if set (not the default). */
  provisioned(database: string, container: string): number | undefined {
    return this.throughput.get(`${database}/${container}`);
  }

  /** The container is gone: its throughput goes with it (a new container of that name starts unprovisioned). */
  forgetContainer(database: string, container: string): void {
    this.throughput.delete(`${database}/${container}`);
    this.resetBuckets(`${database}/${container}`);
  }

  forgetDatabase(database: string): void {
    for (const key of [...this.throughput.keys()]) {
      if (key.startsWith(`${database}/`)) this.forgetContainer(database, key.slice(database.length + 1));
    }
  }

  /** The container's partitions changed: budgets start again, full, per new range. */
  resetBuckets(container: string): void {
    for (const key of [...this.buckets.keys()]) {
      if (key.startsWith(`${container}\u0000`)) this.buckets.delete(key);
    }
  }

  settings(): RuSettings {
    return {
      enabled: this.enabled,
      defaultThroughput: this.defaultThroughput,
      throughput: Object.fromEntries(this.throughput),
      partialBulkThrottling: this.partialBulkThrottling,
    };
  }

  /**
   * Reserves `estimate` RU, shared evenly among `ranges` of the container `database/container` (which has
   * `partitionCount` ranges), or says how long to wait.
   */
  admit(container: string, ranges: string[], partitionCount: number, estimate: number, priority: Priority): Admission {
    const capacity = this.capacity(container) / partitionCount;
    const share = estimate / ranges.length;
    const now = performance.now();
    const buckets = ranges.map((range) => this.refill(`${container}\u0000${range}`, capacity, now));
    let waitMs = 0;
    for (const bucket of buckets) {
      if (priority === 'High') bucket.lastHighAt = now;
      const needed = Math.min(share, capacity);
      let target = bucket.tokens >= capacity ? -Infinity : needed;
      const lowYields = this.priorityBased && priority === 'Low';
      if (lowYields && now - bucket.lastHighAt < HIGH_TRAFFIC_WINDOW_MS && bucket.tokens < capacity) {
        target = Math.max(target, capacity * LOW_PRIORITY_FLOOR + share);
      }
      if (bucket.tokens < target) waitMs = Math.max(waitMs, ((target - bucket.tokens) * 1000) / capacity);
    }
    if (waitMs > 0) return { admitted: false, retryAfterMs: Math.max(1, Math.ceil(waitMs)) };
    for (const bucket of buckets) bucket.tokens -= share;
    return { admitted: true, reserved: estimate };
  }

  /**
   * A bulk (non-atomic) request that `admit` refused: Azure runs a bulk's operations in order until the partition's
   * RU run out and answers the rest 429 with a retry-after each, in a 207 (the SDK hands them back per operation:
   * node_modules/@azure/cosmos/dist/commonjs/client/Item/Items.js `executeBatchOperations`, and
   * bulk/BulkResponse.js reads each operation's `retryAfterMilliseconds`). Reserves the longest prefix of `estimates`
   * that every bucket can pay for now, the same way `admit` decides (a Low request keeps the High reserve when
   * priority-based execution is on; a full bucket pays for at least one operation). `count` 0: nothing fits, the
   * whole request is refused as before.
   */
  admitPrefix(
    container: string,
    ranges: string[],
    partitionCount: number,
    estimates: number[],
    priority: Priority
  ): PartialAdmission {
    const capacity = this.capacity(container) / partitionCount;
    const now = performance.now();
    const buckets = ranges.map((range) => this.refill(`${container}\u0000${range}`, capacity, now));
    const lowYields = this.priorityBased && priority === 'Low';
    // What each bucket can pay now: its tokens, less the reserve a Low request leaves to recent High traffic.
    const room = Math.min(
      ...buckets.map((bucket) => {
        if (priority === 'High') bucket.lastHighAt = now;
        const reserve =
          lowYields && now - bucket.lastHighAt < HIGH_TRAFFIC_WINDOW_MS && bucket.tokens < capacity
            ? capacity * LOW_PRIORITY_FLOOR
            : 0;
        return bucket.tokens - reserve;
      })
    );
    const full = buckets.every((bucket) => bucket.tokens >= capacity);
    let count = 0;
    let paid = 0;
    for (const estimate of estimates) {
      const share = estimate / ranges.length;
      if (paid + share > room && !(count === 0 && full)) break;
      paid += share;
      count += 1;
    }
    const next = count < estimates.length ? estimates[count]! / ranges.length : 0;
    const retryAfterMs = Math.max(1, Math.ceil(((Math.min(next, capacity) - (room - paid)) * 1000) / capacity));
    if (count === 0) return { count, reserved: 0, retryAfterMs };
    for (const bucket of buckets) bucket.tokens -= paid;
    return { count, reserved: paid * ranges.length, retryAfterMs };
  }

  /** Settles the difference between the reservation and the actual charge. */
  settle(container: string, ranges: string[], partitionCount: number, reserved: number, charge: number): void {
    const capacity = this.capacity(container) / partitionCount;
    const now = performance.now();
    for (const range of ranges) {
      this.refill(`${container}\u0000${range}`, capacity, now).tokens -= (charge - reserved) / ranges.length;
    }
  }

  private capacity(container: string): number {
    return this.throughput.get(container) ?? this.defaultThroughput;
  }

  private refill(key: string, capacity: number, now: number): Bucket {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { tokens: capacity, at: now, lastHighAt: -Infinity };
      this.buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.at) * capacity) / 1000);
    bucket.at = now;
    return bucket;
  }
}

function positive(value: number, what: string): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`RU model: ${what} must be a positive number of RU/s, got ${String(value)}`);
  }
  return value;
}

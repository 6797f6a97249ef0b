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
  /** 'azure' model: RU Low requests took lately (decays at the partition's rate), which High may take over. */
  lowCredit: number;
  /** 'azure' model: when a High request last found the partition over capacity; Low yields for a window after. */
  highPressedAt: number;
}

/** What one request may draw from one bucket now. */
interface Room {
  /** RU it may take (High may take over what Low took lately: more than the tokens). */
  room: number;
  /** A full bucket pays for one request however expensive. */
  full: boolean;
  /** Low yields to High for this long whatever the tokens (0: it does not). */
  yieldMs: number;
}

export interface RuSettings {
  enabled: boolean;
  defaultThroughput: number;
  /** Per container, keyed "database/container". */
  throughput: Record<string, number>;
  /** Whether a bulk over budget is answered in part (RuModel.admitPrefix) rather than refused whole. */
  partialBulkThrottling: boolean;
  /** The account's enablePriorityBasedExecution (switched through ARM, or `control.setPriorityBasedExecution`). */
  priorityBasedExecution: boolean;
  priorityModel: PriorityModel;
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
 * Priority-based execution: an account setting (`enablePriorityBasedExecution`), off by default as on Azure; with it
 * off the priority header changes nothing. With it on, two models:
 *
 * - 'azure' (the default), as Microsoft documents it (https://learn.microsoft.com/azure/cosmos-db/priority-based-execution
 *   and its FAQ: "no reservation of RU/s"; the .NET `PriorityLevel` reference: "Each priority level can consume the
 *   complete provisioned throughput in absence of the other. If both priorities are present and the user goes above
 *   the configured RU/s, low priority requests start getting throttled first"): no RU is kept for High; when a High
 *   request finds its partition over capacity it takes over what Low requests took there lately (as if they had been
 *   throttled instead, up to the last second's worth), and Low requests yield for PRESSURE_WINDOW_MS after;
 * - 'reserve' (the emulator's earlier model, kept for the tests and figures written against it): while High traffic
 *   reached a partition in the last HIGH_TRAFFIC_WINDOW_MS, a Low request is admitted only if the bucket still holds
 *   LOW_PRIORITY_FLOOR of its capacity after it.
 */
export type PriorityModel = 'azure' | 'reserve';
export const LOW_PRIORITY_FLOOR = 0.5;
export const HIGH_TRAFFIC_WINDOW_MS = 1000;
export const PRESSURE_WINDOW_MS = 1000;

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
  /** The account's enablePriorityBasedExecution (off by default, as on Azure). */
  priorityBased = false;
  /** How priorities act when priorityBased is on. */
  priorityModel: PriorityModel = 'azure';
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
      priorityBasedExecution: this.priorityBased,
      priorityModel: this.priorityModel,
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
    const needed = Math.min(share, capacity);
    let waitMs = 0;
    for (const bucket of buckets) {
      const { room, full, yieldMs } = this.roomFor(bucket, capacity, priority, now);
      if (yieldMs > 0) waitMs = Math.max(waitMs, yieldMs);
      else if (!full && room < needed) waitMs = Math.max(waitMs, ((needed - room) * 1000) / capacity);
    }
    if (waitMs > 0) {
      // A High request over capacity: Low yields from now on (the 'azure' model).
      if (priority === 'High') for (const bucket of buckets) bucket.highPressedAt = now;
      return { admitted: false, retryAfterMs: Math.max(1, Math.ceil(waitMs)) };
    }
    for (const bucket of buckets) this.take(bucket, share, priority, now);
    return { admitted: true, reserved: estimate };
  }

  /** What a request of `priority` may draw from `bucket` now, under the account's priority setting. */
  private roomFor(bucket: Bucket, capacity: number, priority: Priority, now: number): Room {
    if (priority === 'High') bucket.lastHighAt = now;
    const full = bucket.tokens >= capacity;
    if (!this.priorityBased) return { room: bucket.tokens, full, yieldMs: 0 };
    if (this.priorityModel === 'reserve') {
      const reserve =
        priority === 'Low' && now - bucket.lastHighAt < HIGH_TRAFFIC_WINDOW_MS && !full
          ? capacity * LOW_PRIORITY_FLOOR
          : 0;
      return { room: bucket.tokens - reserve, full: full && reserve === 0, yieldMs: 0 };
    }
    if (priority === 'Low') {
      const pressed = now - bucket.highPressedAt;
      return pressed < PRESSURE_WINDOW_MS
        ? { room: -Infinity, full: false, yieldMs: PRESSURE_WINDOW_MS - pressed }
        : { room: bucket.tokens, full, yieldMs: 0 };
    }
    return { room: bucket.tokens + bucket.lowCredit, full, yieldMs: 0 };
  }

  /** Draws `ru` from the bucket: a High request beyond the tokens takes over Low's recent RU, and Low yields. */
  private take(bucket: Bucket, ru: number, priority: Priority, now: number): void {
    if (this.priorityBased && this.priorityModel === 'azure') {
      if (priority === 'Low') bucket.lowCredit += ru;
      else if (ru > bucket.tokens) {
        bucket.lowCredit = Math.max(0, bucket.lowCredit - (ru - Math.max(bucket.tokens, 0)));
        bucket.highPressedAt = now;
      }
    }
    bucket.tokens -= ru;
  }

  /**
   * A bulk (non-atomic) request that `admit` refused: Azure runs a bulk's operations in order until the partition's
   * RU run out and answers the rest 429 with a retry-after each, in a 207 (the SDK hands them back per operation:
   * node_modules/@azure/cosmos/dist/commonjs/client/Item/Items.js `executeBatchOperations`, and
   * bulk/BulkResponse.js reads each operation's `retryAfterMilliseconds`). Reserves the longest prefix of `estimates`
   * that every bucket can pay for now, the same way `admit` decides (priorities as the account's setting and model
   * say; a full bucket pays for at least one operation). `count` 0: nothing fits, the whole request is refused.
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
    const rooms = buckets.map((bucket) => this.roomFor(bucket, capacity, priority, now));
    const yieldMs = Math.max(0, ...rooms.map((r) => r.yieldMs));
    if (yieldMs > 0) return { count: 0, reserved: 0, retryAfterMs: Math.max(1, Math.ceil(yieldMs)) };
    const room = Math.min(...rooms.map((r) => r.room));
    const full = rooms.every((r) => r.full);
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
    if (count === 0) {
      if (priority === 'High') for (const bucket of buckets) bucket.highPressedAt = now;
      return { count, reserved: 0, retryAfterMs };
    }
    if (count < estimates.length && priority === 'High') for (const bucket of buckets) bucket.highPressedAt = now;
    for (const bucket of buckets) this.take(bucket, paid, priority, now);
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
      bucket = { tokens: capacity, at: now, lastHighAt: -Infinity, lowCredit: 0, highPressedAt: -Infinity };
      this.buckets.set(key, bucket);
    }
    const refilled = ((now - bucket.at) * capacity) / 1000;
    bucket.tokens = Math.min(capacity, bucket.tokens + refilled);
    // What Low took lately fades as the partition's second passes (at most a second's worth is kept).
    bucket.lowCredit = Math.min(capacity, Math.max(0, bucket.lowCredit - refilled));
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

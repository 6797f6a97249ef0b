/**
 * Request units like Cosmos DB: what each operation costs, and a provisioned RU/s per container enforced with a
 * token bucket (one second of capacity). A request is admitted when the bucket holds its estimated cost (or is full,
 * so one expensive request cannot starve forever); its actual cost is settled afterwards and may leave the bucket in
 * debt, as Cosmos does. Over budget: 429 with x-ms-retry-after-ms.
 */
import type { Route } from './routes';
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
      return round(
        (ops ?? []).reduce(
          (sum, op) => sum + (op.operationType === 'Read' ? 1 : writeCharge(byteLength(op.resourceBody))),
          0
        )
      );
    default:
      return 1;
  }
}

/** The cost of a finished single (non-batch) request. */
export function chargeFor(route: Route, requestBody: string, status: number, responseBody: string): number {
  if (status >= 400) return 1;
  switch (route.kind) {
    case 'read':
      return readCharge(Buffer.byteLength(responseBody));
    case 'write':
      return writeCharge(Math.max(Buffer.byteLength(requestBody), Buffer.byteLength(responseBody)));
    case 'query':
      return queryCharge(Buffer.byteLength(responseBody));
    default:
      return 1;
  }
}

interface Bucket {
  tokens: number;
  at: number;
}

export interface RuSettings {
  enabled: boolean;
  defaultThroughput: number;
  /** Per container, keyed "database/container". */
  throughput: Record<string, number>;
}

export type Admission = { admitted: true; reserved: number } | { admitted: false; retryAfterMs: number };

export class RuModel {
  private enabled: boolean;
  private defaultThroughput: number;
  private readonly throughput = new Map<string, number>();
  private readonly buckets = new Map<string, Bucket>();

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
    this.buckets.delete(key);
  }

  settings(): RuSettings {
    return {
      enabled: this.enabled,
      defaultThroughput: this.defaultThroughput,
      throughput: Object.fromEntries(this.throughput),
    };
  }

  /** Reserves `estimate` RU from the container's bucket, or says how long to wait. */
  admit(key: string, estimate: number): Admission {
    const capacity = this.capacity(key);
    const bucket = this.refill(key, capacity);
    const needed = Math.min(estimate, capacity);
    if (bucket.tokens >= needed || bucket.tokens >= capacity) {
      bucket.tokens -= estimate;
      return { admitted: true, reserved: estimate };
    }
    return { admitted: false, retryAfterMs: Math.max(1, Math.ceil(((needed - bucket.tokens) * 1000) / capacity)) };
  }

  /** Settles the difference between the reservation and the actual charge. */
  settle(key: string, reserved: number, charge: number): void {
    const bucket = this.refill(key, this.capacity(key));
    bucket.tokens -= charge - reserved;
  }

  private capacity(key: string): number {
    return this.throughput.get(key) ?? this.defaultThroughput;
  }

  private refill(key: string, capacity: number): Bucket {
    const now = performance.now();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { tokens: capacity, at: now };
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

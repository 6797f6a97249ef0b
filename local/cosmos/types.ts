/**
 * The local Cosmos emulator's boundary: what the launcher, the ARM imitation and the tests may rely on.
 * Product code never sees this; it reaches the emulator only through @azure/cosmos over HTTPS.
 */
import type { StackCertificate } from '../tls';

/** Operation kinds that the RU model charges and fault injection targets. */
export type OperationKind = 'read' | 'write' | 'query' | 'batch' | 'metadata';

export interface RuModelOptions {
  /** Provisioned RU/s for containers that have none set (ARM throughput sets it per container). @default 1000000 */
  defaultThroughput?: number;
}

export interface FaultRule {
  /** Which operations; absent: all data-plane operations. */
  kinds?: OperationKind[];
  /** Probability (0..1) of answering 429 with x-ms-retry-after-ms. */
  throttleProbability?: number;
  /** Probability (0..1) of answering 503. */
  unavailableProbability?: number;
  /** Probability (0..1) of never answering (the client times out). */
  timeoutProbability?: number;
  /** Probability (0..1) of destroying the connection at once, before the operation runs (nothing is written). */
  dropProbability?: number;
  /** Probability (0..1) of running the operation, then destroying the connection instead of answering. */
  dropResponseProbability?: number;
  /**
   * Bulk requests only: the probability (0..1) that each operation is answered `bulkOperationStatus` in the response
   * without running, while the others run, as Cosmos answers one operation of a bulk with 408, 410, 429, 449 or 503.
   */
  bulkOperationFaultProbability?: number;
  /** The status of an operation failed by `bulkOperationFaultProbability`. @default 503 */
  bulkOperationStatus?: number;
  /**
   * Queries and read feeds paged by the cursor (local/README.md "Paging by cursor"): the probability (0..1) that a
   * page examines only a random share of what it would, down to none, and so comes back short or empty with a
   * continuation, as Azure may answer any page (a client must follow the continuation, never stop at a short page).
   */
  shortPageProbability?: number;
  /** Added latency in ms before the operation runs. */
  latencyMs?: number;
  /** retry-after for injected 429s. @default 100 */
  retryAfterMs?: number;
  /** How long a timed-out request hangs before the emulator destroys its socket. @default 65000 (beyond the SDK's 60 s timeout) */
  timeoutHangMs?: number;
}

export interface EmulatorControl {
  /** Switch the RU model on (charges like Cosmos, provisioned RU/s enforced with 429) or off (charge 1, never throttles). */
  setRuModel(enabled: boolean, options?: RuModelOptions): void;
  /**
   * The account's priority-based execution (ARM `enablePriorityBasedExecution`): on, the RU model throttles
   * Low-priority requests first; off, priorities are ignored. Off at start (as on Azure) unless the options say otherwise.
   */
  setPriorityBasedExecution(enabled: boolean): void;
  priorityBasedExecution(): boolean;
  /**
   * How priorities act while priority-based execution is on: 'azure' (the default: no reservation, Low throttled
   * first only when High finds the partition over capacity) or 'reserve' (the earlier model: half of a partition kept
   * for High while High traffic is recent). See local/cosmos/ru-model.ts.
   */
  setPriorityModel(model: 'azure' | 'reserve'): void;
  priorityModel(): 'azure' | 'reserve';
  /**
   * A bulk request over its partition's budget: on (Azure's behaviour, the default), the operations that the partition
   * can pay for run in order and the others are answered 429 with `retryAfterMilliseconds` each, in a 207; off, the
   * whole request is refused with 429 and nothing runs.
   */
  setPartialBulkThrottling(enabled: boolean): void;
  partialBulkThrottling(): boolean;
  /** Provisioned RU/s of one container (used by the RU model). */
  setThroughput(database: string, container: string, ruPerSecond: number): void;
  /**
   * Replace the fault-injection rules (empty: no faults). Takes effect at once. With a seed, the random draws start
   * again from it, so a run's faults can be replayed; without, the draws go on from the current seed.
   */
  setFaults(rules: FaultRule[], seed?: number): void;
  /**
   * Session consistency (Azure's default): how far (ms) a replica that serves a read or query without a sufficient
   * session token lags behind the writes; 0: every read sees current data. See local/cosmos/session-consistency.ts.
   */
  setSessionLag(lagMs: number): void;
  sessionLag(): number;
  /** Counters since start: 429s from the RU model, injected faults, request units charged. */
  stats(): EmulatorStats;
  /** The container's live partition key ranges (laid out from its throughput on first use). */
  partitions(database: string, container: string): Promise<PartitionLayout>;
  /**
   * Replaces the container's ranges by `count` even ranges with new ids, at once (tests): every old id answers
   * 410/1002 from now on. Later throughput raises split from there.
   */
  setPartitionCount(database: string, container: string, count: number): Promise<PartitionLayout>;
  /** Splits one live range into two children (new ids, half its hash range each), at once. */
  splitPartition(database: string, container: string, rangeId: string): Promise<PartitionLayout>;
}

/** A container's partition key ranges, as the pkranges feed returns them. */
export interface PartitionLayout {
  ranges: { id: string; minInclusive: string; maxExclusive: string; parents: string[] }[];
}

export interface EmulatorStats {
  /** The seed of the fault draws in force (`LOCAL_FAULT_SEED` at start, or the last `setFaults` seed). */
  faultSeed: number;
  /** 429s answered because a container's provisioned RU/s was exceeded. */
  throttled: number;
  /** Operations of bulk requests answered 429 (the others of the request ran) because the partition's RU ran out. */
  throttledOperations: number;
  /** Faults injected by the fault rules. */
  injected: {
    throttle: number;
    unavailable: number;
    timeout: number;
    drop: number;
    dropResponse: number;
    /** Operations of bulk requests answered with a fault status. */
    bulkOperation: number;
    /** Query and read-feed pages cut short (`shortPageProbability`; a page that was not paged by the cursor is not cut). */
    shortPage: number;
  };
  /** Sum of x-ms-request-charge answered. */
  requestCharge: number;
  /** 410/1002 (PartitionKeyRangeGone) answered to requests naming a range that split. */
  partitionKeyRangeGone: number;
  /**
   * Data-plane document requests by priority (`x-ms-cosmos-priority-level`; absent is High), so a migration's share
   * (sent Low) and the application's (High) can be told apart: `npm run bench` measures the RU budget with them.
   */
  byPriority: Record<'High' | 'Low', PriorityStats>;
}

export interface PriorityStats {
  /** Requests answered, throttled ones included. */
  requests: number;
  /** 429s from the RU model. */
  throttled: number;
  /** Sum of x-ms-request-charge answered. */
  requestCharge: number;
  /** Write requests (point writes, batch and bulk) answered 2xx/207. */
  writes: number;
  /** Documents returned by queries and read feeds (`x-ms-item-count`). */
  documentsReturned: number;
}

/** One container's state at a point in time, rebuilt from the backup log. */
export interface ContainerState {
  /** The container's definition (id, partitionKey, indexingPolicy, ...) or null when it did not exist then. */
  definition: Record<string, unknown> | null;
  /** Document bodies as they were, system properties included. */
  documents: Record<string, unknown>[];
}

export interface ContainerEvent {
  database: string;
  container: string;
  kind: 'Create' | 'Replace' | 'Delete';
  at: Date;
}

export interface DatabaseEvent {
  database: string;
  kind: 'Create' | 'Delete';
  at: Date;
}

/** Continuous backup: every write logged with its time, append-only, so any container can be rebuilt as of T. */
export interface BackupLog {
  containerAt(database: string, container: string, at: Date): ContainerState;
  containerEvents(): ContainerEvent[];
  databaseEvents(): DatabaseEvent[];
  /** Time of the first logged event (the start of the restore window), if any. */
  firstEventTime(): Date | undefined;
}

/**
 * Management operations done in-process, bypassing the RU model and fault injection, for the ARM imitation.
 * They are logged in the backup log like any other write.
 */
/** The data plane's script feeds. */
export type ScriptKind = 'sprocs' | 'triggers' | 'udfs';

export interface EmulatorAdmin {
  readDatabase(database: string): Promise<Record<string, unknown> | null>;
  createDatabase(database: string): Promise<Record<string, unknown>>;
  deleteDatabase(database: string): Promise<void>;
  listContainers(database: string): Promise<Record<string, unknown>[]>;
  /** Every document of a container as the primary holds it now, whatever the replica lag. */
  listDocuments(database: string, container: string): Promise<Record<string, unknown>[]>;
  readContainer(database: string, container: string): Promise<Record<string, unknown> | null>;
  createContainer(database: string, definition: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Replaces the definition; the documents stay. */
  replaceContainer(database: string, definition: Record<string, unknown>): Promise<Record<string, unknown>>;
  deleteContainer(database: string, container: string): Promise<void>;
  /**
   * Re-creates a deleted container exactly as it was at `at`: its definition and its documents (system
   * properties other than `_rid`/`_etag`/`_ts`/`_self` as they were). Fails if the container exists now
   * or did not exist at `at`.
   */
  rebuildContainer(database: string, container: string, at: Date): Promise<{ documentCount: number }>;
  /** A container's scripts of one kind (the ARM imitation's sqlStoredProcedures, sqlTriggers, sqlUserDefinedFunctions). */
  listScripts(database: string, container: string, kind: ScriptKind): Promise<Record<string, unknown>[]>;
  /** Creates the script, or replaces the one with its id. */
  putScript(
    database: string,
    container: string,
    kind: ScriptKind,
    definition: Record<string, unknown>
  ): Promise<Record<string, unknown>>;
  /** false when there was none of that id. */
  deleteScript(database: string, container: string, kind: ScriptKind, id: string): Promise<boolean>;
  /**
   * Creates a container from a state read elsewhere (another emulator's backup log: a restore into a new account)
   * and writes its documents. With `withTtlDisabled`, the definition's defaultTtl is left out.
   */
  loadContainer(
    database: string,
    state: ContainerState,
    options?: { withTtlDisabled?: boolean }
  ): Promise<{ documentCount: number }>;
}

export interface LocalCosmosOptions {
  host?: string;
  /** 0: any free port. */
  port?: number;
  certificate: StackCertificate;
  /** Folder for the backup log (created if missing). On start, existing logs are replayed so data survives a restart. */
  dataDir: string;
  ruModel?: RuModelOptions | false;
  /**
   * The account's priority-based execution at start.
   * @default `LOCAL_COSMOS_PRIORITY_BASED_EXECUTION`, else false (Azure's default)
   */
  priorityBasedExecution?: boolean;
  /** @default `LOCAL_COSMOS_PRIORITY_MODEL`, else 'azure' (see `EmulatorControl.setPriorityModel`) */
  priorityModel?: 'azure' | 'reserve';
  /**
   * A bulk over budget answered in part, as Azure does (see `EmulatorControl.setPartialBulkThrottling`).
   * @default `LOCAL_COSMOS_PARTIAL_BULK_THROTTLING`, else true
   */
  partialBulkThrottling?: boolean;
  /**
   * Replica lag of Session consistency (see `EmulatorControl.setSessionLag`).
   * @default `LOCAL_COSMOS_SESSION_LAG_MS`, else 0
   */
  sessionLagMs?: number;
  /** Seed of the fault draws (default `LOCAL_FAULT_SEED`, else a new one; see `stats().faultSeed`). */
  faultSeed?: number;
}

export interface LocalCosmos {
  /** e.g. https://127.0.0.1:8081/ */
  endpoint: string;
  /** The account key the emulator accepts (the well-known emulator key). */
  key: string;
  control: EmulatorControl;
  backup: BackupLog;
  admin: EmulatorAdmin;
  close(): Promise<void>;
}

export function zeroPriorityStats(): PriorityStats {
  return { requests: 0, throttled: 0, requestCharge: 0, writes: 0, documentsReturned: 0 };
}

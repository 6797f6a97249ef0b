/** The local ARM imitation's boundary: what the launcher and the tests may rely on. */
import type { NetworkRules } from './network';
import type { StackCertificate } from '../tls';
import type { LocalCosmos } from '../cosmos/types';

export type LocalBackupPolicy =
  { type: 'Continuous'; tier?: 'Continuous7Days' | 'Continuous30Days' } | { type: 'Periodic' };

export interface LocalArmOptions {
  host?: string;
  /** 0: any free port. */
  port?: number;
  certificate: StackCertificate;
  /** The bearer token every request must carry. */
  token: string;
  cosmos: LocalCosmos;
  subscriptionId: string;
  resourceGroup: string;
  account: string;
  /** Display name, e.g. "West US". @default "West US" */
  location?: string;
  /** @default Continuous30Days */
  backupPolicy?: LocalBackupPolicy;
  /** How long a long-running operation stays Enqueued/Dequeued before it ends. @default 300 */
  operationDelayMs?: number;
  /** How far the latest restorable time (retrieveContinuousBackupInformation, restore window) lags behind now. @default 0 */
  backupLagMs?: number;
  /** How long an in-account restore runs before it ends (real ones take minutes to hours). @default operationDelayMs */
  restoreDurationMs?: number;
  /** What each restored document adds to a restore's duration. @default LOCAL_RESTORE_MS_PER_DOCUMENT, else 0.004 */
  restoreMsPerDocument?: number;
  /** In-account restores that may run at once in the account; one more is refused (Azure allows 3). @default 3 */
  maxConcurrentRestores?: number;
  /**
   * Starts the emulator of an account made by a restore into a new account (Microsoft.DocumentDB REST API): its own endpoint and data
   * folder. Absent: such restores are refused.
   */
  startRestoredAccount?: (name: string) => Promise<RestoredAccountHost>;
}

/** The data plane of an account the imitation made by a restore. */
export interface RestoredAccountHost {
  cosmos: LocalCosmos;
  /** Stops the emulator and removes its data (the account is deleted). */
  dispose(): Promise<void>;
}

/** How the next restores end: `times` of them fail when they run (after the 202), with this error. */
export interface RestoreFailure {
  /** How many restores fail. @default 1 */
  times?: number;
  /** @default "InternalServerError" */
  code?: string;
  /** @default a message naming the container and saying the failure was injected */
  message?: string;
}

/** A fault the imitation answers instead of serving a request (Microsoft.DocumentDB REST API), to test the clients' retries. */
export interface ArmFaultRule {
  /** Only requests with this HTTP method; absent: any. */
  method?: string;
  /** Only requests whose path contains this text (case-insensitive), e.g. "/operationsStatus/"; absent: any. */
  pathContains?: string;
  /** The status answered: 429 (throttled), 500 or 503 (retried by the SDK), 404, ... */
  status: number;
  /** The Retry-After header, in seconds; absent: none (the SDK does not retry a 429 without one). */
  retryAfterSeconds?: number;
  /** How many matching requests get the fault; absent: every one, until the rules are replaced. */
  times?: number;
  /** The chance (0..1) that a matching request gets the fault (a miss uses none of `times`); absent: 1. */
  probability?: number;
}

export interface ArmControl {
  setBackupPolicy(policy: LocalBackupPolicy): void;
  setOperationDelay(ms: number): void;
  setBackupLag(ms: number): void;
  /**
   * Replace the fault rules (empty: no faults). The first matching rule answers. With a seed, the `probability` draws
   * start again from it (replayable); without, they go on.
   */
  setFaults(rules: ArmFaultRule[], seed?: number): void;
  /** The seed of the `probability` draws in force. */
  faultSeed(): number;
  /** How many requests a fault rule answered since the start, per status. */
  faultsInjected(): Record<number, number>;
  /** Duration of in-account restores started from now on (undefined: operationDelayMs again). */
  setRestoreDuration(ms: number | undefined): void;
  /** What each restored document adds to the duration of restores started from now on. */
  setRestoreMsPerDocument(ms: number): void;
  /** The next restores fail when they run, as a restore can fail after the container was deleted (undefined: none). */
  setRestoreFailure(failure: RestoreFailure | undefined): void;
  /** The account's limit of restores in progress at once. */
  setMaxConcurrentRestores(limit: number): void;
  /**
   * false: the caller's identity lacks the restore permission: reads of restorable resources
   * (`Microsoft.DocumentDB/locations/restorableDatabaseAccounts/*`) and restores are refused with 403 AuthorizationFailed.
   */
  setRestorePermission(granted: boolean): void;
  /**
   * An account-level operation in progress as ARM reports it in `provisioningState` (e.g. `Updating` during a
   * failover or a region change); undefined: `Succeeded`.
   */
  setAccountOperation(provisioningState: string | undefined): void;
  /** The account's network rules as ARM reports them (fields absent: open to every network). */
  setNetworkRules(rules: Partial<NetworkRules>): void;
  /** Restores in progress now ("database/container"). */
  restoresInProgress(): string[];
  /**
   * Every resource-provider request served since the start (method and path, in order; control requests left out):
   * what the role definitions are checked against (activities/arm/actions.ts).
   */
  requests(): { method: string; path: string }[];
  /** Accounts made by a restore into a new account, by name, with their state and endpoint. */
  restoredAccounts(): { name: string; provisioningState: string; documentEndpoint?: string }[];
}

export interface LocalArm {
  /** e.g. https://127.0.0.1:8443 */
  endpoint: string;
  control: ArmControl;
  close(): Promise<void>;
}

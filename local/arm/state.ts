/**
 * What the imitation knows beyond the emulator: the account's identity and backup policy, dedicated throughput
 * (the emulator only enforces it), and the restore parameters of restored containers. Documents and container
 * definitions stay in the emulator; this is the RP's own bookkeeping.
 */
import type { LocalCosmos } from '../cosmos/types';
import { OPEN_NETWORK, type NetworkRules } from './network';
import type { RestoredAccount } from './restored-accounts';
import type { LocalArmOptions, LocalBackupPolicy, RestoredAccountHost, RestoreFailure } from './types';
import { regionCompact, stableGuid } from './ids';

export interface ThroughputSettings {
  /** Manual RU/s (absent with autoscale). */
  throughput?: number;
  /** Autoscale maximum RU/s. */
  autoscaleMaxThroughput?: number;
}

export interface RestoreRecord {
  restoreSource: string;
  restoreTimestampInUtc: string;
  restoreWithTtlDisabled?: boolean;
  /** The restored collection's new instance id (CollectionInstanceId). */
  instanceId: string;
}

/** A restore the RP is running: the container does not exist yet, but the RP knows about it. */
export interface RestoreInProgress {
  database: string;
  container: string;
  restoreSource: string;
  restoreTimestampInUtc: string;
  restoreWithTtlDisabled?: boolean;
  startTime: Date;
}

const DAY_MS = 24 * 3600_000;

function key(database: string, container: string): string {
  return `${database}/${container}`;
}

export class AccountState {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly account: string;
  /** Display name, e.g. "West US". */
  readonly location: string;
  /** Compact name, e.g. "westus". */
  readonly region: string;
  readonly instanceId: string;
  readonly startedAt = new Date();
  readonly cosmos: LocalCosmos;
  backupPolicy: LocalBackupPolicy;
  operationDelayMs: number;
  backupLagMs: number;
  /** undefined: operationDelayMs. */
  restoreDurationMs: number | undefined;
  /** What each restored document adds to a restore's duration (restoreDuration). */
  restoreMsPerDocument: number;
  maxConcurrentRestores: number;
  /** Whether the caller may read restorable resources and restore (false: 403 AuthorizationFailed). */
  restorePermission = true;
  /**
   * An account-level operation in progress (a failover, a region added or removed) set by a test: the account's
   * `provisioningState` (and its region's) reads this instead of `Succeeded`. An account PATCH shows `Updating` while
   * it runs, too.
   */
  accountOperation: string | undefined;
  /** The account's network rules as ARM reports them (a test sets them: LocalArm.control.setNetworkRules). */
  network: NetworkRules = OPEN_NETWORK;
  /** Restores still to fail, and how. */
  restoreFailure: (RestoreFailure & { left: number }) | undefined;
  /** Restores in progress in the account, by "database/container". */
  readonly restoring = new Map<string, RestoreInProgress>();
  /** Accounts made by restores of this one into a new account, by lower-case name. */
  readonly restoredAccounts = new Map<string, RestoredAccount>();
  readonly startRestoredAccount: ((name: string) => Promise<RestoredAccountHost>) | undefined;

  /** Throughput history per container (null: the container was deleted), so a restore at T brings T's throughput back. */
  private readonly throughputHistory = new Map<string, { at: Date; settings: ThroughputSettings | null }[]>();
  private readonly databaseThroughput = new Map<string, ThroughputSettings>();
  private readonly restores = new Map<string, RestoreRecord>();
  /** Every _rid a database name has had, so restorable feeds stay consistent after the database is gone. */
  private readonly databaseRids = new Map<string, string>();

  constructor(options: LocalArmOptions) {
    this.subscriptionId = options.subscriptionId;
    this.resourceGroup = options.resourceGroup;
    this.account = options.account;
    this.location = options.location ?? 'West US';
    this.region = regionCompact(this.location);
    this.cosmos = options.cosmos;
    this.instanceId = stableGuid(`${options.subscriptionId}/${options.resourceGroup}/${options.account}`.toLowerCase());
    this.backupPolicy = options.backupPolicy ?? { type: 'Continuous', tier: 'Continuous30Days' };
    this.operationDelayMs = options.operationDelayMs ?? 300;
    this.backupLagMs = options.backupLagMs ?? 0;
    this.restoreDurationMs = options.restoreDurationMs;
    this.restoreMsPerDocument = options.restoreMsPerDocument ?? restoreMsPerDocumentFromEnv();
    this.maxConcurrentRestores = options.maxConcurrentRestores ?? 3;
    this.startRestoredAccount = options.startRestoredAccount;
  }

  /**
   * How long a restore of `documents` documents runs: a fixed part (`restoreDurationMs`, else operationDelayMs) and a
   * part set by its size. Azure: "restoring 1 TB of data typically takes 30-90 minutes", an empty container about 11
   * minutes (https://learn.microsoft.com/azure/cosmos-db/continuous-backup-restore-frequently-asked-questions).
   */
  restoreDuration(documents = 0): number {
    return (this.restoreDurationMs ?? this.operationDelayMs) + Math.round(documents * this.restoreMsPerDocument);
  }

  /** The failure the next restore ends with, if one is pending (each call uses one up). */
  takeRestoreFailure(): RestoreFailure | undefined {
    const failure = this.restoreFailure;
    if (!failure || failure.left <= 0) return undefined;
    failure.left -= 1;
    if (failure.left <= 0) this.restoreFailure = undefined;
    return failure;
  }

  get accountId(): string {
    return `/subscriptions/${this.subscriptionId}/resourceGroups/${this.resourceGroup}/providers/Microsoft.DocumentDB/databaseAccounts/${this.account}`;
  }

  get restorableAccountId(): string {
    return `/subscriptions/${this.subscriptionId}/providers/Microsoft.DocumentDB/locations/${this.region}/restorableDatabaseAccounts/${this.instanceId}`;
  }

  isContinuous(): boolean {
    return this.backupPolicy.type === 'Continuous';
  }

  tier(): 'Continuous7Days' | 'Continuous30Days' {
    return this.backupPolicy.type === 'Continuous'
      ? (this.backupPolicy.tier ?? 'Continuous30Days')
      : 'Continuous30Days';
  }

  /** The account's creation: the first write the backup log saw, or the stack's start when there is none yet. */
  creationTime(): Date {
    const first = this.cosmos.backup.firstEventTime();
    return first && first < this.startedAt ? first : this.startedAt;
  }

  /** [oldest, latest] restorable times: oldest = max(creation, now − retention), latest = now − backup lag. */
  restoreWindow(now = new Date()): { oldest: Date; latest: Date } {
    const days = this.tier() === 'Continuous7Days' ? 7 : 30;
    const creation = this.creationTime().getTime();
    return {
      oldest: new Date(Math.max(creation, now.getTime() - days * DAY_MS)),
      latest: new Date(now.getTime() - this.backupLagMs),
    };
  }

  throughputOf(database: string, container: string): ThroughputSettings | undefined {
    const history = this.throughputHistory.get(key(database, container));
    return history?.[history.length - 1]?.settings ?? undefined;
  }

  throughputAt(database: string, container: string, at: Date): ThroughputSettings | undefined {
    const history = this.throughputHistory.get(key(database, container)) ?? [];
    return history.filter((entry) => entry.at <= at).pop()?.settings ?? undefined;
  }

  /** Records dedicated throughput and hands it to the emulator's RU model, which enforces it. */
  setThroughput(database: string, container: string, settings: ThroughputSettings): void {
    const ruPerSecond = settings.throughput ?? settings.autoscaleMaxThroughput;
    if (ruPerSecond !== undefined) this.cosmos.control.setThroughput(database, container, ruPerSecond);
    this.pushThroughput(database, container, settings);
  }

  databaseThroughputOf(database: string): ThroughputSettings | undefined {
    return this.databaseThroughput.get(database);
  }

  setDatabaseThroughput(database: string, settings: ThroughputSettings | undefined): void {
    if (settings) this.databaseThroughput.set(database, settings);
    else this.databaseThroughput.delete(database);
  }

  restoreOf(database: string, container: string): RestoreRecord | undefined {
    return this.restores.get(key(database, container));
  }

  markRestored(database: string, container: string, record: RestoreRecord): void {
    this.restores.set(key(database, container), record);
  }

  /** The container is gone: forget what belonged to that instance. */
  forgetContainer(database: string, container: string): void {
    this.restores.delete(key(database, container));
    if (this.throughputOf(database, container)) this.pushThroughput(database, container, null);
  }

  forgetDatabase(database: string, containers: string[]): void {
    for (const container of containers) this.forgetContainer(database, container);
    this.databaseThroughput.delete(database);
  }

  rememberDatabaseRid(database: string, rid: unknown): void {
    if (typeof rid === 'string' && rid) this.databaseRids.set(database, rid);
  }

  databaseRid(database: string): string | undefined {
    return this.databaseRids.get(database);
  }

  private pushThroughput(database: string, container: string, settings: ThroughputSettings | null): void {
    const history = this.throughputHistory.get(key(database, container)) ?? [];
    history.push({ at: new Date(), settings });
    this.throughputHistory.set(key(database, container), history);
  }
}

/**
 * 4 µs per document by default: 1 TB of 1 KB documents (10⁹) in about an hour, the middle of Azure's "30-90 minutes"
 * for 1 TB. LOCAL_RESTORE_MS_PER_DOCUMENT sets another (0: size plays no part).
 */
export const DEFAULT_RESTORE_MS_PER_DOCUMENT = 0.004;

function restoreMsPerDocumentFromEnv(): number {
  const raw = process.env.LOCAL_RESTORE_MS_PER_DOCUMENT;
  if (raw === undefined || raw === '') return DEFAULT_RESTORE_MS_PER_DOCUMENT;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    throw new Error(`LOCAL_RESTORE_MS_PER_DOCUMENT must be a number of ms ≥ 0, not ${JSON.stringify(raw)}`);
  }
  return value;
}

/** The local ARM imitation's boundary: what the launcher and the tests may rely on. */
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
}

/** A fault the imitation answers instead of serving a request (contract §7, §11.9), to test the clients' retries. */
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
}

export interface ArmControl {
  setBackupPolicy(policy: LocalBackupPolicy): void;
  setOperationDelay(ms: number): void;
  setBackupLag(ms: number): void;
  /** Replace the fault rules (empty: no faults). The first matching rule answers. */
  setFaults(rules: ArmFaultRule[]): void;
}

export interface LocalArm {
  /** e.g. https://127.0.0.1:8443 */
  endpoint: string;
  control: ArmControl;
  close(): Promise<void>;
}

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

export interface ArmControl {
  setBackupPolicy(policy: LocalBackupPolicy): void;
  setOperationDelay(ms: number): void;
  setBackupLag(ms: number): void;
}

export interface LocalArm {
  /** e.g. https://127.0.0.1:8443 */
  endpoint: string;
  control: ArmControl;
  close(): Promise<void>;
}

/** The run's report: the workflow result, and the record the manual runbook's "Document" step asks for. */
import type { MonitorPoint } from './status';
import type { CopyOutcome } from './copy';
import type {
  Direction,
  MigrationCounters,
  MigrationPlan,
  QueryMeasurement,
  RevertConflict,
  RunStatus,
  Snapshot,
  VerificationReport,
} from './activities';

export interface RunbookReport {
  migrationId: string;
  description: string;
  checksum: string;
  direction: Direction;
  database: string;
  container: string;
  status: RunStatus;
  /** Why the run did not complete, in a sentence. */
  reason?: string;
  workflowId: string;
  startedAt: string;
  finishedAt: string;
  approvedBy?: string;
  counters: MigrationCounters;
  plan?: MigrationPlan;
  snapshot?: Snapshot;
  verification?: VerificationReport;
  /** The declared queries before the migration and after it (RU, latency, index use). */
  queries?: { before: QueryMeasurement[]; after?: QueryMeasurement[] };
  /** The monitoring window, interval by interval. */
  monitoring?: MonitorPoint[];
  /** What the chosen rollback would keep and lose, decided in preflight. */
  rollbackPlan?: string;
  rollback?: {
    mode: 'preimages' | 'down' | 'restore' | 'copy';
    reason: string;
    ok: boolean;
    problems: string[];
    /** An in-place restore: documents written at or after T0 that it discarded (the migration's own included). */
    discardedWrites?: number;
    /** An in-place restore: documents deleted since T0 that it brought back (absent: not known). */
    restoredDeletes?: number;
    /** The type of the failure that stopped the rollback (an ErrorType, e.g. AccountOperationInProgress). */
    errorType?: string;
    /** A revert from pre-images: what it did, and the first documents left as the application wrote them. */
    revert?: { reverted: number; down: number; conflicts: number; unchanged: number };
    conflicts?: RevertConflict[];
    /** The operator accepted the documents left at the new version (approve at the conflicts gate). */
    conflictsAcceptedBy?: string;
    /** A container the migration created was kept: it held documents and deleting them was not approved. */
    keptContainer?: { documents: number; reason: string };
  };
  /** Copy mode: the target, the cutover point, its verification and the reverse sync (common/copy.ts). */
  copy?: CopyOutcome;
  /** Phase transitions in order. */
  timeline: { phase: string; at: string; note?: string }[];
  /** The same report in markdown, for a ticket or a chat message. */
  markdown: string;
}

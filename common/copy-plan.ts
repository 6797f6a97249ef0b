/**
 * What the plan and the approval request say of a copy (docs/migrations.md "Copy mode"): what is created, the RU of
 * the source's reads and the target's writes, how deletes are found, and whether a rollback after the cutover is
 * possible. Pure (workflow code may call it): it works from the measured plan (planMigration), the account's backup
 * policy (preflight's BackupPolicyReport) and the module's `target`.
 */
import type { BackupPolicyReport, MigrationPlan } from './activities';
import type { CopyFeedMode } from './copy';
import type { CopyTarget } from './migration';

export interface CopyPlan {
  creates: {
    container: string;
    partitionKey: string[];
    uniqueKeys: string[][];
    /** Dedicated RU/s while the copy runs (absent: the database's shared throughput, or serverless). */
    throughput?: number;
    /** Dedicated RU/s from the cutover point on (target.throughputAfterCopy). */
    throughputAfterCopy?: number;
    indexingPolicy: 'declared' | 'Azure default (every path indexed)';
  };
  documents: number;
  /** RU to read every source document once, and to create every copy (the sample's measured charges). */
  readRu: number;
  writeRu: number;
  deletes: { mode: CopyFeedMode; how: string };
  /** down() was proved on the sample (down(up(doc)) equals the document): the reverse sync can run after cutover. */
  reverseSync: boolean;
  /** In words, for the plan and the approval request. */
  rollbackAfterCutover: string;
}

function paths(spec: CopyTarget['partitionKey']): string[] {
  return typeof spec === 'string' ? [spec] : spec.paths;
}

export function planCopy(target: CopyTarget, plan: MigrationPlan, backup: BackupPolicyReport | undefined): CopyPlan {
  const continuous = backup?.type === 'Continuous';
  const proved = plan.roundTrip !== undefined && plan.roundTrip.checked > 0 && plan.roundTrip.mismatched === 0;
  const round = (ru: number) => Math.ceil(ru);
  return {
    creates: {
      container: target.container,
      partitionKey: paths(target.partitionKey),
      uniqueKeys: (target.uniqueKeys ?? []).map((k) => k.paths),
      ...(target.throughput !== undefined ? { throughput: target.throughput } : {}),
      ...(target.throughputAfterCopy !== undefined ? { throughputAfterCopy: target.throughputAfterCopy } : {}),
      indexingPolicy: target.indexingPolicy ? 'declared' : 'Azure default (every path indexed)',
    },
    documents: plan.totalDocuments,
    readRu: round(plan.totalDocuments * plan.sample.ruPerRead),
    writeRu: round(plan.totalDocuments * plan.sample.ruPerWrite),
    deletes: continuous
      ? {
          mode: 'all-versions-and-deletes',
          how: "the source's change feed in all-versions-and-deletes mode (the account has continuous backup): each delete is replayed into the target as it comes",
        }
      : {
          mode: 'latest-version',
          how: 'the account has no continuous backup, so the change feed carries no deletes: at the cutover point each target range is compared with the source and the copies of deleted documents are deleted (findDeletedCopies)',
        },
    reverseSync: proved,
    rollbackAfterCutover: proved
      ? continuous
        ? "after the cutover the target's changes are written back to the source through down() until monitoring ends: a rollback loses none of the application's writes"
        : "after the cutover the target's creates and updates are written back to the source through down() until monitoring ends; the target's feed carries no deletes without continuous backup, so a rollback, once the reverse sync is drained, compares the source with the target and deletes from the source the documents whose copy the application deleted (findDeletedSources; after a copy accepted with problems it names them instead of deleting, as a missing copy may never have been made): a rollback loses none of the application's writes"
      : `a rollback after the cutover is not possible: ${plan.roundTrip ? 'down(up(doc)) differs from the document on the sample' : 'the module has no down()'}, so the application's writes to the target cannot be written back to the source (a rollback before the cutover deletes the target and leaves the source as it is)`,
  };
}

/**
 * The copy's plan in words, for the approval request and the report (state.rollback.plan): what is created, the RU,
 * how deletes are found, and what a rollback does before and after the cutover.
 */
export function describeCopyPlan(p: CopyPlan): string {
  const c = p.creates;
  const created =
    `copy into a new container ${c.container} (partition key ${c.partitionKey.join(', ')}` +
    (c.uniqueKeys.length ? `, unique keys ${c.uniqueKeys.map((k) => k.join('+')).join('; ')}` : '') +
    `, indexing policy ${c.indexingPolicy}` +
    (c.throughput !== undefined ? `, ${c.throughput} RU/s dedicated while the copy runs` : '') +
    (c.throughputAfterCopy !== undefined ? `, lowered to ${c.throughputAfterCopy} RU/s at the cutover point` : '') +
    ')';
  return [
    `${created}: ${p.documents} document(s), about ${p.readRu} RU to read the source and ${p.writeRu} RU to write the copies; the source is never written before the cutover and never deleted by the run`,
    `deletes: ${p.deletes.how}`,
    "rollback before the cutover: every target document is compared with up() of its source document; the target is deleted without asking when all are the run's copies, otherwise the operator is asked first with their count and ids (approve deletes it, abort keeps it); the source is left as it is",
    `rollback after the cutover: ${p.rollbackAfterCutover}`,
  ].join('; ');
}

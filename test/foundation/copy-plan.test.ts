/**
 * planCopy (common/copy-plan.ts): what the plan and the approval request say of a copy, from the measured plan, the
 * backup policy and the module's target.
 */
import type { BackupPolicyReport, MigrationPlan } from '../../common/activities';
import { describeCopyPlan, planCopy } from '../../common/copy-plan';

const measured: MigrationPlan = {
  totalDocuments: 20_000,
  documentsToMigrate: 20_000,
  sample: {
    size: 100,
    wouldChange: 100,
    wouldSkip: 0,
    failures: [],
    averageDocumentBytes: 900,
    ruPerWrite: 9.5,
    ruPerRead: 1.2,
  },
  estimatedSeconds: 120,
  roundTrip: { checked: 100, mismatched: 0, mismatches: [] },
};
const continuous: BackupPolicyReport = { type: 'Continuous', tier: 'Continuous7Days', meetsMinimum: true };
const periodic: BackupPolicyReport = { type: 'Periodic', meetsMinimum: false };
const target = {
  container: 'accounts-by-tenant',
  partitionKey: '/tenant',
  uniqueKeys: [{ paths: ['/email'] }],
  throughput: 4000,
};

test('with continuous backup and a proved down(): what is created, RU of reads and writes, deletes from the feed, a reverse sync', () => {
  expect(planCopy(target, measured, continuous)).toEqual({
    creates: {
      container: 'accounts-by-tenant',
      partitionKey: ['/tenant'],
      uniqueKeys: [['/email']],
      throughput: 4000,
      indexingPolicy: 'Azure default (every path indexed)',
    },
    documents: 20_000,
    readRu: 24_000,
    writeRu: 190_000,
    deletes: {
      mode: 'all-versions-and-deletes',
      how: "the source's change feed in all-versions-and-deletes mode (the account has continuous backup): each delete is replayed into the target as it comes",
    },
    reverseSync: true,
    rollbackAfterCutover:
      "after the cutover the target's changes are written back to the source through down() until monitoring ends: a rollback loses none of the application's writes",
  });
});

test('without continuous backup deletes are found by comparing at the cutover; without a proved down() a rollback after the cutover is not possible', () => {
  const noDown = planCopy(target, { ...measured, roundTrip: undefined }, periodic);
  expect(noDown.deletes.mode).toBe('latest-version');
  expect(noDown.deletes.how).toContain('findDeletedCopies');
  expect(noDown.reverseSync).toBe(false);
  expect(noDown.rollbackAfterCutover).toBe(
    "a rollback after the cutover is not possible: the module has no down(), so the application's writes to the target cannot be written back to the source (a rollback before the cutover deletes the target and leaves the source as it is)"
  );
  const badDown = planCopy(
    target,
    { ...measured, roundTrip: { checked: 100, mismatched: 3, mismatches: [] } },
    continuous
  );
  expect(badDown.reverseSync).toBe(false);
  expect(badDown.rollbackAfterCutover).toMatch(
    /^a rollback after the cutover is not possible: down\(up\(doc\)\) differs/
  );
});

test('without continuous backup and with a proved down(): the reverse sync runs, and the plan says the application’s deletes in the target after the cutover are found by comparing at the rollback (that feed carries none)', () => {
  const plan = planCopy(target, measured, periodic);
  expect(plan.reverseSync).toBe(true);
  expect(plan.rollbackAfterCutover).toBe(
    "after the cutover the target's creates and updates are written back to the source through down() until monitoring ends; the target's feed carries no deletes without continuous backup, so a rollback, once the reverse sync is drained, compares the source with the target and deletes from the source the documents whose copy the application deleted (findDeletedSources; after a copy accepted with problems it names them instead of deleting, as a missing copy may never have been made): a rollback loses none of the application's writes"
  );
});

test('describeCopyPlan: the approval text names what is created, the RU, how deletes are found and both rollbacks', () => {
  expect(describeCopyPlan(planCopy({ ...target, throughputAfterCopy: 1000 }, measured, continuous))).toBe(
    'copy into a new container accounts-by-tenant (partition key /tenant, unique keys /email, indexing policy Azure default (every path indexed), 4000 RU/s dedicated while the copy runs, lowered to 1000 RU/s at the cutover point): ' +
      '20000 document(s), about 24000 RU to read the source and 190000 RU to write the copies; the source is never written before the cutover and never deleted by the run; ' +
      "deletes: the source's change feed in all-versions-and-deletes mode (the account has continuous backup): each delete is replayed into the target as it comes; " +
      "rollback before the cutover: every target document is compared with up() of its source document; the target is deleted without asking when all are the run's copies, otherwise the operator is asked first with their count and ids (approve deletes it, abort keeps it); the source is left as it is; " +
      "rollback after the cutover: after the cutover the target's changes are written back to the source through down() until monitoring ends: a rollback loses none of the application's writes"
  );
});

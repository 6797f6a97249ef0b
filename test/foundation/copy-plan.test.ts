/**
 * planCopy (common/copy-plan.ts): what the plan and the approval request say of a copy, from the measured plan, the
 * backup policy and the module's target.
 */
import type { BackupPolicyReport, MigrationPlan } from '../../common/activities';
import { planCopy } from '../../common/copy-plan';

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

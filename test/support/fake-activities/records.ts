/**
 * What the runbook keeps outside the workflow, in memory: the container lease (the real semantics of
 * activities/cosmos/lease.ts: taken when free or expired, renewed and released by its holder only), the migrations
 * history, the staging gate and the restore-drill records.
 */
import type { DrillRecord, HistoryRecord, LeaseResult, RunbookActivities } from '../../../common/activities';
import type { FakeScript } from './script';

export type RecordActivities = Pick<
  RunbookActivities,
  | 'acquireLease'
  | 'renewLease'
  | 'releaseLease'
  | 'recordHistory'
  | 'checkStagingRun'
  | 'recordDrill'
  | 'findRecentDrill'
  | 'restoreDrillAccount'
  | 'deleteDrillAccount'
  | 'compareDrill'
>;

export interface Records {
  leases: Map<string, { holder: string; expiresAt: number }>;
  history: HistoryRecord[];
}

export function createRecordActivities(script: FakeScript, records: Records): RecordActivities {
  const { leases } = records;
  const answer = (key: string, holder: string): LeaseResult => {
    const lease = leases.get(key)!;
    const expiresAt = new Date(lease.expiresAt).toISOString();
    return lease.holder === holder
      ? { acquired: true, expiresAt }
      : { acquired: false, holder: lease.holder, expiresAt };
  };
  return {
    async acquireLease({ key, holder, ttlSeconds }) {
      const lease = leases.get(key);
      if (!lease || lease.holder === holder || lease.expiresAt <= Date.now()) {
        leases.set(key, { holder, expiresAt: Date.now() + ttlSeconds * 1000 });
      }
      return answer(key, holder);
    },
    async renewLease({ key, holder, ttlSeconds }) {
      const lease = leases.get(key);
      if (lease?.holder === holder) lease.expiresAt = Date.now() + ttlSeconds * 1000;
      return lease ? answer(key, holder) : { acquired: false };
    },
    async releaseLease({ key, holder }) {
      if (leases.get(key)?.holder === holder) leases.delete(key);
    },
    async recordHistory(record) {
      records.history.push(record);
    },
    async checkStagingRun() {
      return script.stagingRun
        ? { found: true, workflowId: 'staging-run', finishedAt: new Date().toISOString() }
        : { found: false };
    },
    async recordDrill(record): Promise<DrillRecord> {
      const durationMs = Date.parse(record.finishedAt) - Date.parse(record.startedAt);
      return { account: 'fake-account', docsPerSecond: 0, durationMs, ...record };
    },
    async findRecentDrill() {
      return null;
    },
    async restoreDrillAccount({ account, at }) {
      const now = new Date().toISOString();
      return { account, documentEndpoint: `https://${account}.invalid/`, restoredTo: at, readyAt: now };
    },
    async deleteDrillAccount() {
      return { deleted: true };
    },
    async compareDrill() {
      return { count: { copy: 0, liveAtT: 0, newerThanAt: 0 }, sampleChecked: 0, mismatches: [] };
    },
  };
}

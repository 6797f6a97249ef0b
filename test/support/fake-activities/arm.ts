/**
 * The ARM side in memory: the backup policy, the container's definition, container steps, the pre-images container,
 * and a rollback by restore (proof, consent count, delete, restore, verification), each answering what the script
 * says. A deleted container is one whose documents are gone until the restore puts them back at `fromVersion`.
 */
import { ApplicationFailure } from '@temporalio/common';
import type {
  ContainerExport,
  ContainerRef,
  RestorabilityCheckName,
  RunbookActivities,
} from '../../../common/activities';
import type { FakeContainer } from './container';
import type { FakeScript } from './script';

const CHECKS: RestorabilityCheckName[] = [
  'restore-permission',
  'continuous-backup',
  'parent-database',
  'restore-window',
  'dedicated-throughput',
  'concurrent-restores',
  'account-state',
];

export type ArmActivities = Pick<
  RunbookActivities,
  | 'checkBackupPolicy'
  | 'exportContainer'
  | 'applyContainerSteps'
  | 'waitForIndexTransformation'
  | 'ensurePreimagesContainer'
  | 'waitForRestorableTimestamp'
  | 'proveRestorable'
  | 'countWritesSince'
  | 'deleteContainer'
  | 'restoreContainer'
  | 'verifyRestore'
  | 'reapplyContainerProperties'
>;

export function createArmActivities(
  container: FakeContainer,
  script: FakeScript,
  from: number | string | undefined
): ArmActivities & { deleted: () => boolean } {
  let exists = script.containerExists ?? true;
  let proofs = 0;
  const definition = (ref: ContainerRef): ContainerExport => ({
    ...ref,
    resource: { id: ref.container, partitionKey: { paths: ['/tenant'], kind: 'Hash' } },
    throughput: 400,
    exportedAt: new Date().toISOString(),
  });
  return {
    deleted: () => !exists,
    async checkBackupPolicy() {
      return { type: 'Continuous', tier: 'Continuous7Days', meetsMinimum: true, ...script.backup };
    },
    async exportContainer(ref) {
      return exists ? definition(ref) : null;
    },
    async applyContainerSteps() {
      return { applied: [], previous: null };
    },
    async waitForIndexTransformation() {
      return { progress: 100 };
    },
    async ensurePreimagesContainer(ref) {
      return { name: `${ref.container}-preimages`, created: true };
    },
    async waitForRestorableTimestamp({ timestamp }) {
      return { latestRestorableTimestamp: timestamp };
    },
    async proveRestorable() {
      proofs += 1;
      const failed = proofs > (script.restorableCalls ?? 0) ? (script.unrestorable ?? {}) : {};
      const checks = CHECKS.map((name) => ({ name, ok: !failed[name], detail: failed[name] ?? `${name} holds` }));
      return {
        ok: checks.every((c) => c.ok),
        problems: checks.filter((c) => !c.ok).map((c) => c.detail),
        checks,
        containerExists: exists,
        restoreLimit: 10,
        checkedAt: new Date().toISOString(),
      };
    },
    async countWritesSince() {
      return { documents: container.documents.filter((d) => d.ups > 0).length, ranges: container.feedRanges().length };
    },
    async deleteContainer() {
      if (script.deleteRefused) {
        throw ApplicationFailure.nonRetryable(script.deleteRefused.message, script.deleteRefused.type);
      }
      exists = false;
    },
    async restoreContainer({ timestamp }) {
      if (script.restore?.fails) throw ApplicationFailure.nonRetryable(script.restore.fails, 'RestoreFailed');
      for (const d of container.documents) {
        if (d.version !== from) d.downs += 1;
        d.version = from;
      }
      exists = true;
      return { restoredTo: timestamp, ttlDisabled: false, started: true };
    },
    async verifyRestore({ snapshot }) {
      return {
        ok: true,
        problems: [],
        documentCount: container.documents.length,
        expected: { min: snapshot.documentCount, max: snapshot.documentCount },
        ...script.restore?.verification,
      };
    },
    async reapplyContainerProperties() {
      return { changed: [] };
    },
  };
}

/**
 * The copy mode's activities in the fake kit (the real ones are proved on the local stack: test/engine/copy.test.ts,
 * test/workflow/copy-mode.test.ts). A copy of the container's documents by id; every call answers at once (after
 * `script.copy.pageMs`), so phase-machine tests can assert what the workflow called, in which order, and what it did
 * with named problems, a failed verification, the cutover and the rollbacks.
 */
import { ApplicationFailure } from '@temporalio/common';
import { FAILURE_THRESHOLD_EXCEEDED, FEED_RANGE_SPLIT } from '../../../common/activities';
import { zeroCopyCounters, type CopyActivities, type CopyRangeResult } from '../../../common/copy';
import type { FakeContainer } from './container';
import type { FakeScript } from './script';

/** What a test reads back: the target's copies by id, and whether the target exists. */
export interface FakeCopyTarget {
  copies: Set<string>;
  exists: () => boolean;
}

export function createCopyActivities(
  container: FakeContainer,
  script: FakeScript
): CopyActivities & { copyTarget: FakeCopyTarget } {
  const copies = new Set<string>();
  let exists = false;
  let marks = 0;
  let syncs = 0;
  let verificationsToFail = script.copy?.failVerifications ?? 0;
  let reverseWrites = script.copy?.reverseWrites ?? 0;
  const problems = new Set(script.copy?.problems ?? []);
  const pause = () => new Promise((resolve) => setTimeout(resolve, script.copy?.pageMs ?? 10));
  return {
    copyTarget: { copies, exists: () => exists },
    async prepareCopyTarget({ target }) {
      if (script.copy?.targetTaken) {
        throw ApplicationFailure.nonRetryable(
          `the copy's target ${target.database}/${target.container} exists already (12 document(s), partition key /other) and was not created by this run: choose a new target container, or delete it yourself`,
          'ContainerExists'
        );
      }
      const created = !exists;
      exists = true;
      return { created, partitionKeyPaths: ['/tenant'] };
    },
    async markCopyStart({ feedRange, of }) {
      marks += 1;
      return { continuation: `${of ?? 'source'}:${feedRange}:${marks}`, at: new Date().toISOString() };
    },
    async copyRange({ feedRange, continuation, maxFailures }) {
      await pause();
      if (continuation === 'end') return { done: true, counters: zeroCopyCounters(), failures: [] };
      const docs = container.documentsIn(feedRange);
      const result: CopyRangeResult = { done: true, counters: zeroCopyCounters(), failures: [] };
      for (const d of docs) {
        result.counters.read += 1;
        if (problems.has(d.id)) {
          result.counters.failed += 1;
          result.failures.push({ id: d.id, partitionKey: d.id, error: 'the new partition key /tenant is missing' });
        } else {
          copies.add(d.id);
          result.counters.written += 1;
        }
      }
      if (result.counters.failed > maxFailures) {
        throw ApplicationFailure.create({
          message: `${result.counters.failed} document(s) could not be copied, more than maxFailures (${maxFailures}); first: ${result.failures[0]!.id}`,
          type: FAILURE_THRESHOLD_EXCEEDED,
          nonRetryable: true,
          details: [{ ...result, done: false, continuation: 'end' }],
        });
      }
      return result;
    },
    async syncCopyRange({ feedRange, continuation }) {
      await pause();
      syncs += 1;
      const gone = !container.isCurrent(feedRange);
      if (gone || syncs === script.copy?.splitSync) {
        if (!gone) container.split(feedRange, 2);
        throw ApplicationFailure.create({
          message: `feed range ${feedRange} split while its change feed was copied`,
          type: FEED_RANGE_SPLIT,
          nonRetryable: true,
          details: [
            {
              done: false,
              continuation: `${continuation}!`,
              counters: zeroCopyCounters(),
              failures: [],
              secondsBehind: 0,
            },
          ],
        });
      }
      return {
        done: true,
        continuation: `${continuation}.`,
        counters: zeroCopyCounters(),
        failures: [],
        secondsBehind: 0,
      };
    },
    async reverseSyncRange({ continuation }) {
      await pause();
      const counters = { ...zeroCopyCounters(), read: reverseWrites, written: reverseWrites };
      reverseWrites = 0;
      return { done: true, continuation: `${continuation}.`, counters, failures: [], secondsBehind: 0 };
    },
    async verifyCopy() {
      const total = container.documents.length;
      const failing = verificationsToFail > 0;
      if (failing) verificationsToFail -= 1;
      return {
        passed: !failing,
        expectedByVersion: { '2': total },
        targetByVersion: { '2': failing ? total - 1 : total },
        sourceTotal: total,
        targetTotal: failing ? total - 1 : total,
        sampled: Math.min(total, 20),
        mismatches: failing ? [{ id: 'd-0000', partitionKey: 'd-0000', error: 'its copy is missing' }] : [],
        ruConsumed: 1,
      };
    },
    async setCopyTargetThroughput() {
      return { changed: true };
    },
    async checkTargetCopies() {
      const foreign = exists ? (script.copy?.targetWrites ?? []) : [];
      return {
        documents: exists ? copies.size + foreign.length : 0,
        notCopies: foreign.length,
        ids: foreign.slice(0, 100),
        ruConsumed: 1,
      };
    },
    async findDeletedCopies() {
      return { done: true, counters: zeroCopyCounters(), failures: [] };
    },
    async findDeletedSources() {
      const deleted = script.copy?.targetDeletes ?? 0;
      return { done: true, counters: { ...zeroCopyCounters(), deleted }, failures: [] };
    },
  };
}

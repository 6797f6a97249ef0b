/**
 * The named problems of a copy (a document not copied, and why), kept as the migration's failures are: source id and
 * source partition key, never a value; at most MAX_RECORDED_FAILURES in full, every one counted.
 */
import { ApplicationFailure } from '@temporalio/common';
import { FAILURE_THRESHOLD_EXCEEDED, type DocumentFailure } from '../../common/activities';
import type { CopyCounters } from '../../common/copy';

const MAX_RECORDED_FAILURES = 100;

export function recordProblem(
  state: { failures: DocumentFailure[] },
  counters: CopyCounters,
  id: string,
  sourcePartitionKey: unknown,
  error: string
): void {
  counters.failed += 1;
  if (state.failures.length < MAX_RECORDED_FAILURES) {
    state.failures.push({ id, partitionKey: sourcePartitionKey ?? null, error });
  }
}

/** More problems than maxFailures: the run stops for the operator, as migrating does; `details` carry the result. */
export function problemsExceeded(
  where: string,
  counters: CopyCounters,
  failures: DocumentFailure[],
  maxFailures: number,
  result: unknown
): ApplicationFailure {
  const first = failures
    .slice(0, 3)
    .map((f) => `${f.id}: ${f.error}`)
    .join('; ');
  return ApplicationFailure.create({
    message: `${counters.failed} document(s) could not be copied from ${where}, more than maxFailures (${maxFailures}); first: ${first}`,
    type: FAILURE_THRESHOLD_EXCEEDED,
    nonRetryable: true,
    details: [result],
  });
}

/** The problem of an id met twice in one new logical partition: names the other document by its source key. */
export function collision(otherSource: string): string {
  const [otherPk] = JSON.parse(otherSource) as [unknown, string];
  return `its id collides in the new logical partition with the copy of the source document of partition key ${JSON.stringify(otherPk)}; not copied`;
}

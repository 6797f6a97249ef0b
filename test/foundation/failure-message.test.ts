/** The one helper that turns a failure into the line an operator reads (common/failure-message.ts). */
import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import { failureMessage } from '../../common/failure-message';

test("an activity's failure says its cause, not the wrapping", () => {
  const cause = ApplicationFailure.nonRetryable('container demo/x does not exist', 'MigrationInvalid');
  const wrapped = new ActivityFailure(
    'Activity task failed',
    'verifyMigration',
    '3',
    RetryState.NON_RETRYABLE_FAILURE,
    undefined,
    cause
  );
  expect(failureMessage(wrapped)).toBe('container demo/x does not exist');
});

test("ARM's { code, message } body is read (its first line); other messages are kept whole", () => {
  const body = JSON.stringify({ code: 'Conflict', message: 'Operation in progress\nActivityId: 1234' });
  expect(failureMessage(new Error(body))).toBe('Conflict: Operation in progress');
  expect(failureMessage(new Error('invalid input:\n  batchSize: too small'))).toBe(
    'invalid input:\n  batchSize: too small'
  );
  expect(failureMessage('plain')).toBe('plain');
});

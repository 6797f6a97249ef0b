/** The range loop's pure parts: which ranges replace one that split, and which failure says a range split. */
import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import { FEED_RANGE_SPLIT } from '../../common/activities';
import { childRanges, isFeedRangeSplit } from '../../workflows/ranges';

const r = (minInclusive: string, maxExclusive: string) => JSON.stringify({ minInclusive, maxExclusive });

test('the children of a split range are the current ranges inside its bounds, and only those', () => {
  const current = [r('', '3F'), r('3F', '7F'), r('7F', 'BF'), r('BF', 'FF')];
  expect(childRanges(r('', '7F'), current)).toEqual([r('', '3F'), r('3F', '7F')]);
  expect(childRanges(r('7F', 'FF'), current)).toEqual([r('7F', 'BF'), r('BF', 'FF')]);
  expect(childRanges(r('', 'FF'), current)).toEqual(current);
});

test('a range that merged instead of splitting has no children (the loop replaces it by its union: range-loop.ts)', () => {
  expect(childRanges(r('3F', '7F'), [r('', 'FF')])).toEqual([]);
});

test('"FF" ends the hash space in either case: a last range spelled "ff" has the children that end the space', () => {
  const current = [r('', '7F'), r('7F', 'FF')];
  expect(childRanges(r('7F', 'ff'), current)).toEqual([r('7F', 'FF')]);
  expect(childRanges(r('7F', 'FF'), [r('7F', 'BF'), r('BF', 'ff')])).toEqual([r('7F', 'BF'), r('BF', 'ff')]);
});

test('a range split is an activity failure caused by FeedRangeSplit, and only that', () => {
  const failed = (cause: Error) =>
    new ActivityFailure('failed', 'migrateRange', '1', RetryState.NON_RETRYABLE_FAILURE, 'w', cause);
  expect(isFeedRangeSplit(failed(ApplicationFailure.create({ message: 'split', type: FEED_RANGE_SPLIT })))).toBe(true);
  expect(isFeedRangeSplit(failed(ApplicationFailure.create({ message: 'other', type: 'MigrationInvalid' })))).toBe(
    false
  );
  expect(isFeedRangeSplit(failed(new Error('split')))).toBe(false);
  expect(isFeedRangeSplit(ApplicationFailure.create({ message: 'split', type: FEED_RANGE_SPLIT }))).toBe(false);
});

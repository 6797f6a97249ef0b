/** The range loop's pure parts: which ranges replace one that split. */
import { childRanges } from '../../workflows/ranges';

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

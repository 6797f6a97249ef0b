/**
 * continuationWithin (workflows/copy/feed-continuation.ts): where a copy's change feed goes on after its range split or
 * merged, from @azure/cosmos 4.9's CompositeContinuationToken (client/ChangeFeed/CompositeContinuationToken.js). The
 * stack proof that the SDK and the emulator read a child from its parent's etag is test/engine/copy.test.ts.
 */
import { continuationWithin } from '../../workflows/copy/feed-continuation';

const token = (entries: [string, string, string][]) =>
  JSON.stringify({
    rid: 'gAABAIAAAAE=',
    Continuation: entries.map(([minInclusive, maxExclusive, lsn]) => ({
      minInclusive,
      maxExclusive,
      continuationToken: `"${lsn}"`,
    })),
  });
const range = (minInclusive: string, maxExclusive: string) => JSON.stringify({ minInclusive, maxExclusive });

test("a split's children each take the parent's etag on their own EPK range (the last child up to FF)", () => {
  const parent = token([['', 'FF', '17']]);
  expect(continuationWithin([parent], range('', '80'))).toBe(token([['', '80', '17']]));
  expect(continuationWithin([parent], range('80', 'FF'))).toBe(token([['80', 'FF', '17']]));
});

test('a parent whose feed the SDK already followed into children (two entries) gives each child only the entries over it', () => {
  const parent = token([
    ['', '40', '21'],
    ['40', '80', '19'],
  ]);
  expect(continuationWithin([parent], range('', '40'))).toBe(token([['', '40', '21']]));
  expect(continuationWithin([parent], range('20', '60'))).toBe(
    token([
      ['20', '40', '21'],
      ['40', '60', '19'],
    ])
  );
});

test("a merge's union takes every part's entries, each at its own etag, in EPK order", () => {
  const left = token([['', '80', '30']]);
  const right = token([['80', 'FF', '12']]);
  expect(continuationWithin([right, left], range('', 'FF'))).toBe(
    token([
      ['', '80', '30'],
      ['80', 'FF', '12'],
    ])
  );
});

test('no continuation: undefined (the range is marked from now); one that is not a composite token is handed on whole', () => {
  expect(continuationWithin([undefined], range('', '80'))).toBeUndefined();
  expect(continuationWithin(['source:r1:1.'], range('', '80'))).toBe('source:r1:1.');
});

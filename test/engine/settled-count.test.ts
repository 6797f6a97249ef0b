/**
 * The count a destructive step acts on (activities/cosmos/settled-count.ts): taken again until two consecutive counts
 * agree, the highest kept, because a replica that lags only ever shows fewer of the writes before it.
 */
import { settledCount } from '../../activities/cosmos/settled-count';

/** Counts answered in turn, and the waits asked for between them. */
function scripted(answers: number[]) {
  const waits: number[] = [];
  let taken = 0;
  const count = () => Promise.resolve(answers[Math.min(taken++, answers.length - 1)]!);
  return { count, waits, wait: (ms: number) => Promise.resolve(waits.push(ms)), taken: () => taken };
}

test('a count that a lagging replica answered 0 is taken again until two agree: the documents it missed are counted', async () => {
  const s = scripted([0, 3, 3]);
  await expect(settledCount(s.count, { settleMs: 700, wait: s.wait })).resolves.toBe(3);
  expect(s.taken()).toBe(3);
  expect(s.waits).toEqual([700, 700]);
});

test('two equal counts, one settle apart, are enough', async () => {
  const s = scripted([5, 5, 9]);
  await expect(settledCount(s.count, { settleMs: 10, wait: s.wait })).resolves.toBe(5);
  expect(s.taken()).toBe(2);
});

test('counts that never agree stop after maxCounts with the highest seen, never the last', async () => {
  const s = scripted([4, 7, 2, 6, 1]);
  await expect(settledCount(s.count, { settleMs: 1, maxCounts: 5, wait: s.wait })).resolves.toBe(7);
  expect(s.taken()).toBe(5);
});

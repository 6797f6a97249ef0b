/**
 * Counting by version (activities/cosmos/counts.ts) over 4 physical partitions, every figure compared: the counts per
 * version, "(missing)" and "(other)" (more distinct versions in a range than it counts one by one), the documents
 * changed since a time, the RU it reports against the RU the emulator charged (`stats().requestCharge`), and the
 * progress it heartbeats per range. The mutation run showed verification's tests alone let wrong RU sums, a lost
 * "(missing)" and an unbounded version loop pass (docs/reliability.md, "Mutation testing").
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Container, FeedOptions } from '@azure/cosmos';
import { countByVersion, countWhere, liveRanges, perRange, rangeOptions } from '../../activities/cosmos/counts';
import { freshContainer, seed, startEngineStack, type EngineStack } from './support';

let engine: EngineStack;

beforeAll(async () => {
  engine = await startEngineStack();
}, 120_000);

afterAll(async () => {
  await engine?.close();
});

const spread = (prefix: string, n: number, v?: unknown) =>
  Array.from({ length: n }, (_, i) => ({
    id: `${prefix}-${i}`,
    tenantId: `t${i % 8}`,
    ...(v === undefined ? {} : { v }),
  }));

/** 4 physical partitions, every range with at most 3 versions: 40 at 1, 12 at "two", 6 without, 3 objects. */
/** What listing the partition key ranges costs at the emulator (counted by the emulator, not by the counts). */
async function rangesCharge(container: Container): Promise<number> {
  const before = engine.stack.cosmos.control.stats().requestCharge;
  await liveRanges(container);
  return engine.stack.cosmos.control.stats().requestCharge - before;
}

async function fourRanges(): Promise<Container> {
  const container = await freshContainer(engine.deps);
  await engine.stack.cosmos.control.setPartitionCount(container.database.id, container.id, 4);
  await seed(container, [
    ...spread('one', 40, 1),
    ...spread('two', 12, 'two'),
    ...spread('none', 6),
    ...spread('obj', 3, { major: 1 }),
  ]);
  return container;
}

function collectBeats(env: MockActivityEnvironment): unknown[] {
  const beats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => beats.push(d));
  return beats;
}

test('by version over 4 partitions: every version, "(missing)", changed since, the RU the emulator charged, progress per range', async () => {
  const container = await fourRanges();
  const control = engine.stack.cosmos.control;
  const before = control.stats().requestCharge;
  const env = new MockActivityEnvironment();
  const beats = collectBeats(env);
  const counted: Awaited<ReturnType<typeof countByVersion>> = await env.run(() =>
    countByVersion(container, 'v', { changedSinceTs: 0 })
  );
  const charged = control.stats().requestCharge - before;

  // Objects are counted under their JSON (common/counters.ts versionKey); "(other)" is only past 20 versions.
  expect(counted.counts).toEqual({ '1': 40, two: 12, '(missing)': 6, '{"major":1}': 3 });
  expect(counted.total).toBe(61);
  expect(counted.changedSince).toBe(61);
  expect(charged).toBeGreaterThan(0);
  expect(counted.ruConsumed).toBeCloseTo(charged - (await rangesCharge(container)), 6);

  // Progress per range: each of the 4 ranges counted, the last heartbeat says none is left; a beat per page too.
  const perRange = beats.filter((b) => (b as { what?: string }).what === 'countByVersion');
  expect(perRange).toHaveLength(4);
  expect(perRange.at(-1)).toEqual({ what: 'countByVersion', ranges: 4, left: 0 });
  const pages = beats.filter((b) => typeof (b as { counting?: number }).counting === 'number');
  expect(pages.length).toBeGreaterThanOrEqual(4 * 3);
  expect(pages.every((b) => (b as { counting: number }).counting >= 1)).toBe(true);
});

test('past 20 distinct versions in one range, the rest of the range is "(other)"', async () => {
  const container = await freshContainer(engine.deps);
  await seed(container, [
    ...Array.from({ length: 25 }, (_, i) => ({ id: `many-${i}`, tenantId: 't0', v: 100 + i })),
    ...spread('obj', 3, { major: 1 }).map((d) => ({ ...d, tenantId: 't0' })),
  ]);
  const counted = await countByVersion(container, 'v');
  const versions = Object.entries(counted.counts).filter(([k]) => /^1\d\d$/.test(k));
  expect(versions).toHaveLength(20);
  expect(versions.every(([, n]) => n === 1)).toBe(true);
  expect(counted.counts['(other)']).toBe(5 + 3);
  expect(Object.keys(counted.counts)).toHaveLength(21);
  expect(counted.total).toBe(28);
  expect(counted.changedSince).toBe(0);
});

test('changed since a time counts only the documents written at or after it', async () => {
  const container = await fourRanges();
  const { resources } = await container.items.readAll<{ _ts: number }>().fetchAll();
  const seeded = Math.max(...resources.map((d) => d._ts));
  // The emulator stamps _ts in whole seconds from this machine's clock: wait for the next second.
  while (Date.now() / 1000 < seeded + 1) await sleep(50);
  await container.items.upsert({ id: 'late-1', tenantId: 't2', v: 1 });
  await container.items.upsert({ id: 'late-2', tenantId: 't3', v: 1 });
  const counted = await countByVersion(container, 'v', { changedSinceTs: seeded + 1 });
  expect(counted.total).toBe(63);
  expect(counted.changedSince).toBe(2);
  expect(counted.counts['1']).toBe(42);
});

test('a count with a condition adds every range’s aggregate, and reports the RU the emulator charged', async () => {
  const container = await fourRanges();
  const stats = engine.stack.cosmos.control;
  const before = stats.stats().requestCharge;
  const env = new MockActivityEnvironment();
  const beats = collectBeats(env);
  const counted: Awaited<ReturnType<typeof countWhere>> = await env.run(() =>
    countWhere(container, { where: 'c.v = @v', parameters: [{ name: '@v', value: 1 }] })
  );
  const charged = stats.stats().requestCharge - before;
  expect(counted.count).toBe(40);
  expect(beats.filter((b) => (b as { what?: string }).what !== undefined).at(-1)).toEqual({
    what: 'count',
    ranges: 4,
    left: 0,
  });
  expect(charged).toBeGreaterThan(0);
  expect(counted.ruConsumed).toBeCloseTo(charged - (await rangesCharge(container)), 6);
  expect((await countWhere(container)).count).toBe(61);
});

/** A count of every document in one range, read with the range's own options (as perRange's callers do). */
async function countIn(container: Container, options: FeedOptions): Promise<number> {
  const iterator = container.items.query<number>('SELECT VALUE COUNT(1) FROM c', options);
  let n = 0;
  while (iterator.hasMoreResults()) for (const c of (await iterator.fetchNext()).resources ?? []) n += c;
  return n;
}

test('a range that splits while it is counted (410/1002) is counted again as its children, and only them', async () => {
  // 3 ranges; the middle one splits when it is first asked, so a child starts where it starts and another ends where
  // it ends, with a range on each side that must not be taken for a child. fetchNext surfaces the 410/1002 (fetchAll
  // answers 503 "Encountered partition split": node_modules/@azure/cosmos/dist/commonjs/queryExecutionContext/
  // parallelQueryExecutionContextBase.js repairs only its own fan-out).
  const container = await freshContainer(engine.deps);
  const control = engine.stack.cosmos.control;
  await control.setPartitionCount(container.database.id, container.id, 3);
  await seed(container, spread('doc', 90));
  const [first, middle, last] = await liveRanges(container);
  const goneBefore = control.stats().partitionKeyRangeGone;
  const asked: string[] = [];
  const env = new MockActivityEnvironment();
  const beats = collectBeats(env);
  const parts: { range: string; count: number }[] = await env.run(() =>
    perRange(container, 'split', async (options, range) => {
      asked.push(range.id);
      if (range.id === middle!.id) await control.splitPartition(container.database.id, container.id, range.id);
      return { range: range.id, count: await countIn(container, options) };
    })
  );
  expect(control.stats().partitionKeyRangeGone).toBe(goneBefore + 1);

  // The children are the live ranges inside the middle one: counted each once, in place of it, in the ranges' order.
  const after = await liveRanges(container);
  const children = after.filter((r) => ![first!.id, middle!.id, last!.id].includes(r.id));
  expect(children).toHaveLength(2);
  expect(children[0]!.minInclusive).toBe(middle!.minInclusive);
  expect(children[1]!.maxExclusive).toBe(middle!.maxExclusive);
  const expected = [];
  for (const r of [first!, ...children, last!]) {
    expected.push({ range: r.id, count: await countIn(container, rangeOptions(r)) });
  }
  expect(parts).toEqual(expected);
  expect(parts.reduce((n, p) => n + p.count, 0)).toBe(90);
  expect(asked.sort()).toEqual([first!.id, middle!.id, last!.id, ...children.map((c) => c.id)].sort());

  // Progress: a beat per range counted (4: the middle one is not), the last with none left.
  const progress = beats.filter((b) => (b as { what?: string }).what === 'split');
  expect(progress).toHaveLength(4);
  expect(progress.map((b) => (b as { ranges: number }).ranges)).toEqual([1, 2, 3, 4]);
  expect(progress.at(-1)).toEqual({ what: 'split', ranges: 4, left: 0 });
});

test('an error other than a gone range stops the count: it is not taken for a split', async () => {
  const container = await fourRanges();
  const refused = Object.assign(new Error('refused'), { code: 500 });
  let calls = 0;
  await expect(
    perRange(container, 'refused', async (options) => {
      calls += 1;
      if (calls === 2) throw refused;
      return countIn(container, options);
    })
  ).rejects.toBe(refused);
});

test('a range merged into a wider one while it is counted (410/1002, no live range inside it): the error stands, its documents are never dropped from the count', async () => {
  // Azure merges partitions only on request (https://learn.microsoft.com/azure/cosmos-db/merge); the emulator's
  // re-layout to one range stands in for it: every old range is gone, the one live range is wider than each.
  const container = await freshContainer(engine.deps);
  const control = engine.stack.cosmos.control;
  await control.setPartitionCount(container.database.id, container.id, 3);
  await seed(container, spread('doc', 30));
  const [, middle] = await liveRanges(container);
  const parts = perRange(container, 'merged', async (options, range) => {
    if (range.id === middle!.id) await control.setPartitionCount(container.database.id, container.id, 1);
    return countIn(container, options);
  });
  await expect(parts).rejects.toMatchObject({ code: 410, substatus: 1002 });
});

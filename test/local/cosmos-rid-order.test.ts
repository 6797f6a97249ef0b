/**
 * The query library's `_rid` sort made cheap (local/cosmos/rid-order.ts) keeps the library's results: the same order
 * as its own sort, and aggregates per range (what the runbook's counts send) that count what the filter matches.
 */
import { PriorityLevel, type Container } from '@azure/cosmos';
import { rangeOptions } from '../../activities/cosmos/counts';
import { applyServerPatches } from '../../local/cosmos/patches';
import { librarySort } from '../../local/cosmos/rid-order';
import { serverRequire } from '../../local/cosmos/server-require';
import { startTestEmulator, type TestEmulator } from './cosmos-support';

let emulator: TestEmulator;
let container: Container;

beforeAll(async () => {
  emulator = await startTestEmulator({ ruModel: false });
  const { database } = await emulator.client.databases.createIfNotExists({ id: 'app' });
  ({ container } = await database.containers.create({ id: 'rid-order', partitionKey: { paths: ['/tenantId'] } }));
  await emulator.cosmos.control.setPartitionCount('app', 'rid-order', 3);
  for (let i = 0; i < 300; i++) {
    await container.items.create({ id: `d${i}`, tenantId: `t${i % 17}`, v: i % 3 === 0 ? 2 : 1 });
  }
});

afterAll(async () => {
  await emulator.stop();
});

test("orders by _rid exactly as the library's own sort", () => {
  applyServerPatches();
  const { sort } = serverRequire<{
    sort: (c: unknown[], getRid: (d: unknown) => unknown, ...r: unknown[]) => unknown[];
  }>('@zeit/cosmosdb-query/lib/helpers');
  expect(librarySort).toBeDefined();
  expect(sort).not.toBe(librarySort);
  const rids = ['AAAB', 'AAAA', 'b', 'B', 'AAAB', 'Zz+/', 'aa', 'A', '', 'AAAC=='];
  const docs = Array.from({ length: 500 }, (_, i) => ({ n: i, _rid: `${rids[i % rids.length]}${(i * 7919) % 97}` }));
  const getRid = (d: unknown) => (d as { _rid: string })._rid;
  expect(sort(docs, getRid, undefined)).toEqual(librarySort!(docs, getRid, undefined));
  // Not a string: the library's path.
  const mixed = [{ _rid: 2 }, { _rid: 'a' }, { _rid: 1 }];
  expect(sort(mixed, getRid, undefined)).toEqual(librarySort!(mixed, getRid, undefined));
});

test('counts per range, with and without a filter, count what they match', async () => {
  const ranges = (await emulator.cosmos.control.partitions('app', 'rid-order')).ranges;
  expect(ranges).toHaveLength(3);
  let all = 0;
  let v2 = 0;
  for (const range of ranges) {
    // As the runbook's counts send them (activities/cosmos/counts.ts rangeOptions).
    const options = { ...rangeOptions(range), priorityLevel: PriorityLevel.Low };
    const [count] = (await container.items.query<number>('SELECT VALUE COUNT(1) FROM c', options).fetchAll()).resources;
    const [filtered] = (
      await container.items.query<number>('SELECT VALUE COUNT(1) FROM c WHERE c.v = 2', options).fetchAll()
    ).resources;
    all += count!;
    v2 += filtered!;
  }
  expect(all).toBe(300);
  expect(v2).toBe(100);
});

/**
 * `SELECT DISTINCT [VALUE]` and `OFFSET … LIMIT` through @azure/cosmos 4.9 (query-extensions.ts), paged; and query
 * charges that do not depend on the page size. `LOCAL_COSMOS_UNFIXED=queryext,charges` makes these tests fail.
 */
import type { Container, ItemDefinition } from '@azure/cosmos';
import { startTestEmulator, type TestEmulator } from './cosmos-support';

interface Doc extends ItemDefinition {
  id: string;
  pk: string;
  n: number;
  color: string;
  shape: Record<string, number>;
}

let emulator: TestEmulator;
let container: Container;

const COLORS = ['red', 'green', 'blue'];

beforeAll(async () => {
  emulator = await startTestEmulator();
  const { database } = await emulator.client.databases.create({ id: 'q' });
  ({ container } = await database.containers.create({ id: 'docs', partitionKey: '/pk' }));
  for (let n = 0; n < 30; n++) {
    // The same object with its keys in two orders: DISTINCT compares values, not key order.
    const shape = n % 2 === 0 ? { w: n % 4, h: 1 } : { h: 1, w: n % 4 };
    await container.items.create<Doc>({ id: `d${n}`, pk: `k${n % 3}`, n, color: COLORS[n % 3]!, shape });
  }
}, 60_000);

afterAll(async () => {
  await emulator?.stop();
});

async function pages<T>(query: string, maxItemCount: number, parameters: { name: string; value: number }[] = []) {
  const iterator = container.items.query<T>({ query, parameters }, { maxItemCount });
  const all: T[] = [];
  const sizes: number[] = [];
  let charge = 0;
  while (iterator.hasMoreResults()) {
    const page = await iterator.fetchNext();
    all.push(...page.resources);
    sizes.push(page.resources.length);
    charge += page.requestCharge;
  }
  return { all, sizes, charge };
}

test('SELECT DISTINCT VALUE, paged: each value once, in order', async () => {
  const { all, sizes } = await pages<string>('SELECT DISTINCT VALUE c.color FROM c ORDER BY c.color', 2);
  expect(all).toEqual(['blue', 'green', 'red']);
  expect(sizes).toEqual([2, 1]);
  const shapes = await pages<unknown>('SELECT DISTINCT VALUE c.shape FROM c', 100);
  expect(shapes.all).toHaveLength(4); // w 0..3, h 1
  const objects = await pages<unknown>('SELECT DISTINCT c.color FROM c WHERE c.n < 5', 100);
  expect(objects.all).toEqual([{ color: 'red' }, { color: 'green' }, { color: 'blue' }]);
});

test('OFFSET … LIMIT with ORDER BY, literals or parameters, paged', async () => {
  const { all, sizes } = await pages<number>('SELECT VALUE c.n FROM c ORDER BY c.n DESC OFFSET 5 LIMIT 7', 3);
  expect(all).toEqual([24, 23, 22, 21, 20, 19, 18]);
  expect(sizes).toEqual([3, 3, 1]);
  const withParams = await pages<number>('SELECT VALUE c.n FROM c WHERE c.n >= 10 OFFSET @o LIMIT @l', 100, [
    { name: '@o', value: 2 },
    { name: '@l', value: 3 },
  ]);
  expect(withParams.all).toEqual([12, 13, 14]);
  expect((await pages<number>('SELECT VALUE c.n FROM c OFFSET 28 LIMIT 10', 100)).all).toEqual([28, 29]);
});

test('a query costs the same however it is paged', async () => {
  const one = await pages<Doc>('SELECT * FROM c WHERE c.n >= 0', 1000);
  const many = await pages<Doc>('SELECT * FROM c WHERE c.n >= 0', 4);
  expect(many.all).toEqual(one.all);
  expect(many.sizes.length).toBeGreaterThan(5);
  expect(one.charge).toBeGreaterThan(2.5);
  expect(Math.abs(many.charge - one.charge) / one.charge).toBeLessThan(0.01);
});

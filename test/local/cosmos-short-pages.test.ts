/**
 * Short and empty pages with a continuation, as Azure may answer any page of a query or read feed: the fault rule
 * `shortPageProbability` cuts pages paged by the cursor (local/cosmos/scan.ts) to a seeded random share of what they
 * would examine, a quarter of them to nothing. Through @azure/cosmos 4.9 over HTTPS: `fetchNext` hands the short page
 * back with `hasMoreResults()` true, and following the continuation still returns every document once.
 */
import type { Container } from '@azure/cosmos';
import { startTestEmulator, type TestEmulator } from './cosmos-support';

let emulator: TestEmulator;
let container: Container;
const N = 300;
const allIds = Array.from({ length: N }, (_, i) => `d${i}`).sort();

beforeAll(async () => {
  emulator = await startTestEmulator();
  const { database } = await emulator.client.databases.createIfNotExists({ id: 'app' });
  ({ container } = await database.containers.createIfNotExists({
    id: 'pages',
    partitionKey: { paths: ['/tenantId'] },
  }));
  for (let i = 0; i < N; i += 100) {
    const ops = Array.from({ length: 100 }, (_, k) => ({
      operationType: 'Create' as const,
      resourceBody: { id: `d${i + k}`, tenantId: `t${(i + k) % 3}`, n: i + k },
    }));
    await container.items.bulk(ops);
  }
});

afterEach(() => {
  emulator.cosmos.control.setFaults([]);
});

afterAll(async () => {
  await emulator.stop();
});

/** Every page of a query fetched with fetchNext: its size and whether more was announced. */
async function pagesOf(query: string, maxItemCount: number): Promise<{ sizes: number[]; ids: string[] }> {
  const iterator = container.items.query<{ id: string }>(query, { maxItemCount });
  const sizes: number[] = [];
  const ids: string[] = [];
  while (iterator.hasMoreResults()) {
    const page = await iterator.fetchNext();
    sizes.push(page.resources.length);
    ids.push(...page.resources.map((d) => d.id));
  }
  return { sizes, ids };
}

test('pages come back short and empty with a continuation; following it returns every document exactly once', async () => {
  emulator.cosmos.control.setFaults([{ kinds: ['query'], shortPageProbability: 0.9 }], 7);
  const before = emulator.cosmos.control.stats().injected.shortPage;
  const { sizes, ids } = await pagesOf('SELECT * FROM c', 50);
  expect(ids.sort()).toEqual(allIds);
  const cut = emulator.cosmos.control.stats().injected.shortPage - before;
  expect(cut).toBeGreaterThan(0);
  // Short pages before the last, and empty ones, each followed by more.
  expect(sizes.slice(0, -1).some((s) => s > 0 && s < 50)).toBe(true);
  expect(sizes.slice(0, -1).some((s) => s === 0)).toBe(true);
  expect(sizes.length).toBeGreaterThan(N / 50);

  // The same seed gives the same pages.
  emulator.cosmos.control.setFaults([{ kinds: ['query'], shortPageProbability: 0.9 }], 7);
  expect((await pagesOf('SELECT * FROM c', 50)).sizes).toEqual(sizes);
});

test('filters, read feeds and fetchAll follow short pages to the same result as without them', async () => {
  const filtered = "SELECT c.id FROM c WHERE c.tenantId = 't1'";
  const expected = (await container.items.query<{ id: string }>(filtered).fetchAll()).resources.map((d) => d.id).sort();
  expect(expected).toHaveLength(N / 3);
  emulator.cosmos.control.setFaults([{ kinds: ['query'], shortPageProbability: 0.6 }], 11);
  expect((await pagesOf(filtered, 20)).ids.sort()).toEqual(expected);
  const all = await container.items.readAll<{ id: string }>({ maxItemCount: 40 }).fetchAll();
  expect(all.resources.map((d) => d.id).sort()).toEqual(allIds);
  // Without a page size: one page would hold everything; a cut one holds a share, and the rest follows.
  const whole = await container.items.query<{ id: string }>('SELECT * FROM c').fetchAll();
  expect(whole.resources.map((d) => d.id).sort()).toEqual(allIds);
});

test('off by default: without the rule every page is full', async () => {
  const { sizes, ids } = await pagesOf('SELECT * FROM c', 50);
  expect(sizes).toEqual(Array(N / 50).fill(50));
  expect(ids.sort()).toEqual(allIds);
});

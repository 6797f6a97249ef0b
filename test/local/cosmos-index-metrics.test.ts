/**
 * Index metrics and query charges follow the indexing policy (local/cosmos/index-metrics.ts): a filter on an indexed
 * path is "utilized" and charged for what it returns; the same filter once the path is excluded is "potential" and
 * charged per document examined, as a scan on Azure.
 */
import type { Container } from '@azure/cosmos';
import { isIndexed, queryPaths } from '../../local/cosmos/index-metrics';
import { startTestEmulator, type TestEmulator } from './cosmos-support';

jest.setTimeout(60_000);

let emulator: TestEmulator;
let container: Container;
const QUERY = { query: 'SELECT c.id FROM c WHERE c.tenant = @t', parameters: [{ name: '@t', value: 'T1' }] };

async function run(): Promise<{ charge: number; metrics: Record<string, { IndexSpec: string }[]> }> {
  const iterator = container.items.query(QUERY, { populateIndexMetrics: true });
  let charge = 0;
  let metrics = '{}';
  while (iterator.hasMoreResults()) {
    const page = await iterator.fetchNext();
    charge += page.requestCharge;
    if (page.indexMetrics && page.indexMetrics !== '{}') metrics = page.indexMetrics;
  }
  return { charge, metrics: JSON.parse(metrics) as Record<string, { IndexSpec: string }[]> };
}

beforeAll(async () => {
  emulator = await startTestEmulator();
  const { database } = await emulator.client.databases.createIfNotExists({ id: 'idx' });
  ({ container } = await database.containers.createIfNotExists({
    id: 'c',
    partitionKey: { paths: ['/pk'] },
    indexingPolicy: { indexingMode: 'consistent', includedPaths: [{ path: '/*' }], excludedPaths: [] },
  }));
  const docs = Array.from({ length: 400 }, (_, i) => ({
    id: `d${i}`,
    pk: `p${i % 7}`,
    tenant: i % 40 === 0 ? 'T1' : 'T2',
  }));
  for (let i = 0; i < docs.length; i += 100) {
    await container.items.bulk(
      docs.slice(i, i + 100).map((d) => ({ operationType: 'Create' as const, resourceBody: d }))
    );
  }
});

afterAll(async () => emulator?.stop());

test('the policy decides: the most precise path wins, excluded wins a tie, mode none indexes nothing', () => {
  expect(isIndexed(undefined, '/a')).toBe(true);
  expect(isIndexed({ includedPaths: [{ path: '/*' }], excludedPaths: [{ path: '/a/*' }] }, '/a/b')).toBe(false);
  expect(isIndexed({ includedPaths: [{ path: '/a/b/?' }], excludedPaths: [{ path: '/*' }] }, '/a/b')).toBe(true);
  expect(isIndexed({ includedPaths: [{ path: '/a/b/?' }], excludedPaths: [{ path: '/*' }] }, '/a/c')).toBe(false);
  expect(isIndexed({ includedPaths: [{ path: '/*' }], excludedPaths: [{ path: '/"_etag"/?' }] }, '/_etag')).toBe(false);
  expect(isIndexed({ indexingMode: 'none' }, '/a')).toBe(false);
  expect(queryPaths('SELECT * FROM c WHERE c.a.b = 1 AND IS_DEFINED(c["z"]) ORDER BY c.n')).toEqual({
    filtered: ['/a/b', '/z'],
    orderBy: [{ path: '/n', order: 'ASC' }],
  });
});

test('dropping the index turns utilized into potential and raises the charge', async () => {
  const before = await run();
  expect(before.metrics.UtilizedSingleIndexes).toEqual([{ IndexSpec: '/tenant/?', IndexImpactScore: 'High' }]);
  expect(before.metrics.PotentialSingleIndexes).toEqual([]);

  const { resource } = await container.read();
  await container.replace({
    ...resource!,
    indexingPolicy: {
      indexingMode: 'consistent',
      includedPaths: [{ path: '/*' }],
      excludedPaths: [{ path: '/tenant/?' }],
    },
  });
  const after = await run();
  expect(after.metrics.UtilizedSingleIndexes).toEqual([]);
  expect(after.metrics.PotentialSingleIndexes).toEqual([{ IndexSpec: '/tenant/?', IndexImpactScore: 'High' }]);
  // a scan of 400 documents at 0.1 RU each, on top of what the index lookup cost
  expect(after.charge).toBeGreaterThanOrEqual(before.charge + 40 - 0.5);
});

test('without populateIndexMetrics no index-utilization header is sent', async () => {
  const page = await container.items.query(QUERY).fetchNext();
  expect(
    (page as unknown as { headers: Record<string, unknown> }).headers['x-ms-cosmos-index-utilization']
  ).toBeUndefined();
});

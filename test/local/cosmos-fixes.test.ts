/**
 * The fixes the product depends on, through the real @azure/cosmos client over HTTPS. Each test fails on the stock
 * server: run with LOCAL_COSMOS_UNFIXED=replace|query|batch|patch to see it.
 */
import type { Container, CosmosClient, ItemDefinition } from '@azure/cosmos';

/** The fields these tests read back. */
type Doc = ItemDefinition & { _etag?: string; _ts?: number; n?: number; v?: number; count?: number };
import { startTestEmulator, type TestEmulator } from './cosmos-support';

let emulator: TestEmulator;
let client: CosmosClient;

beforeAll(async () => {
  emulator = await startTestEmulator({ ruModel: false });
  client = emulator.client;
  await client.databases.createIfNotExists({ id: 'app' });
});

afterAll(async () => {
  await emulator.stop();
});

async function newContainer(id: string): Promise<Container> {
  const { container } = await client.database('app').containers.create({ id, partitionKey: { paths: ['/tenantId'] } });
  return container;
}

describe('container replace', () => {
  it('keeps every document, with its _etag and _ts, and applies the new indexing policy', async () => {
    const container = await newContainer('replace-keeps-docs');
    const written = [];
    for (let i = 0; i < 50; i++) {
      written.push((await container.items.create({ id: `d${i}`, tenantId: `t${i % 5}`, n: i })).resource!);
    }
    const { resource: before } = await container.read();
    const policy = {
      ...before!.indexingPolicy,
      excludedPaths: [{ path: '/payload/*' }, { path: '/"_etag"/?' }],
      compositeIndexes: [
        [
          { path: '/tenantId', order: 'ascending' as const },
          { path: '/n', order: 'descending' as const },
        ],
      ],
    };
    await container.replace({ id: 'replace-keeps-docs', partitionKey: before!.partitionKey, indexingPolicy: policy });

    const { resource: after } = await container.read();
    expect(after!.indexingPolicy!.excludedPaths).toEqual(expect.arrayContaining([{ path: '/payload/*' }]));
    const { resources } = await container.items.readAll().fetchAll();
    expect(resources).toHaveLength(50);
    const d7 = await container.item('d7', 't2').read<Doc>();
    expect(d7.statusCode).toBe(200);
    expect(d7.resource!._etag).toBe(written[7]!._etag);
    expect(d7.resource!._ts).toBe(written[7]!._ts);
    // The new composite index serves a two-field ORDER BY.
    const { resources: ordered } = await container.items
      .query<Doc>("SELECT * FROM c WHERE c.tenantId = 't1' ORDER BY c.tenantId ASC, c.n DESC")
      .fetchAll();
    expect(ordered.map((d) => d.n)).toEqual([46, 41, 36, 31, 26, 21, 16, 11, 6, 1]);
  });

  it('create, then delete: a re-created container is empty', async () => {
    const container = await newContainer('recreated');
    await container.items.create({ id: 'x', tenantId: 't' });
    await container.delete();
    const again = await newContainer('recreated');
    const { resources } = await again.items.readAll().fetchAll();
    expect(resources).toEqual([]);
  });
});

describe('queries', () => {
  it('a filtered query over 20 000 documents returns exactly the matching rows, in linear time', async () => {
    const container = await newContainer('big');
    const total = 20_000;
    const chunks: Promise<unknown>[] = [];
    for (let start = 0; start < total; start += 100) {
      const ops = Array.from({ length: 100 }, (_, j) => ({
        operationType: 'Create' as const,
        resourceBody: { id: `doc-${start + j}`, tenantId: `t${(start + j) % 50}`, n: start + j, status: 'open' },
      }));
      chunks.push(container.items.bulk(ops));
      if (chunks.length === 8) await Promise.all(chunks.splice(0));
    }
    await Promise.all(chunks);

    const query = {
      query: 'SELECT c.id, c.n FROM c WHERE c.tenantId = @t AND c.n >= @min',
      parameters: [
        { name: '@t', value: 't7' },
        { name: '@min', value: 19_000 },
      ],
    };
    await container.items.query(query).fetchAll(); // warm the compiled-query cache
    const times: number[] = [];
    let resources: { n: number }[] = [];
    for (let run = 0; run < 5; run++) {
      const started = performance.now();
      ({ resources } = await container.items.query<{ n: number }>(query).fetchAll());
      times.push(performance.now() - started);
    }
    const { resources: count } = await container.items.query('SELECT VALUE COUNT(1) FROM c').fetchAll();
    const median = [...times].sort((a, b) => a - b)[2]!;
    console.log(`filtered query over ${total} docs, 5 runs: ${times.map((t) => t.toFixed(1)).join(', ')} ms`);

    const expected = [];
    for (let n = 19_007; n < total; n += 50) expected.push(n);
    expect(resources.map((r) => r.n).sort((a, b) => a - b)).toEqual(expected);
    expect(count).toEqual([total]);
    // Generous sanity bound only: the stock engine needs about 7 s here (O(N²)), the patched one tens of ms.
    expect(median).toBeLessThan(2_000);
  });
});

describe('transactional batch', () => {
  it('runs with the partition key given only as the batch argument', async () => {
    const container = await newContainer('batch');
    await container.items.create({ id: 'existing', tenantId: 'A', v: 1 });
    await container.items.create({ id: 'doomed', tenantId: 'A' });
    const response = await container.items.batch(
      [
        { operationType: 'Create', resourceBody: { id: 'new', tenantId: 'A', v: 1 } },
        { operationType: 'Upsert', resourceBody: { id: 'up', tenantId: 'A', v: 2 } },
        { operationType: 'Replace', id: 'existing', resourceBody: { id: 'existing', tenantId: 'A', v: 3 } },
        { operationType: 'Read', id: 'existing' },
        { operationType: 'Delete', id: 'doomed' },
      ],
      'A'
    );
    expect(response.code).toBe(200);
    expect(response.result!.map((r) => r.statusCode)).toEqual([201, 201, 200, 200, 204]);
    expect((await container.item('existing', 'A').read<Doc>()).resource!.v).toBe(3);
    expect((await container.item('doomed', 'A').read()).statusCode).toBe(404);
  });

  it('is atomic: when one operation fails, nothing is written', async () => {
    const container = await newContainer('batch-atomic');
    const { resource: existing } = await container.items.create({ id: 'a', tenantId: 'A', v: 1 });
    const failing = await container.items.batch(
      [
        { operationType: 'Create', resourceBody: { id: 'n2', tenantId: 'A' } },
        { operationType: 'Upsert', resourceBody: { id: 'a', tenantId: 'A', v: 2 } },
        { operationType: 'Create', resourceBody: { id: 'a', tenantId: 'A' } },
      ],
      'A'
    );
    expect(failing.result!.map((r) => r.statusCode)).toEqual([424, 424, 409]);
    expect((await container.item('n2', 'A').read()).statusCode).toBe(404);
    expect((await container.item('a', 'A').read<Doc>()).resource!._etag).toBe(existing!._etag);

    const stale = await container.items.batch(
      [{ operationType: 'Replace', id: 'a', ifMatch: '"stale"', resourceBody: { id: 'a', tenantId: 'A', v: 9 } }],
      'A'
    );
    expect(stale.result!.map((r) => r.statusCode)).toEqual([412]);
    expect((await container.item('a', 'A').read<Doc>()).resource!.v).toBe(1);
  });
});

describe('conditional patch', () => {
  it('evaluates the predicate with its case, against the target document only', async () => {
    const container = await newContainer('patch');
    await container.items.create({ id: 'p1', tenantId: 'T1', status: 'Active', count: 1 });
    await container.items.create({ id: 'p2', tenantId: 'T1', status: 'Closed', count: 5 });
    const patch = (id: string, condition: string) =>
      container.item(id, 'T1').patch({ condition, operations: [{ op: 'incr', path: '/count', value: 1 }] });

    expect((await patch('p1', "FROM c WHERE c.status = 'Active'")).statusCode).toBe(200);
    expect((await patch('p1', "from c where c.tenantId = 'T1'")).statusCode).toBe(200);
    await expect(patch('p1', "FROM c WHERE c.status = 'Closed'")).rejects.toMatchObject({ code: 412 });
    // p2 has count 5, p1 does not: the predicate must not match through another document.
    await expect(patch('p1', 'FROM c WHERE c.count = 5')).rejects.toMatchObject({ code: 412 });
    expect((await container.item('p1', 'T1').read<Doc>()).resource!.count).toBe(3);
  });
});

/**
 * Physical partitions through the ARM imitation, with the real @azure/arm-cosmosdb and @azure/cosmos clients: a
 * container created with 40 000 RU/s has 4 partition key ranges; raising its throughput splits it in the background
 * (the SDK keeps counting right across the split); a restore at T comes back with T's throughput, its ranges and
 * every document, each in exactly one range.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CosmosDBManagementClient, RestorableDatabaseAccountGetResult } from '@azure/arm-cosmosdb';
import type { Container } from '@azure/cosmos';
import { startTestStack, type TestStack } from '../support/stack';

const DB = 'arm-parts';
const POLL = { updateIntervalInMs: 20 };
const PK = { paths: ['/pk'], kind: 'Hash' as const, version: 2 };
const RANGE = 'x-ms-documentdb-partitionkeyrangeid';

let stack: TestStack;
let arm: CosmosDBManagementClient;
let rg: string;
let account: string;

beforeAll(async () => {
  stack = await startTestStack({ armOptions: { operationDelayMs: 50 } });
  arm = stack.armClient();
  ({ resourceGroup: rg, account } = stack.settings);
  await arm.sqlResources.beginCreateUpdateSqlDatabaseAndWait(rg, account, DB, { resource: { id: DB } }, POLL);
});

afterAll(async () => {
  await stack?.close();
});

const docs = Array.from({ length: 300 }, (_, n) => ({ id: `d${n}`, pk: `p${n % 40}`, n }));

async function createContainer(id: string, throughput: number): Promise<Container> {
  await arm.sqlResources.beginCreateUpdateSqlContainerAndWait(
    rg,
    account,
    DB,
    id,
    { resource: { id, partitionKey: PK }, options: { throughput } },
    POLL
  );
  const container = stack.cosmosClient().database(DB).container(id);
  for (let i = 0; i < docs.length; i += 100) {
    const results = await container.items.executeBulkOperations(
      docs.slice(i, i + 100).map((d) => ({ operationType: 'Create' as const, partitionKey: d.pk, resourceBody: d }))
    );
    expect(results.filter((r) => !(r.response && r.response.statusCode < 300))).toEqual([]);
  }
  return container;
}

async function rangeIds(container: Container): Promise<string[]> {
  const { resources } = await container.readPartitionKeyRanges().fetchAll();
  return resources.map((r) => String(r.id));
}

async function count(container: Container, rangeId?: string): Promise<number> {
  const options = rangeId === undefined ? {} : { initialHeaders: { [RANGE]: rangeId } };
  const { resources } = await container.items.query<number>('SELECT VALUE COUNT(1) FROM c', options).fetchAll();
  return resources[0]!;
}

/** Ids read range by range: each document exactly once. */
async function idsByRange(container: Container): Promise<string[]> {
  const ids: string[] = [];
  for (const id of await rangeIds(container)) {
    const { resources } = await container.items
      .query<{ id: string }>('SELECT c.id FROM c', { initialHeaders: { [RANGE]: id } })
      .fetchAll();
    ids.push(...resources.map((d) => d.id));
  }
  return ids.sort();
}

test('a container created through ARM with 40 000 RU/s has 4 ranges', async () => {
  const container = await createContainer('forty', 40_000);
  expect(await rangeIds(container)).toEqual(['0', '1', '2', '3']);
  expect(await count(container)).toBe(docs.length);
  expect(await idsByRange(container)).toEqual(docs.map((d) => d.id).sort());
});

test('raising the throughput through ARM past P × 10 000 RU/s splits the container in the background', async () => {
  const container = await createContainer('grows', 10_000);
  expect(await rangeIds(container)).toEqual(['0']);
  expect(await count(container)).toBe(docs.length); // the client caches the one-range routing map

  await arm.sqlResources.beginUpdateSqlContainerThroughputAndWait(
    rg,
    account,
    DB,
    'grows',
    { resource: { throughput: 30_000 } },
    POLL
  );
  let ids = await rangeIds(container);
  for (let i = 0; i < 200 && ids.length < 3; i++) {
    await sleep(50);
    ids = await rangeIds(container);
  }
  expect(ids).toHaveLength(3);
  expect(ids).not.toContain('0');
  // A cross-partition query reads the ranges afresh when it starts (routing/smartRoutingMapProvider.js).
  expect(await count(stack.cosmosClient().database(DB).container('grows'))).toBe(docs.length);
  expect(await count(container)).toBe(docs.length);
  let sum = 0;
  for (const id of ids) sum += await count(container, id);
  expect(sum).toBe(docs.length);
  expect(await idsByRange(container)).toEqual(docs.map((d) => d.id).sort());
});

test('a restore at T comes back with the throughput of T, its ranges and every document', async () => {
  const container = await createContainer('restored', 40_000);
  const T = new Date();
  await sleep(20);
  await arm.sqlResources.beginDeleteSqlContainerAndWait(rg, account, DB, 'restored', POLL);
  const restorable = (await arm.restorableDatabaseAccounts.listByLocation('West US').next()).value as
    RestorableDatabaseAccountGetResult | undefined;
  await arm.sqlResources.beginCreateUpdateSqlContainerAndWait(
    rg,
    account,
    DB,
    'restored',
    {
      resource: {
        id: 'restored',
        createMode: 'Restore',
        restoreParameters: { restoreSource: restorable?.id ?? '', restoreTimestampInUtc: T },
      },
      options: {},
    },
    POLL
  );
  expect(await rangeIds(container)).toHaveLength(4);
  expect(await count(container)).toBe(docs.length);
  expect(await idsByRange(container)).toEqual(docs.map((d) => d.id).sort());
});

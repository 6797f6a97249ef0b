/**
 * SQL containers through the ARM imitation, with the real @azure/arm-cosmosdb client: long-running create, update
 * and delete that really act on the emulator (checked with @azure/cosmos), throughput, and backup information.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CosmosDBManagementClient, SqlContainerCreateUpdateParameters } from '@azure/arm-cosmosdb';
import { createHttpHeaders, createPipelineRequest, type RestError } from '@azure/core-rest-pipeline';
import { startTestStack, type TestStack } from '../support/stack';

const DB = 'containers-db';
const POLL = { updateIntervalInMs: 20 };

let stack: TestStack;
let arm: CosmosDBManagementClient;
let rg: string;
let account: string;

beforeAll(async () => {
  stack = await startTestStack({ armOptions: { operationDelayMs: 300 } });
  arm = stack.armClient();
  ({ resourceGroup: rg, account } = stack.settings);
  await arm.sqlResources.beginCreateUpdateSqlDatabaseAndWait(rg, account, DB, { resource: { id: DB } }, POLL);
});

// A test that failed while it had lengthened the operations leaves the next ones at the file's delay.
afterEach(() => stack.arm.control.setOperationDelay(300));

afterAll(async () => {
  await stack?.close();
});

function rejection(promise: Promise<unknown>): Promise<RestError> {
  return promise.then(
    () => {
      throw new Error('expected the request to be refused');
    },
    (err: unknown) => err as RestError
  );
}

function containerParameters(id: string, extra: Partial<SqlContainerCreateUpdateParameters['resource']> = {}) {
  return {
    resource: { id, partitionKey: { paths: ['/pk'], kind: 'Hash' as const }, ...extra },
    options: {},
  } satisfies SqlContainerCreateUpdateParameters;
}

async function emulatorContainerExists(id: string): Promise<boolean> {
  try {
    await stack.cosmosClient().database(DB).container(id).read();
    return true;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return false;
    throw err;
  }
}

describe('long-running container operations', () => {
  test('create is accepted at once and creates the container only when the operation succeeds', async () => {
    // Long enough that the SDK's first poll (inside begin*) cannot outrun it on a loaded machine: at 300 ms it did once.
    stack.arm.control.setOperationDelay(3000);
    const poller = await arm.sqlResources.beginCreateUpdateSqlContainer(
      rg,
      account,
      DB,
      'orders',
      {
        resource: {
          id: 'orders',
          partitionKey: { paths: ['/customerId'], kind: 'Hash' },
          indexingPolicy: { indexingMode: 'consistent', includedPaths: [{ path: '/*' }], excludedPaths: [] },
        },
        options: { throughput: 400 },
      },
      POLL
    );
    // Accepted, not done: the emulator does not have the container until the operation succeeds.
    expect(poller.isDone()).toBe(false);
    expect(await emulatorContainerExists('orders')).toBe(false);
    stack.arm.control.setOperationDelay(300);

    const result = await poller.pollUntilDone();
    expect(result.resource?.id).toBe('orders');
    expect(result.resource?.partitionKey?.paths).toEqual(['/customerId']);
    expect(result.resource?.rid).toEqual(expect.any(String));
    expect(result.options?.throughput).toBe(400);

    const { resource } = await stack.cosmosClient().database(DB).container('orders').read();
    expect(resource?.partitionKey?.paths).toEqual(['/customerId']);

    const listed = [];
    for await (const container of arm.sqlResources.listSqlContainers(rg, account, DB)) listed.push(container.name);
    expect(listed).toContain('orders');
  });

  test('the status URL goes Enqueued, Dequeued, Succeeded; the Location URL answers 202, then the container', async () => {
    // The raw protocol, still through the SDK's pipeline (auth, TLS): the headers a 202 carries and both poll URLs.
    stack.arm.control.setOperationDelay(600);
    try {
      const send = async (url: string, method: 'GET' | 'PUT', body?: unknown) => {
        const response = await arm.sendRequest(
          createPipelineRequest({
            url,
            method,
            body: body === undefined ? undefined : JSON.stringify(body),
            headers: createHttpHeaders({ 'content-type': 'application/json' }),
          })
        );
        const json = JSON.parse(response.bodyAsText || 'null') as {
          status?: string;
          properties?: { resource?: unknown };
        } | null;
        return { status: response.status, headers: response.headers, json };
      };
      const { subscriptionId } = stack.settings;
      const url = `${stack.arm.endpoint}/subscriptions/${subscriptionId}/resourceGroups/${rg}/providers/Microsoft.DocumentDB/databaseAccounts/${account}/sqlDatabases/${DB}/containers/states?api-version=2025-10-15`;
      const accepted = await send(url, 'PUT', { properties: { resource: containerParameters('states').resource } });
      expect(accepted.status).toBe(202);
      expect(accepted.json).toEqual({ status: 'Enqueued' });
      const statusUrl = accepted.headers.get('azure-asyncoperation') ?? '';
      const resultUrl = accepted.headers.get('location') ?? '';
      expect(statusUrl).toMatch(
        new RegExp(
          `/subscriptions/${subscriptionId}/providers/Microsoft.DocumentDB/locations/westus/operationsStatus/[0-9a-f-]+\\?api-version=2025-10-15$`
        )
      );
      expect(resultUrl).toContain(`/sqlDatabases/${DB}/containers/states/operationResults/`);

      expect((await send(resultUrl, 'GET')).status).toBe(202);
      const statuses: string[] = [];
      for (let polls = 0; polls < 100 && statuses[statuses.length - 1] !== 'Succeeded'; polls++) {
        const { json } = await send(statusUrl, 'GET');
        const status = json?.status ?? '(none)';
        if (statuses[statuses.length - 1] !== status) statuses.push(status);
        await sleep(40);
      }
      expect(statuses).toEqual(['Enqueued', 'Dequeued', 'Succeeded']);

      const result = await send(resultUrl, 'GET');
      expect(result.status).toBe(200);
      expect(result.json?.properties?.resource).toMatchObject({ id: 'states', partitionKey: { paths: ['/pk'] } });
      expect(await emulatorContainerExists('states')).toBe(true);
    } finally {
      stack.arm.control.setOperationDelay(300);
    }
  });

  test('an indexing-policy update keeps every document', async () => {
    const cosmos = stack.cosmosClient().database(DB).container('orders');
    const documents = Array.from({ length: 20 }, (_, i) => ({ id: `o${i}`, customerId: `c${i % 3}`, total: i * 10 }));
    for (const doc of documents) await cosmos.items.create(doc);

    const policy = {
      indexingMode: 'consistent' as const,
      includedPaths: [{ path: '/*' }],
      excludedPaths: [{ path: '/total/?' }, { path: '/"_etag"/?' }],
    };
    const updated = await arm.sqlResources.beginCreateUpdateSqlContainerAndWait(
      rg,
      account,
      DB,
      'orders',
      {
        resource: { id: 'orders', partitionKey: { paths: ['/customerId'], kind: 'Hash' }, indexingPolicy: policy },
        options: {},
      },
      POLL
    );
    expect(updated.resource?.indexingPolicy?.excludedPaths).toEqual(expect.arrayContaining([{ path: '/total/?' }]));

    const { resource } = await cosmos.read();
    expect(resource?.indexingPolicy?.excludedPaths).toEqual(expect.arrayContaining([{ path: '/total/?' }]));
    const { resources } = await cosmos.items
      .query<{ id: string }>('SELECT c.id, c.customerId, c.total FROM c')
      .fetchAll();
    expect(resources.sort((a, b) => Number(a.id.slice(1)) - Number(b.id.slice(1)))).toEqual(documents);
    // Dedicated throughput set at creation survives a definition update.
    expect((await arm.sqlResources.getSqlContainer(rg, account, DB, 'orders')).options?.throughput).toBe(400);
  });

  test('a partition key change is refused at once with a clear 400', async () => {
    const err = await rejection(
      arm.sqlResources.beginCreateUpdateSqlContainer(rg, account, DB, 'orders', {
        resource: { id: 'orders', partitionKey: { paths: ['/region'], kind: 'Hash' } },
        options: {},
      })
    );
    expect(err.statusCode).toBe(400);
    expect(err.message).toContain("partition key of container 'orders'");
    expect(err.message).toContain('cannot be changed');
  });

  test('resource.id must match the URL', async () => {
    const err = await rejection(
      arm.sqlResources.beginCreateUpdateSqlContainer(rg, account, DB, 'left', containerParameters('right'))
    );
    expect(err.statusCode).toBe(400);
    expect(err.message).toContain("resource.id 'right' does not match the container name 'left'");
  });

  test('an operation that fails ends Failed and the SDK surfaces its error', async () => {
    const poller = await arm.sqlResources.beginCreateUpdateSqlContainer(
      rg,
      account,
      DB,
      'raced',
      containerParameters('raced'),
      POLL
    );
    // Someone creates the container through the data plane while the ARM operation is still queued.
    await stack
      .cosmosClient()
      .database(DB)
      .containers.create({ id: 'raced', partitionKey: { paths: ['/other'] } });
    await expect(poller.pollUntilDone()).rejects.toThrow(
      /The long-running operation has failed\. BadRequest\. The partition key of container 'raced'/
    );
    const { resource } = await stack.cosmosClient().database(DB).container('raced').read();
    expect(resource?.partitionKey?.paths).toEqual(['/other']);
  });

  test('a second change while one runs is refused with 409', async () => {
    const first = await arm.sqlResources.beginCreateUpdateSqlContainer(
      rg,
      account,
      DB,
      'busy',
      containerParameters('busy'),
      POLL
    );
    const err = await rejection(
      arm.sqlResources.beginCreateUpdateSqlContainer(rg, account, DB, 'busy', containerParameters('busy'))
    );
    expect(err.statusCode).toBe(409);
    expect(err.message).toContain('in progress');
    await first.pollUntilDone();
  });

  test('delete is long-running and really removes the container', async () => {
    await arm.sqlResources.beginCreateUpdateSqlContainerAndWait(
      rg,
      account,
      DB,
      'doomed',
      containerParameters('doomed'),
      POLL
    );
    expect(await emulatorContainerExists('doomed')).toBe(true);

    stack.arm.control.setOperationDelay(3000); // as for create: the first poll must not outrun the operation
    const poller = await arm.sqlResources.beginDeleteSqlContainer(rg, account, DB, 'doomed', POLL);
    expect(await emulatorContainerExists('doomed')).toBe(true);
    stack.arm.control.setOperationDelay(300);
    await poller.pollUntilDone();
    expect(await emulatorContainerExists('doomed')).toBe(false);

    const err = await rejection(arm.sqlResources.getSqlContainer(rg, account, DB, 'doomed'));
    expect(err.statusCode).toBe(404);
    const again = await rejection(arm.sqlResources.beginDeleteSqlContainer(rg, account, DB, 'doomed', POLL));
    expect(again.statusCode).toBe(404);
  });
});

describe('throughput', () => {
  test('GET and PUT throughputSettings/default, handed to the emulator', async () => {
    const before = await arm.sqlResources.getSqlContainerThroughput(rg, account, DB, 'orders');
    expect(before.resource?.throughput).toBe(400);

    const updated = await arm.sqlResources.beginUpdateSqlContainerThroughputAndWait(
      rg,
      account,
      DB,
      'orders',
      { resource: { throughput: 1200 } },
      POLL
    );
    expect(updated.resource?.throughput).toBe(1200);
    expect((await arm.sqlResources.getSqlContainer(rg, account, DB, 'orders')).options?.throughput).toBe(1200);

    const err = await rejection(
      arm.sqlResources.beginUpdateSqlContainerThroughput(rg, account, DB, 'orders', { resource: { throughput: 150 } })
    );
    expect(err.statusCode).toBe(400);
    expect(err.message).toContain('at least 400');
  });

  test('the RU model enforces the throughput set through ARM', async () => {
    stack.cosmos.control.setRuModel(true);
    try {
      // The same burst of writes: absorbed by the emulator's default RU/s, throttled at the 400 RU/s set through ARM.
      const burst = async (id: string) => {
        const container = stack.cosmosClient().database(DB).container(id);
        const throttledBefore = stack.cosmos.control.stats().throttled;
        // ~200 RU per write (5 RU per KB): ten at once are 2000 RU, far above 400 RU/s, far below the default 10000.
        const payload = 'x'.repeat(40_000);
        await Promise.allSettled(
          Array.from({ length: 10 }, (_, i) => container.items.create({ id: `m${i}`, pk: 'p', payload }))
        );
        return stack.cosmos.control.stats().throttled - throttledBefore;
      };
      await arm.sqlResources.beginCreateUpdateSqlContainerAndWait(
        rg,
        account,
        DB,
        'unmetered',
        containerParameters('unmetered'),
        POLL
      );
      expect(await burst('unmetered')).toBe(0);

      await arm.sqlResources.beginCreateUpdateSqlContainerAndWait(
        rg,
        account,
        DB,
        'metered',
        { ...containerParameters('metered'), options: { throughput: 400 } },
        POLL
      );
      expect(await burst('metered')).toBeGreaterThan(0);
    } finally {
      stack.cosmos.control.setRuModel(false);
    }
  });
});

describe('continuous backup information', () => {
  afterEach(() => {
    stack.arm.control.setBackupPolicy({ type: 'Continuous' });
    stack.arm.control.setBackupLag(0);
  });

  test('latestRestorableTimestamp is now, minus the configured lag', async () => {
    const before = Date.now();
    const info = await arm.sqlResources.beginRetrieveContinuousBackupInformationAndWait(
      rg,
      account,
      DB,
      'orders',
      { location: 'West US' },
      POLL
    );
    const latest = new Date(info.continuousBackupInformation?.latestRestorableTimestamp ?? '').getTime();
    expect(latest).toBeGreaterThanOrEqual(before);
    expect(latest).toBeLessThanOrEqual(Date.now());

    stack.arm.control.setBackupLag(60_000);
    const lagged = await arm.sqlResources.beginRetrieveContinuousBackupInformationAndWait(
      rg,
      account,
      DB,
      'orders',
      { location: 'westus' },
      POLL
    );
    const laggedAt = new Date(lagged.continuousBackupInformation?.latestRestorableTimestamp ?? '').getTime();
    expect(Date.now() - laggedAt).toBeGreaterThanOrEqual(60_000);
    expect(Date.now() - laggedAt).toBeLessThan(70_000);
  });

  test('is refused on a periodic account', async () => {
    stack.arm.control.setBackupPolicy({ type: 'Periodic' });
    const err = await rejection(
      arm.sqlResources.beginRetrieveContinuousBackupInformationAndWait(
        rg,
        account,
        DB,
        'orders',
        { location: 'West US' },
        POLL
      )
    );
    expect(err.statusCode).toBe(400);
    expect(err.message).toContain('periodic backup');
  });
});

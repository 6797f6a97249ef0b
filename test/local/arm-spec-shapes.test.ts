/**
 * The ARM imitation's answers, checked against the Azure REST API specification for Microsoft.DocumentDB
 * (azure-rest-api-specs, stable/2024-11-15, the examples of each operation the product calls): every property the
 * product reads is where the example has it, with the example's JSON type, in the raw body (read before the SDK's
 * deserializer, which fills in defaults such as a container's `createMode: "Default"` in
 * node_modules/@azure/arm-cosmosdb/dist/commonjs/models/mappers.js). And what the specification's examples do not
 * return is not returned: no `createMode` on a container, no container listed while its restore runs.
 *
 * The examples are at https://github.com/Azure/azure-rest-api-specs/tree/main/specification/cosmos-db/resource-manager/Microsoft.DocumentDB/stable/2024-11-15/examples
 * (file names below); only the fragments the product reads are restated here, with the example's values.
 */
import type { CosmosDBManagementClient } from '@azure/arm-cosmosdb';
import type { FullOperationResponse } from '@azure/core-client';
import { startTestStack, type TestStack } from '../support/stack';

const DB = 'spec-db';
const POLL = { updateIntervalInMs: 20 };

let stack: TestStack;
let arm: CosmosDBManagementClient;
let rg: string;
let account: string;

beforeAll(async () => {
  stack = await startTestStack();
  stack.arm.control.setBackupPolicy({ type: 'Continuous', tier: 'Continuous7Days' });
  arm = stack.armClient();
  ({ resourceGroup: rg, account } = stack.settings);
  await arm.sqlResources.beginCreateUpdateSqlDatabaseAndWait(rg, account, DB, { resource: { id: DB } }, POLL);
  await arm.sqlResources.beginCreateUpdateSqlContainerAndWait(
    rg,
    account,
    DB,
    'orders',
    {
      resource: { id: 'orders', partitionKey: { paths: ['/pk'], kind: 'Hash' }, defaultTtl: 100 },
      options: { throughput: 400 },
    },
    POLL
  );
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every leaf of `example` as a path (arrays by their first element) and its JSON type. */
function shape(example: Json, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (value: Json, path: string) => {
    if (Array.isArray(value)) {
      out.set(path, 'array');
      if (value.length > 0) visit(value[0]!, `${path}[0]`);
    } else if (value !== null && typeof value === 'object') {
      out.set(path || '.', 'object');
      for (const [key, inner] of Object.entries(value)) visit(inner, path ? `${path}.${key}` : key);
    } else {
      out.set(path, value === null ? 'null' : typeof value);
    }
  };
  visit(example, prefix);
  return out;
}

/** The paths of `example` that `body` lacks or holds with another JSON type. */
function differences(body: Json, example: Json): string[] {
  const actual = shape(body);
  return [...shape(example)].filter(([path, type]) => actual.get(path) !== type).map(([p, t]) => `${p}: ${t}`);
}

/** The raw JSON bodies of the calls `call` makes (the SDK's onResponse, before deserialization). */
async function rawBodies(call: (options: { onResponse: (r: FullOperationResponse) => void }) => Promise<unknown>) {
  const bodies: Json[] = [];
  await call({
    onResponse: (r) => {
      if (r.bodyAsText) bodies.push(JSON.parse(r.bodyAsText) as Json);
    },
  });
  return bodies;
}

async function drain<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

test('account GET (CosmosDBDatabaseAccountGet.json): provisioningState of the account and of each location, endpoints, instanceId, backup policy', async () => {
  const [body] = await rawBodies((o) => arm.databaseAccounts.get(rg, account, o));
  const location = {
    id: 'ddb1-eastus',
    locationName: 'East US',
    documentEndpoint: 'https://ddb1-eastus.documents.azure.com:443/',
    provisioningState: 'Succeeded',
    failoverPriority: 0,
  };
  expect(
    differences(body!, {
      id: '/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.DocumentDB/databaseAccounts/ddb1',
      name: 'ddb1',
      location: 'West US',
      type: 'Microsoft.DocumentDB/databaseAccounts',
      properties: {
        provisioningState: 'Succeeded',
        documentEndpoint: 'https://ddb1.documents.azure.com:443/',
        consistencyPolicy: { defaultConsistencyLevel: 'Session' },
        writeLocations: [location],
        readLocations: [location],
        locations: [location],
        instanceId: 'd9b26648-2f53-4541-b3d8-3044f4f9810d',
        backupPolicy: { type: 'Periodic' },
      },
    })
  ).toEqual([]);
});

test('container GET and list (CosmosDBSqlContainerGet.json, CosmosDBSqlContainerList.json): the resource with its system properties, and no createMode', async () => {
  const resource = {
    id: 'testctn',
    indexingPolicy: { indexingMode: 'consistent', automatic: true, includedPaths: [{ path: '/*' }], excludedPaths: [] },
    partitionKey: { paths: ['/AccountNumber'], kind: 'Hash' },
    defaultTtl: 100,
    _rid: 'PD5DALigDgw=',
    _ts: 1459200611,
    _etag: '"00005900-0000-0000-0000-56f9a2630000"',
  };
  const container = {
    id: '/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.DocumentDB/databaseAccounts/ddb1/sqlDatabases/databaseName/containers/containerName',
    name: 'containerName',
    type: 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/sqlContainers',
    properties: { resource },
  };
  const [got] = await rawBodies((o) => arm.sqlResources.getSqlContainer(rg, account, DB, 'orders', o));
  expect(differences(got!, container)).toEqual([]);
  const listed = await rawBodies((o) => drain(arm.sqlResources.listSqlContainers(rg, account, DB, o)));
  expect(differences(listed[0]!, { value: [container] })).toEqual([]);
  for (const body of [got!, ...(listed[0] as { value: Json[] }).value]) {
    expect(shape(body).has('properties.resource.createMode')).toBe(false);
  }
});

test('throughput GET (CosmosDBSqlContainerThroughputGet.json): throughput a number, minimumThroughput a string', async () => {
  const [body] = await rawBodies((o) => arm.sqlResources.getSqlContainerThroughput(rg, account, DB, 'orders', o));
  expect(
    differences(body!, {
      name: 'default',
      type: 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/sqlContainers/throughputSettings',
      properties: { resource: { throughput: 400, minimumThroughput: '400' } },
    })
  ).toEqual([]);
});

test('restorable accounts, SQL databases, containers and resources (CosmosDBRestorable*List.json), and continuous-backup information (CosmosDBSqlContainerBackupInformation.json)', async () => {
  const properties = await arm.databaseAccounts.get(rg, account);
  const location = properties.writeLocations![0]!.locationName!;
  const accounts = await rawBodies((o) => drain(arm.restorableDatabaseAccounts.listByLocation(location, o)));
  expect(
    differences(accounts[0]!, {
      value: [
        {
          id: '/subscriptions/subid/providers/Microsoft.DocumentDB/locations/West US/restorableDatabaseAccounts/d9b26648-2f53-4541-b3d8-3044f4f9810d',
          name: 'd9b26648-2f53-4541-b3d8-3044f4f9810d',
          location: 'West US',
          type: 'Microsoft.DocumentDB/locations/restorableDatabaseAccounts',
          properties: {
            accountName: 'ddb1',
            creationTime: '2020-04-11T21:56:15Z',
            oldestRestorableTime: '2021-03-12T22:05:09Z',
            apiType: 'Sql',
            restorableLocations: [
              {
                locationName: 'West US',
                regionalDatabaseAccountInstanceId: 'fdb43d84-1572-4697-b6e7-2bcda0c51b2c',
                creationTime: '2020-10-30T21:13:10Z',
              },
            ],
          },
        },
      ],
    })
  ).toEqual([]);
  const instanceId = properties.instanceId!;
  const databases = await rawBodies((o) => drain(arm.restorableSqlDatabases.list(location, instanceId, o)));
  expect(
    differences(databases[0]!, {
      value: [
        {
          name: '59c21367-b98b-4a8e-abb7-b6f46600decc',
          type: 'Microsoft.DocumentDB/locations/restorableDatabaseAccounts/restorableSqlDatabases',
          properties: {
            resource: {
              _rid: 'DLB14gAAAA==',
              eventTimestamp: '2020-09-02T19:45:03Z',
              ownerId: 'Database1',
              ownerResourceId: '3fu-hg==',
              operationType: 'Create',
              database: { id: 'Database1', _rid: '3fu-hg==' },
            },
          },
        },
      ],
    })
  ).toEqual([]);
  const databaseRid = (await drain(arm.restorableSqlDatabases.list(location, instanceId))).find(
    (d) => d.resource?.ownerId === DB
  )?.resource?.ownerResourceId;
  expect(databaseRid).toEqual(expect.any(String));
  const containers = await rawBodies((o) =>
    drain(arm.restorableSqlContainers.list(location, instanceId, { ...o, restorableSqlDatabaseRid: databaseRid }))
  );
  expect(
    differences(containers[0]!, {
      value: [
        {
          name: '79609a98-3394-41f8-911f-cfab0c075c86',
          type: 'Microsoft.DocumentDB/locations/restorableDatabaseAccounts/restorableSqlContainers',
          properties: {
            resource: {
              _rid: 'zAyAPQAAAA==',
              eventTimestamp: '2020-10-13T04:56:42Z',
              ownerId: 'Container1',
              ownerResourceId: 'V18LoLrv-qA=',
              operationType: 'Create',
              container: { id: 'Container1', _rid: 'V18LoLrv-qA=' },
            },
          },
        },
      ],
    })
  ).toEqual([]);
  const resources = await rawBodies((o) =>
    drain(
      arm.restorableSqlResources.list(location, instanceId, {
        ...o,
        restoreLocation: location,
        restoreTimestampInUtc: new Date().toISOString(),
      })
    )
  );
  expect(
    differences(resources[0]!, {
      value: [
        {
          name: 'Database1',
          type: 'Microsoft.DocumentDB/locations/restorableDatabaseAccounts/restorablesqlresources',
          databaseName: 'Database1',
          collectionNames: ['Container1'],
        },
      ],
    })
  ).toEqual([]);
  const info = await rawBodies((o) =>
    arm.sqlResources.beginRetrieveContinuousBackupInformationAndWait(
      rg,
      account,
      DB,
      'orders',
      { location },
      { ...o, ...POLL }
    )
  );
  expect(
    info.some(
      (body) =>
        differences(body, { continuousBackupInformation: { latestRestorableTimestamp: '2021-02-05T02:40:50Z' } })
          .length === 0
    )
  ).toBe(true);
});

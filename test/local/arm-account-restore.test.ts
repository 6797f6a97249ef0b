/**
 * Restore into a new account (Microsoft.DocumentDB REST API) through the ARM imitation, with the real @azure/arm-cosmosdb client:
 * `databaseAccounts.beginCreateOrUpdate` with createMode Restore answers 200 `Creating` and the poller (core-lro
 * 2.7.2 `inferLroMode`: an azure-asyncoperation header means OperationLocation mode whatever the status, then a
 * final GET of the PUT's URL) waits until the account is `Succeeded`; the new account has its own data-plane
 * endpoint (from `documentEndpoint`) and keys (`listKeys`), holding the chosen containers as they were at T while
 * the source container, still live, has moved on. Deleting it removes its endpoint. Azure's refusals are clear.
 */
import { CosmosClient } from '@azure/cosmos';
import type { CosmosDBManagementClient, DatabaseAccountCreateUpdateParameters } from '@azure/arm-cosmosdb';
import type { RestError } from '@azure/core-rest-pipeline';
import { createCosmosClient } from '../../activities/clients';
import { startTestStack, type TestStack } from '../support/stack';

const DB = 'drills';
const POLL = { updateIntervalInMs: 20 };

let stack: TestStack;
let arm: CosmosDBManagementClient;
let rg: string;
let account: string;
let restoreSource: string;
let t: Date;

function restoreParameters(at: Date, databasesToRestore?: { databaseName: string; collectionNames: string[] }[]) {
  return {
    location: 'West US',
    locations: [{ locationName: 'West US', failoverPriority: 0 }],
    createMode: 'Restore',
    restoreParameters: {
      restoreMode: 'PointInTime',
      restoreSource,
      restoreTimestampInUtc: at,
      ...(databasesToRestore ? { databasesToRestore } : {}),
    },
  } as DatabaseAccountCreateUpdateParameters;
}

function rejection(promise: Promise<unknown>): Promise<RestError> {
  return promise.then(
    () => {
      throw new Error('expected the request to be refused');
    },
    (err: unknown) => err as RestError
  );
}

beforeAll(async () => {
  stack = await startTestStack({ armOptions: { operationDelayMs: 200 } });
  arm = stack.armClient();
  ({ resourceGroup: rg, account } = stack.settings);
  const cosmos = stack.cosmosClient();
  const { database } = await cosmos.databases.createIfNotExists({ id: DB });
  const { container } = await database.containers.createIfNotExists({ id: 'orders', partitionKey: '/pk' });
  await database.containers.createIfNotExists({ id: 'other', partitionKey: '/pk' });
  for (let i = 0; i < 30; i++) await container.items.create({ id: `o${i}`, pk: `p${i % 3}`, n: i });
  const own = await arm.databaseAccounts.get(rg, account);
  const restorable = await arm.restorableDatabaseAccounts.getByLocation('West US', own.instanceId!);
  restoreSource = restorable.id!;
  // T, then the live container moves on: one changed, one deleted, one created.
  await new Promise((resolve) => setTimeout(resolve, 20));
  t = new Date();
  await new Promise((resolve) => setTimeout(resolve, 20));
  await container.item('o1', 'p1').replace({ id: 'o1', pk: 'p1', n: -1 });
  await container.item('o2', 'p2').delete();
  await container.items.create({ id: 'late', pk: 'p0', n: 100 });
});

afterAll(async () => {
  await stack?.close();
});

test('a live container restored into a new account: its own endpoint and keys, the data as at T, then deleted', async () => {
  const name = `${account}-drill-a`;
  const poller = await arm.databaseAccounts.beginCreateOrUpdate(
    rg,
    name,
    restoreParameters(t, [{ databaseName: DB, collectionNames: ['orders'] }]),
    POLL
  );
  expect(poller.getOperationState().status).toBe('running');
  expect((await arm.databaseAccounts.get(rg, name)).provisioningState).toBe('Creating');
  const created = await poller.pollUntilDone();
  expect(created.provisioningState).toBe('Succeeded');
  expect(created.createMode).toBe('Restore');
  expect(created.restoreParameters?.restoreSource).toBe(restoreSource);

  const own = await arm.databaseAccounts.get(rg, account);
  expect(created.documentEndpoint).not.toBe(own.documentEndpoint);
  const keys = await arm.databaseAccounts.listKeys(rg, name);
  const copy: CosmosClient = createCosmosClient({
    ...stack.settings,
    cosmosEndpoint: created.documentEndpoint!,
    cosmosKey: keys.primaryMasterKey!,
  });
  try {
    const database = copy.database(DB);
    const { resources } = await database.container('orders').items.readAll().fetchAll();
    expect(resources.map((d) => d.id).sort()).toEqual(Array.from({ length: 30 }, (_, i) => `o${i}`).sort());
    expect(resources.find((d) => d.id === 'o1')?.n).toBe(1);
    // Only the named container was restored.
    const { resources: containers } = await database.containers.readAll().fetchAll();
    expect(containers.map((c) => c.id)).toEqual(['orders']);
  } finally {
    copy.dispose();
  }
  // The account's databases are not served by the imitation: a clear 404, not the source's.
  const notServed = await rejection(arm.sqlResources.getSqlDatabase(rg, name, DB));
  expect(notServed.statusCode).toBe(404);
  expect(notServed.message).toMatch(/data plane of restored account/);

  await arm.databaseAccounts.beginDeleteAndWait(rg, name, POLL);
  expect((await rejection(arm.databaseAccounts.get(rg, name))).statusCode).toBe(404);
  // Its endpoint is gone with it.
  await expect(fetch(created.documentEndpoint!)).rejects.toThrow();
});

test('an empty databasesToRestore restores every database alive at T', async () => {
  const name = `${account}-drill-all`;
  const created = await arm.databaseAccounts.beginCreateOrUpdateAndWait(rg, name, restoreParameters(t), POLL);
  expect(created.restoreParameters?.databasesToRestore).toEqual(
    expect.arrayContaining([{ databaseName: DB, collectionNames: ['orders', 'other'] }])
  );
  await arm.databaseAccounts.beginDeleteAndWait(rg, name, POLL);
});

test("Azure's refusals: an existing name, a bad name, a time outside the window, a container that did not exist, the own account's delete", async () => {
  const existing = await rejection(arm.databaseAccounts.beginCreateOrUpdate(rg, account, restoreParameters(t), POLL));
  expect(existing.statusCode).toBe(409);
  const badName = await rejection(arm.databaseAccounts.beginCreateOrUpdate(rg, 'Bad_Name', restoreParameters(t), POLL));
  expect(badName.statusCode).toBe(400);
  expect(badName.message).toMatch(/3 to 44 characters/);
  const future = await rejection(
    arm.databaseAccounts.beginCreateOrUpdate(
      rg,
      `${account}-drill-f`,
      restoreParameters(new Date(Date.now() + 3600_000)),
      POLL
    )
  );
  expect(future.message).toMatch(/outside the restore window/);
  const missing = await rejection(
    arm.databaseAccounts.beginCreateOrUpdate(
      rg,
      `${account}-drill-m`,
      restoreParameters(t, [{ databaseName: DB, collectionNames: ['nope'] }]),
      POLL
    )
  );
  expect(missing.message).toMatch(/container 'nope' of database 'drills' did not exist at/);
  const notRestore = await rejection(
    arm.databaseAccounts.beginCreateOrUpdate(
      rg,
      `${account}-drill-n`,
      { location: 'West US', locations: [{ locationName: 'West US' }] } as DatabaseAccountCreateUpdateParameters,
      POLL
    )
  );
  expect(notRestore.message).toMatch(/only by restore/);
  const ownDelete = await rejection(arm.databaseAccounts.beginDelete(rg, account, POLL));
  expect(ownDelete.statusCode).toBe(400);
  expect(stack.arm.control.restoredAccounts()).toEqual([]);
});

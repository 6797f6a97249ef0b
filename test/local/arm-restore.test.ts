/**
 * In-account point-in-time restore through the ARM imitation, with the real @azure/arm-cosmosdb client: the restored
 * container holds exactly the data of the chosen time; Azure's refusals (live container, time outside the window,
 * periodic account, unknown source) are clear; the restorable feeds show real event times.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  CosmosDBManagementClient,
  RestorableDatabaseAccountGetResult,
  RestorableSqlContainerGetResult,
} from '@azure/arm-cosmosdb';
import type { RestError } from '@azure/core-rest-pipeline';
import { startTestStack, type TestStack } from '../support/stack';

const DB = 'shop';
const POLL = { updateIntervalInMs: 20 };
const PK = { paths: ['/pk'], kind: 'Hash' as const };

let stack: TestStack;
let arm: CosmosDBManagementClient;
let rg: string;
let account: string;
let restoreSource: string;
let instanceId: string;

beforeAll(async () => {
  stack = await startTestStack({ armOptions: { operationDelayMs: 200 } });
  arm = stack.armClient();
  ({ resourceGroup: rg, account } = stack.settings);
  await arm.sqlResources.beginCreateUpdateSqlDatabaseAndWait(rg, account, DB, { resource: { id: DB } }, POLL);
  const first = (await arm.restorableDatabaseAccounts.listByLocation('West US').next()).value as
    RestorableDatabaseAccountGetResult | undefined;
  restoreSource = first?.id ?? '';
  instanceId = first?.name ?? '';
});

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

/** Document bodies without the system properties a restore may renew, sorted by id. */
function comparable(documents: Record<string, unknown>[]): Record<string, unknown>[] {
  const system = new Set(['_rid', '_etag', '_ts', '_self', '_attachments']);
  return documents
    .map((doc) => Object.fromEntries(Object.entries(doc).filter(([key]) => !system.has(key))))
    .sort((a, b) => String(a.id).localeCompare(String(b.id)));
}

async function allDocuments(container: string): Promise<Record<string, unknown>[]> {
  const { resources } = await stack.cosmosClient().database(DB).container(container).items.readAll().fetchAll();
  return resources;
}

async function createContainer(id: string): Promise<void> {
  await arm.sqlResources.beginCreateUpdateSqlContainerAndWait(
    rg,
    account,
    DB,
    id,
    { resource: { id, partitionKey: PK, defaultTtl: -1 }, options: { throughput: 500 } },
    POLL
  );
}

async function deleteContainer(id: string): Promise<void> {
  await arm.sqlResources.beginDeleteSqlContainerAndWait(rg, account, DB, id, POLL);
}

function restore(id: string, at: Date, source = restoreSource, restoreWithTtlDisabled?: boolean) {
  return arm.sqlResources.beginCreateUpdateSqlContainerAndWait(
    rg,
    account,
    DB,
    id,
    {
      resource: {
        id,
        createMode: 'Restore',
        restoreParameters: { restoreSource: source, restoreTimestampInUtc: at, restoreWithTtlDisabled },
      },
      options: {},
    },
    POLL
  );
}

async function containerEvents(): Promise<RestorableSqlContainerGetResult[]> {
  const events = [];
  for await (const event of arm.restorableSqlContainers.list('westus', instanceId)) events.push(event);
  return events;
}

test('restore at T brings back exactly the data of T', async () => {
  await createContainer('orders');
  const items = stack.cosmosClient().database(DB).container('orders').items;
  for (let i = 0; i < 12; i++) {
    await items.create({ id: `o${i}`, pk: `p${i % 3}`, status: 'new', lines: [{ sku: `s${i}`, qty: i }] });
  }
  const atT = comparable(await allDocuments('orders'));
  await sleep(30);
  const T = new Date();
  await sleep(30);

  // After T: delete some, create new ones, change some, then lose the container.
  for (const i of [0, 1, 2]) await items.container.item(`o${i}`, `p${i % 3}`).delete();
  for (const i of [100, 101]) await items.create({ id: `o${i}`, pk: 'p0', status: 'late' });
  for (const i of [5, 6]) {
    await items.upsert({ id: `o${i}`, pk: `p${i % 3}`, status: 'migrated', schemaVersion: 2 });
  }
  expect(comparable(await allDocuments('orders'))).not.toEqual(atT);
  await deleteContainer('orders');

  const restored = await restore('orders', T);
  expect(restored.resource?.id).toBe('orders');
  expect(restored.resource?.partitionKey?.paths).toEqual(['/pk']);
  expect(restored.resource?.restoreParameters).toMatchObject({
    restoreSource,
    restoreTimestampInUtc: T,
    instanceId: expect.stringMatching(/^[0-9a-f-]{36}$/),
  });

  const back = comparable(await allDocuments('orders'));
  expect(back).toEqual(atT);
  expect(back.map((doc) => doc.id)).toEqual(expect.arrayContaining(['o0', 'o1', 'o2']));
  expect(back.map((doc) => doc.id)).not.toContain('o100');
  expect(back.find((doc) => doc.id === 'o5')).toMatchObject({ status: 'new', lines: [{ sku: 's5', qty: 5 }] });

  // The GET shows the restore, and the throughput the container had at T.
  expect(restored.resource?.defaultTtl).toBe(-1);
  const got = await arm.sqlResources.getSqlContainer(rg, account, DB, 'orders');
  // instanceId is not in the SDK's model; real responses carry it and the SDK passes it through.
  const instanceOf = (parameters: unknown) => (parameters as { instanceId?: string } | undefined)?.instanceId;
  expect(instanceOf(got.resource?.restoreParameters)).toBe(instanceOf(restored.resource?.restoreParameters));
  expect(got.options?.throughput).toBe(500);
});

test('a restore is refused while the container exists', async () => {
  await createContainer('live');
  await sleep(20);
  const err = await rejection(restore('live', new Date(Date.now() - 10)));
  expect(err.statusCode).toBe(409);
  const body = JSON.parse(err.message) as { code: string; message: string };
  expect(body.code).toBe('Conflict');
  expect(body.message).toContain('Only deleted resources can be restored within same account.');
});

test('a restore outside the restore window, or before the container existed, is refused', async () => {
  await createContainer('window');
  await sleep(20);
  const existed = new Date();
  await sleep(20);
  await deleteContainer('window');

  const future = await rejection(restore('window', new Date(Date.now() + 60_000)));
  expect(future.statusCode).toBe(400);
  expect(future.message).toContain('outside the restore window');

  const beforeAccount = await rejection(restore('window', new Date(Date.now() - 3600_000)));
  expect(beforeAccount.statusCode).toBe(400);
  expect(beforeAccount.message).toContain('outside the restore window');

  // A lag on backups moves the latest restorable time back: T is then too recent.
  stack.arm.control.setBackupLag(3600_000);
  try {
    const tooRecent = await rejection(restore('window', existed));
    expect(tooRecent.statusCode).toBe(400);
    expect(tooRecent.message).toContain('outside the restore window');
  } finally {
    stack.arm.control.setBackupLag(0);
  }

  const notYet = await rejection(restore('never-there', existed));
  expect(notYet.statusCode).toBe(400);
  expect(notYet.message).toContain("container 'never-there' in database 'shop': it did not exist at");

  // Inside the window it works, with the bare instance id as the source too.
  const restored = await restore('window', existed, instanceId);
  expect(restored.resource?.restoreParameters?.restoreSource).toBe(instanceId);
});

test('a restore on a periodic account or from an unknown source is refused', async () => {
  await createContainer('refused');
  await sleep(20);
  const existed = new Date();
  await sleep(20);
  await deleteContainer('refused');

  const unknown = await rejection(
    restore('refused', existed, restoreSource.replace(instanceId, '11111111-2222-4333-8444-555555555555'))
  );
  expect(unknown.statusCode).toBe(400);
  expect(unknown.message).toContain('is not a restorable database account');

  stack.arm.control.setBackupPolicy({ type: 'Periodic' });
  try {
    const periodic = await rejection(restore('refused', existed));
    expect(periodic.statusCode).toBe(400);
    expect(periodic.message).toContain('periodic backup');
  } finally {
    stack.arm.control.setBackupPolicy({ type: 'Continuous' });
  }
});

test('restorable containers list Create and Delete events at their real times', async () => {
  const beforeCreate = new Date();
  await createContainer('audited');
  const afterCreate = new Date();
  await deleteContainer('audited');
  const afterDelete = new Date();

  const events = (await containerEvents()).filter((event) => event.resource?.ownerId === 'audited');
  expect(events.map((event) => event.resource?.operationType)).toEqual(['Create', 'Delete']);
  const [created, deleted] = events.map((event) => new Date(event.resource?.eventTimestamp ?? '').getTime());
  // Event times have second precision (as Azure's).
  const second = (at: Date) => Math.floor(at.getTime() / 1000) * 1000;
  expect(created).toBeGreaterThanOrEqual(second(beforeCreate));
  expect(created).toBeLessThanOrEqual(afterCreate.getTime());
  expect(deleted).toBeGreaterThanOrEqual(second(afterCreate));
  expect(deleted).toBeLessThanOrEqual(afterDelete.getTime());
  expect(events[0]?.resource?.container?.partitionKey?.paths).toEqual(['/pk']);

  // The database feed has the shop's Create; its ownerResourceId filters the container feed.
  const databases = [];
  for await (const event of arm.restorableSqlDatabases.list('westus', instanceId)) databases.push(event);
  const shop = databases.find((event) => event.resource?.ownerId === DB);
  expect(shop?.resource?.operationType).toBe('Create');
  const filtered = [];
  for await (const event of arm.restorableSqlContainers.list('westus', instanceId, {
    restorableSqlDatabaseRid: shop?.resource?.ownerResourceId,
  })) {
    filtered.push(event.resource?.ownerId);
  }
  expect(filtered).toContain('audited');

  // What existed when: the container at its creation, not after its deletion.
  const resourcesAt = async (at: Date) => {
    const found = [];
    for await (const entry of arm.restorableSqlResources.list('westus', instanceId, {
      restoreLocation: 'westus',
      restoreTimestampInUtc: at.toISOString(),
    })) {
      found.push(entry);
    }
    return found.find((entry) => entry.databaseName === DB)?.collectionNames ?? [];
  };
  expect(await resourcesAt(afterCreate)).toContain('audited');
  expect(await resourcesAt(afterDelete)).not.toContain('audited');
});

test('restoreWithTtlDisabled restores the container without its TTL', async () => {
  await createContainer('expiring');
  await stack.cosmosClient().database(DB).container('expiring').items.create({ id: 'e1', pk: 'p' });
  await sleep(20);
  const existed = new Date();
  await sleep(20);
  await deleteContainer('expiring');

  const restored = await restore('expiring', existed, restoreSource, true);
  expect(restored.resource?.defaultTtl).toBeUndefined();
  expect(restored.resource?.restoreParameters?.restoreWithTtlDisabled).toBe(true);
  const { resource } = await stack.cosmosClient().database(DB).container('expiring').read();
  expect(resource?.defaultTtl).toBeUndefined();
  expect((await allDocuments('expiring')).map((doc) => doc.id)).toEqual(['e1']);
});

test('a deleted database takes its containers with it; after recreating it, a container can be restored', async () => {
  await arm.sqlResources.beginCreateUpdateSqlDatabaseAndWait(
    rg,
    account,
    'scratch',
    { resource: { id: 'scratch' } },
    POLL
  );
  await arm.sqlResources.beginCreateUpdateSqlContainerAndWait(
    rg,
    account,
    'scratch',
    'notes',
    { resource: { id: 'notes', partitionKey: PK }, options: {} },
    POLL
  );
  await stack.cosmosClient().database('scratch').container('notes').items.create({ id: 'n1', pk: 'p', text: 'keep' });
  await sleep(20);
  const existed = new Date();
  await sleep(20);
  await arm.sqlResources.beginDeleteSqlDatabaseAndWait(rg, account, 'scratch', POLL);
  const afterDelete = new Date();

  const resourcesAt = async (at: Date) => {
    const found: Record<string, string[]> = {};
    for await (const entry of arm.restorableSqlResources.list('westus', instanceId, {
      restoreTimestampInUtc: at.toISOString(),
    })) {
      found[entry.databaseName ?? ''] = entry.collectionNames ?? [];
    }
    return found;
  };
  expect((await resourcesAt(existed)).scratch).toEqual(['notes']);
  expect((await resourcesAt(afterDelete)).scratch).toBeUndefined();

  // The parent must exist for an in-account container restore.
  const noParent = await rejection(
    arm.sqlResources.beginCreateUpdateSqlContainerAndWait(rg, account, 'scratch', 'notes', {
      resource: {
        id: 'notes',
        createMode: 'Restore',
        restoreParameters: { restoreSource, restoreTimestampInUtc: existed },
      },
    })
  );
  expect(noParent.statusCode).toBe(404);

  await arm.sqlResources.beginCreateUpdateSqlDatabaseAndWait(
    rg,
    account,
    'scratch',
    { resource: { id: 'scratch' } },
    POLL
  );
  expect((await resourcesAt(new Date())).scratch).toEqual([]);
  await arm.sqlResources.beginCreateUpdateSqlContainerAndWait(
    rg,
    account,
    'scratch',
    'notes',
    {
      resource: {
        id: 'notes',
        createMode: 'Restore',
        restoreParameters: { restoreSource, restoreTimestampInUtc: existed },
      },
      options: {},
    },
    POLL
  );
  const { resources } = await stack.cosmosClient().database('scratch').container('notes').items.readAll().fetchAll();
  expect(comparable(resources)).toEqual([{ id: 'n1', pk: 'p', text: 'keep' }]);
});

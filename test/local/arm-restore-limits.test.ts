/**
 * What Azure refuses or does to an in-account restore beyond the happy path, through the ARM imitation with the real
 * @azure/arm-cosmosdb client: containers on shared database throughput are not restorable on their own; the account
 * runs at most three restores at once (and lists those in progress); a restore can fail after the delete; an identity
 * without the restore permission gets 403 on restorable reads and on the restore.
 */
import fs from 'node:fs';
import https from 'node:https';
import type { CosmosDBManagementClient, RestorableDatabaseAccountGetResult } from '@azure/arm-cosmosdb';
import type { RestError } from '@azure/core-rest-pipeline';
import { startTestStack, type TestStack } from '../support/stack';

const POLL = { updateIntervalInMs: 20 };
const PK = { paths: ['/pk'], kind: 'Hash' as const };

let stack: TestStack;
let arm: CosmosDBManagementClient;
let rg: string;
let account: string;
let restoreSource: string;

beforeAll(async () => {
  stack = await startTestStack({ armOptions: { operationDelayMs: 100 } });
  arm = stack.armClient();
  ({ resourceGroup: rg, account } = stack.settings);
  const first = (await arm.restorableDatabaseAccounts.listByLocation('West US').next()).value as
    RestorableDatabaseAccountGetResult | undefined;
  restoreSource = first?.id ?? '';
});

afterAll(async () => {
  await stack?.close();
});

afterEach(() => {
  stack.arm.control.setRestoreDuration(undefined);
  stack.arm.control.setRestoreMsPerDocument(0.004);
  stack.arm.control.setRestoreFailure(undefined);
  stack.arm.control.setRestorePermission(true);
});

function rejection(promise: Promise<unknown>): Promise<RestError> {
  return promise.then(
    () => {
      throw new Error('expected the request to be refused');
    },
    (err: unknown) => err as RestError
  );
}

async function createDatabase(id: string, throughput?: number): Promise<void> {
  await arm.sqlResources.beginCreateUpdateSqlDatabaseAndWait(
    rg,
    account,
    id,
    { resource: { id }, options: throughput ? { throughput } : {} },
    POLL
  );
}

async function createContainer(db: string, id: string, throughput?: number): Promise<void> {
  await arm.sqlResources.beginCreateUpdateSqlContainerAndWait(
    rg,
    account,
    db,
    id,
    { resource: { id, partitionKey: PK }, options: throughput ? { throughput } : {} },
    POLL
  );
}

/** A container with one document, deleted; returns a time at which it existed. */
async function deletedContainer(db: string, id: string, throughput = 400): Promise<Date> {
  await createContainer(db, id, throughput);
  await stack.cosmosClient().database(db).container(id).items.create({ id: 'd1', pk: 'p' });
  const existed = await afterServerClock();
  await arm.sqlResources.beginDeleteSqlContainerAndWait(rg, account, db, id, POLL);
  return existed;
}

/** A time strictly after everything written so far (the backup log's times are ms, strictly increasing). */
async function afterServerClock(): Promise<Date> {
  const at = new Date();
  while (Date.now() <= at.getTime() + 1) await new Promise((resolve) => setImmediate(resolve));
  return at;
}

function restore(db: string, id: string, at: Date) {
  return arm.sqlResources.beginCreateUpdateSqlContainer(
    rg,
    account,
    db,
    id,
    {
      resource: { id, createMode: 'Restore', restoreParameters: { restoreSource, restoreTimestampInUtc: at } },
      options: {},
    },
    POLL
  );
}

async function exists(db: string, id: string): Promise<boolean> {
  try {
    await arm.sqlResources.getSqlContainer(rg, account, db, id);
    return true;
  } catch (err) {
    if ((err as RestError).statusCode === 404) return false;
    throw err;
  }
}

test('shared database throughput: read through ARM, and its containers are not restorable on their own', async () => {
  await createDatabase('shared', 400);
  await createDatabase('dedicated');
  const shared = await arm.sqlResources.getSqlDatabaseThroughput(rg, account, 'shared');
  expect(shared.resource?.throughput).toBe(400);
  const none = await rejection(arm.sqlResources.getSqlDatabaseThroughput(rg, account, 'dedicated'));
  expect(none.statusCode).toBe(404);

  // "members" shares the database's throughput (no throughput of its own); "own" has dedicated throughput.
  await createContainer('shared', 'members');
  const noOwn = await rejection(arm.sqlResources.getSqlContainerThroughput(rg, account, 'shared', 'members'));
  expect(noOwn.statusCode).toBe(404);
  const sharedAt = await deletedContainer('shared', 'members', 0);
  const ownAt = await deletedContainer('shared', 'own', 500);

  const refused = await rejection(restore('shared', 'members', sharedAt));
  expect(refused.statusCode).toBe(400);
  expect(JSON.parse(refused.message)).toEqual({
    code: 'BadRequest',
    message: expect.stringContaining("it uses the shared throughput of database 'shared'"),
  });
  expect(await exists('shared', 'members')).toBe(false);

  const restored = await (await restore('shared', 'own', ownAt)).pollUntilDone();
  expect(restored.options?.throughput).toBe(500);
});

test('at most three restores run at once; those in progress are not listed (as on Azure); the fourth is refused', async () => {
  await createDatabase('busy');
  const times: Date[] = [];
  for (const id of ['r1', 'r2', 'r3', 'r4']) times.push(await deletedContainer('busy', id));
  // Long enough that the three are still running when the fourth is asked for.
  stack.arm.control.setRestoreDuration(4000);
  const pollers = await Promise.all(['r1', 'r2', 'r3'].map((id, i) => restore('busy', id, times[i]!)));
  expect(pollers.map((p) => p.isDone())).toEqual([false, false, false]);
  expect(stack.arm.control.restoresInProgress().sort()).toEqual(['busy/r1', 'busy/r2', 'busy/r3']);

  const fourth = await rejection(restore('busy', 'r4', times[3]!));
  expect(fourth.statusCode).toBe(409);
  const body = JSON.parse(fourth.message) as { code: string; message: string };
  expect(body.code).toBe('Conflict');
  expect(body.message).toContain('already has 3 restore operations in progress');
  expect(body.message).toContain('at most 3 can run at once');

  // Neither the list nor a GET shows the restores in progress (Azure lists none and never echoes createMode: the REST
  // specification's CosmosDBSqlContainerList.json): the containers do not exist until their restore succeeds.
  const listed = [];
  for await (const container of arm.sqlResources.listSqlContainers(rg, account, 'busy')) listed.push(container);
  expect(listed.map((c) => c.name)).toEqual([]);
  expect(await exists('busy', 'r1')).toBe(false);

  await Promise.all(pollers.map((p) => p.pollUntilDone()));
  expect(stack.arm.control.restoresInProgress()).toEqual([]);
  stack.arm.control.setRestoreDuration(undefined);
  await (await restore('busy', 'r4', times[3]!)).pollUntilDone();
  expect(await exists('busy', 'r4')).toBe(true);
});

test('a restore can fail after the container was deleted, and a later restore still succeeds', async () => {
  await createDatabase('flaky');
  const existed = await deletedContainer('flaky', 'orders');
  stack.arm.control.setRestoreFailure({ times: 1, code: 'RestoreFailed', message: 'Backup store unavailable.' });
  const failed = await rejection((await restore('flaky', 'orders', existed)).pollUntilDone());
  expect(failed.message).toBe('The long-running operation has failed. RestoreFailed. Backup store unavailable.');
  expect(await exists('flaky', 'orders')).toBe(false);

  await (await restore('flaky', 'orders', existed)).pollUntilDone();
  const { resources } = await stack.cosmosClient().database('flaky').container('orders').items.readAll().fetchAll();
  expect(resources.map((doc) => doc.id)).toEqual(['d1']);
});

test('a restore takes longer the more documents it brings back (msPerDocument, also over HTTPS)', async () => {
  await createDatabase('sized');
  await createContainer('sized', 'big', 10000);
  const items = stack.cosmosClient().database('sized').container('big').items;
  const operations = Array.from({ length: 300 }, (_, i) => ({
    operationType: 'Create' as const,
    resourceBody: { id: `d${i}`, pk: `p${i % 7}` },
  }));
  for (let i = 0; i < operations.length; i += 100) await items.bulk(operations.slice(i, i + 100));
  const existed = await afterServerClock();
  await arm.sqlResources.beginDeleteSqlContainerAndWait(rg, account, 'sized', 'big', POLL);

  // 300 documents at 5 ms each: 1.5 s on top of the 100 ms of every operation here.
  expect((await control('PUT', { msPerDocument: 5 })).body).toMatchObject({ msPerDocument: 5 });
  const started = Date.now();
  await (await restore('sized', 'big', existed)).pollUntilDone();
  expect(Date.now() - started).toBeGreaterThanOrEqual(1600);
  const { resources } = await stack.cosmosClient().database('sized').container('big').items.readAll().fetchAll();
  expect(resources).toHaveLength(300);
});

test('without the restore permission, restorable reads and restores are refused with 403', async () => {
  await createDatabase('locked');
  const existed = await deletedContainer('locked', 'orders');
  stack.arm.control.setRestorePermission(false);

  const list = await rejection(arm.restorableDatabaseAccounts.listByLocation('West US').next());
  expect(list.statusCode).toBe(403);
  expect(list.code).toBe('AuthorizationFailed');
  expect(list.message).toContain("'Microsoft.DocumentDB/locations/restorableDatabaseAccounts/read'");
  const instanceId = restoreSource.split('/').pop() ?? '';
  const events = await rejection(arm.restorableSqlContainers.list('westus', instanceId).next());
  expect(events.statusCode).toBe(403);

  const refused = await rejection(restore('locked', 'orders', existed));
  expect(refused.statusCode).toBe(403);
  expect(refused.code).toBe('LinkedAuthorizationFailed');
  // Other reads are not affected.
  expect((await arm.databaseAccounts.get(rg, account)).name).toBe(account);

  stack.arm.control.setRestorePermission(true);
  await (await restore('locked', 'orders', existed)).pollUntilDone();
  expect(await exists('locked', 'orders')).toBe(true);
});

/** A request to the imitation's control endpoint, as a script outside the process would make it. */
function control(
  method: 'GET' | 'PUT',
  body?: unknown,
  token = stack.settings.armToken
): Promise<{ status: number; body: unknown }> {
  const url = new URL('/_local/restores', stack.arm.endpoint);
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method,
        ca: fs.readFileSync(stack.settings.caCertPath!),
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) })
        );
      }
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

test('the restore switches over HTTPS: /_local/restores, behind the bearer token', async () => {
  expect(await control('GET')).toEqual({
    status: 200,
    body: {
      durationMs: null,
      effectiveDurationMs: 100,
      msPerDocument: 0.004,
      maxConcurrent: 3,
      permission: true,
      failure: null,
      inProgress: [],
      restoredAccounts: [],
    },
  });
  const set = await control('PUT', { durationMs: 50, permission: false, failure: { times: 2, code: 'Boom' } });
  expect(set.body).toMatchObject({ durationMs: 50, permission: false, failure: { times: 2, code: 'Boom' } });
  const denied = await rejection(arm.restorableDatabaseAccounts.listByLocation('West US').next());
  expect(denied.statusCode).toBe(403);
  expect((await control('PUT', { permission: true, failure: null, durationMs: null })).body).toMatchObject({
    durationMs: null,
    permission: true,
    failure: null,
  });

  expect(await control('PUT', { maxConcurrent: 0 })).toMatchObject({
    status: 400,
    body: { error: { code: 'BadRequest', message: expect.stringContaining('maxConcurrent') } },
  });
  expect(await control('GET', undefined, 'wrong-token')).toMatchObject({
    status: 401,
    body: { error: { code: 'AuthenticationFailed' } },
  });
});

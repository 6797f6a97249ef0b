/**
 * Session consistency (local/cosmos/session-consistency.ts), through @azure/cosmos 4.9 over HTTPS: a client that
 * wrote reads its own writes (the SDK sends the token it kept, ClientContext.js `applySessionToken`, but only when the
 * client is configured with `consistencyLevel: 'Session'`); another client, with no token, is served by a replica
 * that lags: documents created within the lag absent, deleted ones present, replaced ones in their older version,
 * on point reads, queries, counts and read feeds. Writes go to the primary: 409 and 412 on current data.
 */
import https from 'node:https';
import { CosmosClient, type Container, type ItemDefinition } from '@azure/cosmos';
import { startTestEmulator, type TestEmulator } from './cosmos-support';
import { SESSION_LAG_ENV } from '../../local/cosmos/session-consistency';
import { startLocalCosmos } from '../../local/cosmos';
import { createAccountCosmosClient, createCosmosClient, type AzureSettings } from '../../activities/clients';

let emulator: TestEmulator;
const clients: CosmosClient[] = [];

beforeAll(async () => {
  emulator = await startTestEmulator({ sessionLagMs: 0 });
});

afterEach(() => {
  emulator.cosmos.control.setSessionLag(0);
});

afterAll(async () => {
  clients.forEach((c) => c.dispose());
  await emulator.stop();
});

/** A client of its own (its own session tokens); `Session` unless told otherwise, as activities/clients.ts does. */
function newClient(consistencyLevel: 'Session' | 'SDK default' = 'Session'): CosmosClient {
  const client = new CosmosClient({
    endpoint: emulator.cosmos.endpoint,
    key: emulator.cosmos.key,
    agent: new https.Agent({ keepAlive: true, ca: emulator.certificate.cert }),
    connectionPolicy: { enableEndpointDiscovery: true },
    ...(consistencyLevel === 'Session' ? { consistencyLevel } : {}),
  });
  clients.push(client);
  return client;
}

let containerCount = 0;
async function newContainer(client: CosmosClient): Promise<Container> {
  const { database } = await client.databases.createIfNotExists({ id: 'app' });
  const { container } = await database.containers.createIfNotExists({
    id: `session${++containerCount}`,
    partitionKey: { paths: ['/tenantId'] },
  });
  return container;
}

const doc = (id: string, v: number) => ({ id, tenantId: 't1', v });
/** What a client sees: every document as stored (system fields included), by id. */
async function seen(container: Container): Promise<Record<string, ItemDefinition>> {
  const { resources } = await container.items.query<ItemDefinition>('SELECT * FROM c').fetchAll();
  return Object.fromEntries(resources.map((d) => [String(d.id), d]));
}
async function pointRead(container: Container, id: string): Promise<ItemDefinition | undefined> {
  const { resource, statusCode } = await container.item(id, 't1').read<ItemDefinition>();
  return statusCode === 404 ? undefined : resource;
}
async function count(container: Container): Promise<number> {
  const { resources } = await container.items.query<number>('SELECT VALUE COUNT(1) FROM c').fetchAll();
  return resources[0]!;
}
async function readFeed(container: Container): Promise<Record<string, ItemDefinition>> {
  const { resources } = await container.items.readAll().fetchAll();
  return Object.fromEntries(resources.map((d) => [String(d.id), d]));
}

/** A container with `kept` (replaced later) and `gone` (deleted later) written before the lag is switched on. */
async function seeded() {
  const writer = newClient();
  const container = await newContainer(writer);
  const kept = (await container.items.create(doc('kept', 1))).resource!;
  const gone = (await container.items.create(doc('gone', 1))).resource!;
  return { writer, container, kept, gone };
}

test('a client without the session token reads a lagging replica; the writing client reads its own writes', async () => {
  const { container, kept, gone } = await seeded();
  // A lag far longer than the test: every read by another client within it is stale, whatever the machine's load.
  emulator.cosmos.control.setSessionLag(600_000);
  const replaced = (await container.item('kept', 't1').replace(doc('kept', 2))).resource!;
  await container.item('gone', 't1').delete();
  const created = (await container.items.create(doc('new', 1))).resource!;

  const other = newClient().database('app').container(container.id);
  expect(await pointRead(other, 'kept')).toEqual(kept);
  expect(await pointRead(other, 'gone')).toEqual(gone);
  expect(await pointRead(other, 'new')).toBeUndefined();
  expect(await seen(other)).toEqual({ kept, gone });
  expect(await readFeed(other)).toEqual({ kept, gone });
  expect(await count(other)).toBe(2);

  expect(await pointRead(container, 'kept')).toEqual(replaced);
  expect(await pointRead(container, 'gone')).toBeUndefined();
  expect(await pointRead(container, 'new')).toEqual(created);
  expect(await seen(container)).toEqual({ kept: replaced, new: created });
  expect(await readFeed(container)).toEqual({ kept: replaced, new: created });
  expect(await count(container)).toBe(2);
});

test('a client left at the SDK default (no consistencyLevel) never sends its token: it does not read its own writes', async () => {
  const { container: seededContainer, kept } = await seeded();
  emulator.cosmos.control.setSessionLag(600_000);
  const plain = newClient('SDK default').database('app').container(seededContainer.id);
  const { headers } = await plain.item('kept', 't1').replace(doc('kept', 2));
  expect(headers['x-ms-session-token']).toMatch(/^\d+:-1#\d+$/);
  expect(await pointRead(plain, 'kept')).toEqual(kept);
});

test('a worker client (activities/clients.ts createAccountCosmosClient) asks for Session on a Session account and reads its own writes', async () => {
  const { container: seededContainer, kept } = await seeded();
  emulator.cosmos.control.setSessionLag(600_000);
  const settings: AzureSettings = {
    cosmosEndpoint: emulator.cosmos.endpoint,
    cosmosKey: emulator.cosmos.key,
    caCertPath: emulator.certificate.certPath,
    subscriptionId: 'sub',
    resourceGroup: 'rg',
    account: 'local',
  };
  const worker = await createAccountCosmosClient(settings);
  const plain = createCosmosClient(settings);
  clients.push(worker, plain);
  const mine = worker.database('app').container(seededContainer.id);
  const replaced = (await mine.item('kept', 't1').replace(doc('kept', 2))).resource!;
  const created = (await mine.items.create(doc('new', 1))).resource!;
  expect(await pointRead(mine, 'kept')).toEqual(replaced);
  expect(await seen(mine)).toEqual({ kept: replaced, gone: (await pointRead(mine, 'gone'))!, new: created });
  expect(await count(mine)).toBe(3);
  // The same options without Session (the product's client before): its own write is not visible to it.
  const before = plain.database('app').container(seededContainer.id);
  await before.item('gone', 't1').replace(doc('gone', 2));
  expect((await pointRead(before, 'gone'))?.v).toBe(1);
  expect(kept.v).toBe(1);
});

test('writes go to the primary: a stale ETag is refused with 412 and a create of a hidden document with 409', async () => {
  const { container, kept } = await seeded();
  emulator.cosmos.control.setSessionLag(600_000);
  await container.item('kept', 't1').replace(doc('kept', 2));
  await container.items.create(doc('new', 1));
  const other = newClient().database('app').container(container.id);
  const stale = (await pointRead(other, 'kept'))!;
  expect(stale).toEqual(kept);
  await expect(
    other.item('kept', 't1').replace(doc('kept', 3), { accessCondition: { type: 'IfMatch', condition: stale._etag } })
  ).rejects.toMatchObject({ code: 412 });
  await expect(other.items.create(doc('new', 2))).rejects.toMatchObject({ code: 409 });
  // Its own failed writes gave it the primary's token: it now sees the current state.
  expect((await pointRead(other, 'new'))?.v).toBe(1);
});

test('a session token is a consistent prefix: a read with the token of a write sees it and everything before, nothing after', async () => {
  const { container, kept, gone } = await seeded();
  emulator.cosmos.control.setSessionLag(600_000);
  const first = await container.item('kept', 't1').replace(doc('kept', 2));
  const token = first.headers['x-ms-session-token'];
  await container.item('gone', 't1').replace(doc('gone', 2));
  const other = newClient().database('app').container(container.id);
  const { resources } = await other.items
    .query<ItemDefinition>('SELECT * FROM c', { sessionToken: String(token) })
    .fetchAll();
  expect(Object.fromEntries(resources.map((d) => [String(d.id), d]))).toEqual({ kept: first.resource, gone });
  expect(kept._etag).not.toBe(first.resource!._etag);
});

test('over 4 physical partitions: the query of each range and the count fanned out over them see the same lagging prefix', async () => {
  const writer = newClient();
  const container = await newContainer(writer);
  await emulator.cosmos.control.setPartitionCount('app', container.id, 4);
  const seededDocs = [];
  for (let i = 0; i < 16; i++) {
    seededDocs.push((await container.items.create({ id: `d${i}`, tenantId: `t${i}`, v: 1 })).resource!);
  }
  emulator.cosmos.control.setSessionLag(600_000);
  for (let i = 0; i < 16; i += 2) await container.item(`d${i}`, `t${i}`).delete();
  for (let i = 16; i < 24; i++) await container.items.create({ id: `d${i}`, tenantId: `t${i}`, v: 1 });
  const other = newClient().database('app').container(container.id);
  const byId = (docs: ItemDefinition[]) => Object.fromEntries(docs.map((d) => [String(d.id), d]));
  expect(await seen(other)).toEqual(byId(seededDocs));
  expect(await count(other)).toBe(16);
  expect(Object.keys(await seen(container)).sort()).toEqual(
    [
      ...Array.from({ length: 8 }, (_, k) => `d${2 * k + 1}`),
      ...Array.from({ length: 8 }, (_, k) => `d${16 + k}`),
    ].sort()
  );
  expect(await count(container)).toBe(16);
});

test('after the lag the replica has caught up: a client without the token reads current data', async () => {
  const { container } = await seeded();
  emulator.cosmos.control.setSessionLag(300);
  const replaced = (await container.item('kept', 't1').replace(doc('kept', 2))).resource!;
  const other = newClient().database('app').container(container.id);
  const deadline = Date.now() + 30_000;
  let current = await pointRead(other, 'kept');
  while (current?.v !== 2 && Date.now() < deadline) current = await pointRead(other, 'kept');
  expect(current).toEqual(replaced);
  expect(await seen(other)).toEqual({ kept: replaced, gone: (await pointRead(container, 'gone'))! });
});

test('the switch: PUT /_local/session {lagMs} at run time and LOCAL_COSMOS_SESSION_LAG_MS at start', async () => {
  const call = (method: string, body?: unknown) =>
    new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
      const req = https.request(
        new URL('/_local/session', emulator.cosmos.endpoint),
        { method, ca: emulator.certificate.cert, headers: { 'x-local-key': emulator.cosmos.key } },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) as Record<string, unknown> }));
        }
      );
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  expect(await call('GET')).toEqual({ status: 200, body: { lagMs: 0 } });
  expect(await call('PUT', { lagMs: 250 })).toEqual({ status: 200, body: { lagMs: 250 } });
  expect(emulator.cosmos.control.sessionLag()).toBe(250);
  expect((await call('PUT', { lagMs: -1 })).status).toBe(400);
  expect(emulator.cosmos.control.sessionLag()).toBe(250);

  const saved = process.env[SESSION_LAG_ENV];
  try {
    process.env[SESSION_LAG_ENV] = '200';
    const other = await startLocalCosmos({
      port: 0,
      certificate: emulator.certificate,
      dataDir: emulator.dataDir + '-env',
    });
    expect(other.control.sessionLag()).toBe(200);
    await other.close();
    process.env[SESSION_LAG_ENV] = 'soon';
    await expect(
      startLocalCosmos({ port: 0, certificate: emulator.certificate, dataDir: emulator.dataDir + '-bad' })
    ).rejects.toThrow(/LOCAL_COSMOS_SESSION_LAG_MS must be a number/);
  } finally {
    if (saved === undefined) delete process.env[SESSION_LAG_ENV];
    else process.env[SESSION_LAG_ENV] = saved;
  }
});

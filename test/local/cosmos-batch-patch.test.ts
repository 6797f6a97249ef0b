/**
 * Patch operations in bulk and transactional batch through @azure/cosmos 4.9 (`items.bulk`,
 * `items.executeBulkOperations`, `items.batch`; operations serialized by `utils/batch.js`): each operation's reported
 * status is what happened to the document, a failing atomic batch applies nothing, and a request refused as a whole
 * applies nothing. `LOCAL_COSMOS_UNFIXED=batchpatch` makes these tests fail.
 */
import https from 'node:https';
import type { Container, ItemDefinition, OperationInput } from '@azure/cosmos';
import { startTestEmulator, type TestEmulator } from './cosmos-support';

interface Doc extends ItemDefinition {
  id: string;
  pk: string;
  n: number;
  tags?: string[];
}

let emulator: TestEmulator;
let container: Container;

beforeAll(async () => {
  emulator = await startTestEmulator();
  const { database } = await emulator.client.databases.create({ id: 'bp' });
  ({ container } = await database.containers.create({ id: 'docs', partitionKey: '/pk' }));
}, 60_000);

afterAll(async () => {
  await emulator?.stop();
});

async function read(id: string, pk: string): Promise<Doc | undefined> {
  const { resource } = await container.item(id, pk).read<Doc>();
  return resource;
}

const strip = (doc: Doc | undefined) => {
  if (!doc) return doc;
  const { _rid, _self, _etag, _ts, _attachments, ...rest } = doc as Doc & Record<string, unknown>;
  void _rid;
  void _self;
  void _etag;
  void _ts;
  void _attachments;
  return rest;
};

test('items.bulk with Patch: every operation runs and reports what happened to its document', async () => {
  await container.items.create<Doc>({ id: 'p1', pk: 'a', n: 1, tags: ['x'] });
  await container.items.create<Doc>({ id: 'd1', pk: 'a', n: 0 });
  const operations: OperationInput[] = [
    { operationType: 'Create', resourceBody: { id: 'c1', pk: 'a', n: 5 } },
    {
      operationType: 'Patch',
      id: 'p1',
      partitionKey: 'a',
      resourceBody: {
        operations: [
          { op: 'incr', path: '/n', value: 41 },
          { op: 'add', path: '/tags/-', value: 'y' },
        ],
      },
    },
    { operationType: 'Delete', id: 'd1', partitionKey: 'a' },
    {
      operationType: 'Patch',
      id: 'missing',
      partitionKey: 'a',
      resourceBody: { operations: [{ op: 'set', path: '/n', value: 1 }] },
    },
  ];
  const results = await container.items.bulk(operations);
  expect(results.map((r) => r.statusCode)).toEqual([201, 200, 204, 404]);
  expect(strip(results[1]!.resourceBody as Doc)).toEqual({ id: 'p1', pk: 'a', n: 42, tags: ['x', 'y'] });
  expect(strip(await read('p1', 'a'))).toEqual({ id: 'p1', pk: 'a', n: 42, tags: ['x', 'y'] });
  expect(strip(await read('c1', 'a'))).toEqual({ id: 'c1', pk: 'a', n: 5 });
  expect(await read('d1', 'a')).toBeUndefined();
  expect(await read('missing', 'a')).toBeUndefined();
  expect(results.every((r) => (r.requestCharge ?? 0) > 0)).toBe(true);
  // The continuous-backup log holds the patched document (a restore at this time would bring it back as it is now).
  const logged = emulator.cosmos.backup.containerAt('bp', 'docs', new Date()).documents.find((d) => d.id === 'p1');
  expect(strip(logged as Doc)).toEqual({ id: 'p1', pk: 'a', n: 42, tags: ['x', 'y'] });
});

test('executeBulkOperations with a conditional Patch: the false condition is 412 and changes nothing', async () => {
  await container.items.create<Doc>({ id: 'q1', pk: 'b', n: 1 });
  await container.items.create<Doc>({ id: 'q2', pk: 'b', n: 2 });
  const results = await container.items.executeBulkOperations([
    {
      operationType: 'Patch',
      id: 'q1',
      partitionKey: 'b',
      resourceBody: { condition: 'FROM c WHERE c.n = 1', operations: [{ op: 'set', path: '/n', value: 10 }] },
    },
    {
      operationType: 'Patch',
      id: 'q2',
      partitionKey: 'b',
      resourceBody: { condition: 'FROM c WHERE c.n = 1', operations: [{ op: 'set', path: '/n', value: 20 }] },
    },
  ]);
  expect(results.map((r) => r.response?.statusCode ?? r.error?.code)).toEqual([200, 412]);
  expect((await read('q1', 'b'))?.n).toBe(10);
  expect((await read('q2', 'b'))?.n).toBe(2);
});

test('transactional batch with Patch: applied together, or (one fails) nothing applied', async () => {
  await container.items.create<Doc>({ id: 't1', pk: 'c', n: 1 });
  const ok = await container.items.batch(
    [
      { operationType: 'Create', resourceBody: { id: 't2', pk: 'c', n: 2 } },
      { operationType: 'Patch', id: 't1', resourceBody: { operations: [{ op: 'set', path: '/n', value: 11 }] } },
      { operationType: 'Read', id: 't1' },
    ],
    'c'
  );
  expect(ok.result!.map((r) => r.statusCode)).toEqual([201, 200, 200]);
  expect((ok.result![2]!.resourceBody as Doc).n).toBe(11);

  const before = await read('t1', 'c');
  const failed = await container.items.batch(
    [
      { operationType: 'Create', resourceBody: { id: 't3', pk: 'c', n: 3 } },
      {
        operationType: 'Patch',
        id: 't1',
        resourceBody: { condition: 'FROM c WHERE c.n = 999', operations: [{ op: 'set', path: '/n', value: 0 }] },
      },
    ],
    'c'
  );
  expect(failed.result!.map((r) => r.statusCode)).toEqual([424, 412]);
  expect(await read('t3', 'c')).toBeUndefined();
  expect(await read('t1', 'c')).toEqual(before);

  const stale = await container.items.batch(
    [
      { operationType: 'Delete', id: 't2' },
      {
        operationType: 'Patch',
        id: 't1',
        ifMatch: '"stale"',
        resourceBody: { operations: [{ op: 'remove', path: '/n' }] },
      },
    ],
    'c'
  );
  expect(stale.result!.map((r) => r.statusCode)).toEqual([424, 412]);
  expect((await read('t2', 'c'))?.n).toBe(2);
});

test('a bulk request with an operation type Azure does not accept is refused as a whole, nothing applied', async () => {
  // Sent by hand: the SDK itself refuses unknown operation types before sending.
  const status = await new Promise<number>((resolve, reject) => {
    const req = https.request(
      `${emulator.cosmos.endpoint}dbs/bp/colls/docs/docs`,
      {
        method: 'POST',
        ca: emulator.certificate.cert,
        headers: {
          'content-type': 'application/json',
          'x-ms-cosmos-is-batch-request': 'true',
          'x-ms-documentdb-partitionkeyrangeid': '0',
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      }
    );
    req.on('error', reject);
    req.end(
      JSON.stringify([
        { operationType: 'Create', partitionKey: '["e"]', resourceBody: { id: 'e1', pk: 'e', n: 1 } },
        { operationType: 'Increment', partitionKey: '["e"]', id: 'e1' },
      ])
    );
  });
  expect(status).toBe(400);
  expect(await read('e1', 'e')).toBeUndefined();
});

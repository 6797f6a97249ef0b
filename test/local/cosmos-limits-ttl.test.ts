/**
 * Azure's per-item limits and time to live, through @azure/cosmos 4.9: a document or request over 2 MB answers 413, a
 * batch or bulk of more than 100 operations (or none) 400;
 * invalid `defaultTtl`/`ttl` values answer 400; items expire after their (or their container's) TTL, and the expiry
 * is a delete in the continuous-backup log. `LOCAL_COSMOS_UNFIXED=limits,ttl` makes these tests fail.
 */
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Container, Database, ItemDefinition } from '@azure/cosmos';
import { startTestEmulator, type TestEmulator } from './cosmos-support';

interface Doc extends ItemDefinition {
  id: string;
  pk: string;
  ttl?: number;
  blob?: string;
}

let emulator: TestEmulator;
let database: Database;

beforeAll(async () => {
  emulator = await startTestEmulator();
  ({ database } = await emulator.client.databases.create({ id: 'limits' }));
}, 60_000);

afterAll(async () => {
  await emulator?.stop();
});

const code = async (p: Promise<unknown>) =>
  p.then(
    () => 0,
    (err: { code?: number }) => err.code
  );

async function exists(container: Container, id: string, pk: string): Promise<boolean> {
  const { statusCode } = await container.item(id, pk).read();
  return statusCode === 200;
}

/** Polls until the item is gone (the sweep runs every 250 ms); fails after `withinMs`. */
async function goneWithin(container: Container, id: string, pk: string, withinMs: number): Promise<number> {
  const start = Date.now();
  while (await exists(container, id, pk)) {
    if (Date.now() - start > withinMs) throw new Error(`${id} still there after ${withinMs} ms`);
    await sleep(100);
  }
  return Date.now() - start;
}

test('a document over 2 MB is refused with 413 and not written; one just under is accepted', async () => {
  const { container } = await database.containers.create({ id: 'size', partitionKey: '/pk' });
  const big: Doc = { id: 'big', pk: 'a', blob: 'x'.repeat(2.2 * 1024 * 1024) };
  expect(await code(container.items.create(big))).toBe(413);
  expect(await code(container.items.upsert(big))).toBe(413);
  expect(await exists(container, 'big', 'a')).toBe(false);
  const fits: Doc = { id: 'fits', pk: 'a', blob: 'x'.repeat(2 * 1024 * 1024 - 100) };
  expect(await code(container.items.create(fits))).toBe(0);
  expect(await code(container.item('fits', 'a').replace({ ...fits, blob: fits.blob! + 'y'.repeat(200) }))).toBe(413);
  expect((await container.item('fits', 'a').read<Doc>()).resource?.blob).toBe(fits.blob);
});

test('invalid TTL values are refused with 400: defaultTtl 0, null or below -1; item ttl 0, null or below -1', async () => {
  for (const defaultTtl of [0, null, -10]) {
    expect(
      await code(
        database.containers.create({ id: `bad-${String(defaultTtl)}`, partitionKey: '/pk', defaultTtl } as never)
      )
    ).toBe(400);
  }
  const { container } = await database.containers.create({ id: 'ttl-valid', partitionKey: '/pk', defaultTtl: 3600 });
  for (const ttl of [0, null, -10])
    expect(await code(container.items.create<Doc>({ id: 'd', pk: 'a', ttl: ttl as number }))).toBe(400);
  expect(await exists(container, 'd', 'a')).toBe(false);
  expect(await code(container.items.create<Doc>({ id: 'd', pk: 'a', ttl: -1 }))).toBe(0);
});

test('items expire after their ttl or the container default; -1 never; without a default nothing expires', async () => {
  const { container } = await database.containers.create({ id: 'ttl', partitionKey: '/pk', defaultTtl: 2 });
  const { container: plain } = await database.containers.create({ id: 'no-ttl', partitionKey: '/pk' });
  await container.items.create<Doc>({ id: 'default', pk: 'a' });
  await container.items.create<Doc>({ id: 'own', pk: 'a', ttl: 1 });
  await container.items.create<Doc>({ id: 'never', pk: 'a', ttl: -1 });
  await container.items.create<Doc>({ id: 'longer', pk: 'a', ttl: 600 });
  await plain.items.create<Doc>({ id: 'ignored', pk: 'a', ttl: 1 });

  // Generous bounds: they say the sweep came, not how fast a loaded machine runs it (it failed at 4 s under load 16).
  await goneWithin(container, 'own', 'a', 30_000);
  await goneWithin(container, 'default', 'a', 30_000);
  expect(await exists(container, 'never', 'a')).toBe(true);
  expect(await exists(container, 'longer', 'a')).toBe(true);
  expect(await exists(plain, 'ignored', 'a')).toBe(true);

  // The expiry is a delete in the continuous-backup log (local/README.md, "Continuous backup log").
  const deletes = fs
    .readFileSync(path.join(emulator.dataDir, 'cosmos-backup.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as { type: string; op: string; coll?: string; id?: string })
    .filter((e) => e.type === 'document' && e.op === 'Delete' && e.coll === 'ttl')
    .map((e) => e.id)
    .sort();
  expect(deletes).toEqual(['default', 'own']);
}, 30_000);

/**
 * A batch or bulk request of more than 100 operations, or of none: 400 with the texts Azure answers (asserted against
 * a live account by Azure/azure-sdk-for-python sdk/cosmos/azure-cosmos/tests/test_transactional_batch.py). @azure/cosmos
 * 4.9 never sends one (client/Item/Items.js `bulk` and `batch` throw "Cannot run ... more than 100 operations per
 * partition" first), so this is sent as another client would, over the same HTTPS endpoint.
 */
test('a batch or bulk of 101 operations, or of none, is refused with 400 and nothing is written; 100 pass', async () => {
  const { container } = await database.containers.create({ id: 'ops', partitionKey: '/pk' });
  const ops = (n: number, prefix: string) =>
    Array.from({ length: n }, (_, i) => ({
      operationType: 'Create',
      partitionKey: '["a"]',
      resourceBody: { id: `${prefix}${i}`, pk: 'a' },
    }));
  const post = (body: unknown, atomic: boolean) =>
    new Promise<{ status: number; body: { code?: string; message?: string } | unknown[] }>((resolve, reject) => {
      const req = https.request(
        new URL(`/dbs/limits/colls/ops/docs`, emulator.cosmos.endpoint),
        {
          method: 'POST',
          ca: emulator.certificate.cert,
          headers: {
            'content-type': 'application/json',
            'x-ms-cosmos-is-batch-request': 'true',
            'x-ms-cosmos-batch-atomic': String(atomic),
            ...(atomic ? { 'x-ms-documentdb-partitionkey': '["a"]' } : { 'x-ms-documentdb-partitionkeyrangeid': '0' }),
          },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) as never }));
        }
      );
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
  const tooMany = { code: 'BadRequest', message: 'Batch request has more operations than what is supported.' };
  expect(await post(ops(101, 'bulk'), false)).toEqual({ status: 400, body: tooMany });
  expect(await post(ops(101, 'batch'), true)).toEqual({ status: 400, body: tooMany });
  expect(await post([], false)).toEqual({
    status: 400,
    body: { code: 'BadRequest', message: 'Batch request has no operations.' },
  });
  const { resources } = await container.items.query('SELECT VALUE COUNT(1) FROM c').fetchAll();
  expect(resources).toEqual([0]);
  const hundred = await post(ops(100, 'ok'), false);
  expect(hundred.status).toBe(200);
  expect((hundred.body as { statusCode: number }[]).map((r) => r.statusCode)).toEqual(Array(100).fill(201));
  // What the product's client does with more: refuses before sending (Items.js).
  await expect(
    container.items.bulk(ops(101, 'sdk').map((o) => ({ ...o, partitionKey: 'a' })) as never)
  ).rejects.toThrow(/more than 100 operations/);
});

test('a query page holds at most 4 MB of results, then ends with a continuation; following it returns every document once', async () => {
  const { container } = await database.containers.create({ id: 'pages', partitionKey: '/pk' });
  const blob = 'x'.repeat(900 * 1024); // ~0.9 MB each: four fit in 4 MB, five do not
  for (let i = 0; i < 10; i++) await container.items.create({ id: `big${i}`, pk: 'a', blob });
  const pageSizes = async (query: string, maxItemCount?: number) => {
    const iterator = container.items.query<Doc>(query, maxItemCount ? { maxItemCount } : {});
    const sizes: number[] = [];
    const ids: string[] = [];
    while (iterator.hasMoreResults()) {
      const page = await iterator.fetchNext();
      expect(Buffer.byteLength(JSON.stringify(page.resources))).toBeLessThanOrEqual(4 * 1024 * 1024);
      sizes.push(page.resources.length);
      ids.push(...page.resources.map((d) => d.id));
    }
    return { sizes, ids: ids.sort() };
  };
  const allIds = Array.from({ length: 10 }, (_, i) => `big${i}`).sort();
  expect(await pageSizes('SELECT * FROM c', 100)).toEqual({ sizes: [4, 4, 2], ids: allIds });
  expect(await pageSizes('SELECT * FROM c')).toEqual({ sizes: [4, 4, 2], ids: allIds });
  // Small rows: the same documents projected fit in one page.
  expect(await pageSizes('SELECT c.id FROM c', 100)).toEqual({ sizes: [10], ids: allIds });
  const read = await container.items.readAll<Doc>().fetchAll();
  expect(read.resources.map((d) => d.id).sort()).toEqual(allIds);
});

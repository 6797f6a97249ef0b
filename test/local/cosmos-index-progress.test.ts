/**
 * Index transformation as Azure reports it: after an indexing-policy change or a restore, a container read with
 * populateQuotaInfo (@azure/cosmos dist/commonjs/request/request.js sends x-ms-documentdb-populatequotainfo) carries
 * x-ms-documentdb-collection-index-transformation-progress, below 100 while the rebuild runs, for a time proportional
 * to the documents (local/cosmos/index-transformation.ts); the product's readIndexProgress reads it.
 */
import type { Container } from '@azure/cosmos';
import { readIndexProgress } from '../../activities/cosmos/index-progress';
import { IndexTransformations, MIN_REBUILD_MS } from '../../local/cosmos/index-transformation';
import { startTestEmulator, type TestEmulator } from './cosmos-support';

let emulator: TestEmulator;
let container: Container;
const previous = process.env.LOCAL_INDEX_MS_PER_DOCUMENT;

beforeAll(async () => {
  // 2 ms per document: the 500 documents below take a second to re-index, long enough to be read in progress.
  process.env.LOCAL_INDEX_MS_PER_DOCUMENT = '2';
  emulator = await startTestEmulator({ ruModel: false });
  const { database } = await emulator.client.databases.createIfNotExists({ id: 'idx' });
  ({ container } = await database.containers.create({ id: 'people', partitionKey: { paths: ['/tenant'] } }));
  const operations = Array.from({ length: 500 }, (_, i) => ({
    operationType: 'Create' as const,
    resourceBody: { id: `p${i}`, tenant: `t${i % 5}`, lastName: `L${i}` },
  }));
  for (let i = 0; i < operations.length; i += 100) await container.items.bulk(operations.slice(i, i + 100));
});

afterAll(async () => {
  if (previous === undefined) delete process.env.LOCAL_INDEX_MS_PER_DOCUMENT;
  else process.env.LOCAL_INDEX_MS_PER_DOCUMENT = previous;
  await emulator?.stop();
});

async function waitUntil(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('no rebuild running: 100 (the stock server answered -1, "not reported", whatever happened)', async () => {
  expect(await readIndexProgress(container)).toBe(100);
});

test('a policy change is rebuilt over time: progress climbs below 100, then 100; the same policy again starts nothing', async () => {
  const { resource } = await container.read();
  const startedAt = Date.now();
  await container.replace({
    ...resource!,
    indexingPolicy: {
      ...resource!.indexingPolicy,
      compositeIndexes: [
        [
          { path: '/tenant', order: 'ascending' },
          { path: '/lastName', order: 'ascending' },
        ],
      ],
    },
  });
  const first = await readIndexProgress(container);
  expect(first).toBeGreaterThanOrEqual(0);
  expect(first).toBeLessThan(100);
  const seen = new Set<number>([first]);
  await waitUntil(async () => {
    const progress = await readIndexProgress(container);
    seen.add(progress);
    return progress === 100;
  }, 'the rebuild to end');
  // 500 documents at 2 ms: about a second, never less.
  expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1000);
  expect(Math.max(...[...seen].filter((p) => p < 100))).toBeGreaterThan(first);

  const { resource: now } = await container.read();
  await container.replace(now!);
  expect(await readIndexProgress(container)).toBe(100);
});

test('a restored container is rebuilt too; a deleted one forgets its rebuild', async () => {
  const at = new Date();
  await new Promise((r) => setTimeout(r, 5));
  await container.delete();
  await emulator.cosmos.admin.rebuildContainer('idx', 'people', at);
  container = emulator.client.database('idx').container('people');
  expect(await readIndexProgress(container)).toBeLessThan(100);
  await container.delete();
  await emulator.client.database('idx').containers.create({ id: 'people', partitionKey: { paths: ['/tenant'] } });
  expect(await readIndexProgress(container)).toBe(100);
});

test('progress is the elapsed share of a time proportional to the documents, at least the minimum', () => {
  const rebuilds = new IndexTransformations();
  rebuilds.msPerDocument = 1;
  rebuilds.start('d', 'c', 1000, 0);
  expect(rebuilds.progress('d', 'c', 0)).toBe(0);
  expect(rebuilds.progress('d', 'c', 499)).toBe(49);
  expect(rebuilds.progress('d', 'c', 1000)).toBe(100);
  expect(rebuilds.progress('d', 'c', 1)).toBe(100); // done is done
  rebuilds.start('d', 'empty', 0, 0);
  expect(rebuilds.progress('d', 'empty', MIN_REBUILD_MS - 1)).toBe(99);
  expect(rebuilds.progress('d', 'other', 0)).toBe(100);
});

/**
 * Azure's normalisation of indexing policies (indexing-policy.ts) and the data-plane offers (offers.ts), through
 * @azure/cosmos 4.9. `LOCAL_COSMOS_UNFIXED=indexpolicy,offers` makes these tests fail.
 */
import { Constants, type Database } from '@azure/cosmos';
import { startTestEmulator, type TestEmulator } from './cosmos-support';

let emulator: TestEmulator;
let database: Database;

beforeAll(async () => {
  emulator = await startTestEmulator();
  ({ database } = await emulator.client.databases.create({ id: 'offers' }));
}, 60_000);

afterAll(async () => {
  await emulator?.stop();
});

const ETAG = { path: '/"_etag"/?' };

test('indexing policies read back as Azure stores them: defaults filled, /"_etag"/? excluded, idempotent on replace', async () => {
  const { resource: plain } = await database.containers.create({ id: 'plain', partitionKey: '/pk' });
  expect(plain!.indexingPolicy).toEqual({
    indexingMode: 'consistent',
    automatic: true,
    includedPaths: [{ path: '/*' }],
    excludedPaths: [ETAG],
  });
  const sent = {
    indexingMode: 'consistent' as const,
    includedPaths: [{ path: '/tenant/?' }],
    excludedPaths: [{ path: '/*' }],
    compositeIndexes: [
      [
        { path: '/a', order: 'ascending' as const },
        { path: '/b', order: 'descending' as const },
      ],
    ],
  };
  const { resource: custom, container } = await database.containers.create({
    id: 'custom',
    partitionKey: '/pk',
    indexingPolicy: sent,
  });
  const expected = { ...sent, automatic: true, excludedPaths: [{ path: '/*' }, ETAG] };
  expect(custom!.indexingPolicy).toEqual(expected);
  const { resource: replaced } = await container.replace({ ...custom!, indexingPolicy: custom!.indexingPolicy });
  expect(replaced!.indexingPolicy).toEqual(expected);
});

test('offers: one per container, read, queried, replaced (provisioning the RU model), and the quota header', async () => {
  const { container } = await database.containers.create({ id: 'provisioned', partitionKey: '/pk', throughput: 1000 });
  const { headers } = await container.read({ populateQuotaInfo: true });
  expect(String(headers[Constants.HttpHeaders.MaxResourceQuota])).toContain('collectionSize=');

  const { resource: offer } = await container.readOffer();
  expect(offer).toMatchObject({ offerVersion: 'V2', content: { offerThroughput: 1000 } });
  const { resource: container_ } = await container.read();
  expect(offer!.resource).toBe(container_!._self);
  const { resources: all } = await emulator.client.offers.readAll().fetchAll();
  expect(all.map((o) => o.id)).toContain(offer!.id);
  expect((await emulator.client.offer(offer!.id).read()).resource).toEqual(offer);

  const { resource: replaced } = await emulator.client
    .offer(offer!.id)
    .replace({ ...offer!, content: { offerIsRUPerMinuteThroughputEnabled: false, offerThroughput: 30_000 } });
  expect(replaced!.content!.offerThroughput).toBe(30_000);
  expect((await container.readOffer()).resource!.content!.offerThroughput).toBe(30_000);
  // 30 000 RU/s is three physical partitions (local/README.md, "Physical partitions").
  const deadline = Date.now() + 20_000;
  while ((await emulator.cosmos.control.partitions('offers', 'provisioned')).ranges.length < 3) {
    if (Date.now() > deadline) throw new Error('no split after the offer replace');
    await new Promise((r) => setTimeout(r, 100));
  }

  const bad = await emulator.client
    .offer(offer!.id)
    .replace({ ...offer!, _rid: 'NotAllowed' } as typeof offer & object)
    .then(
      () => 0,
      (err: { code?: number }) => err.code
    );
  expect(bad).toBe(400);
  await container.delete();
  const gone = await emulator.client
    .offer(offer!.id)
    .read()
    .then(
      (r) => r.statusCode,
      (err: { code?: number }) => err.code
    );
  expect(gone).toBe(404);
});

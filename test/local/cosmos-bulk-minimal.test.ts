/**
 * Bulk answers without the documents, as Azure gives them: @azure/cosmos 4.9 sends `Prefer: return=minimal` on a
 * bulk request whose RequestOptions say `contentResponseOnWriteEnabled: false` (request/request.js `getHeaders`),
 * and the service then answers each write with its status, charge and ETag only (a read still returns its document). The migration asks for it on every
 * write round (activities/cosmos/migrate-range.ts LOW_MINIMAL); the stock server always echoed the documents.
 */
import { BulkOperationType, type Container, type OperationInput } from '@azure/cosmos';
import { startTestEmulator, type TestEmulator } from './cosmos-support';

let emulator: TestEmulator;
let container: Container;

beforeAll(async () => {
  emulator = await startTestEmulator();
  const { database } = await emulator.client.databases.createIfNotExists({ id: 'app' });
  ({ container } = await database.containers.create({ id: 'minimal', partitionKey: { paths: ['/tenantId'] } }));
  for (let i = 0; i < 4; i++) await container.items.create({ id: `d${i}`, tenantId: 't', n: i });
});

afterAll(async () => {
  await emulator.stop();
});

const operations = (n: number): OperationInput[] => [
  {
    operationType: BulkOperationType.Replace,
    id: 'd0',
    partitionKey: 't',
    resourceBody: { id: 'd0', tenantId: 't', n },
  },
  { operationType: BulkOperationType.Upsert, partitionKey: 't', resourceBody: { id: `new-${n}`, tenantId: 't', n } },
  { operationType: BulkOperationType.Read, id: 'd1', partitionKey: 't' },
  {
    operationType: BulkOperationType.Replace,
    id: 'd2',
    partitionKey: 't',
    ifMatch: '"stale"',
    resourceBody: { id: 'd2', tenantId: 't' },
  },
];

describe('bulk with contentResponseOnWriteEnabled: false', () => {
  it('answers writes with status, charge and ETag but no document; reads keep theirs', async () => {
    const responses = await emulator.client
      .database('app')
      .container('minimal')
      .items.bulk(operations(1), { continueOnError: true }, { contentResponseOnWriteEnabled: false });
    expect(responses.map((r) => r.statusCode)).toEqual([200, 201, 200, 412]);
    const [replaced, upserted, read] = responses;
    for (const write of [replaced!, upserted!]) {
      expect(write.resourceBody).toBeUndefined();
      expect(write.eTag).toEqual(expect.any(String));
      expect(write.requestCharge).toBeGreaterThan(0);
    }
    expect(read!.resourceBody).toMatchObject({ id: 'd1', n: 1 });
    // The writes were applied.
    expect((await container.item('d0', 't').read()).resource).toMatchObject({ n: 1 });
    expect((await container.item('new-1', 't').read()).statusCode).toBe(200);
  });

  it('answers with the documents by default', async () => {
    const responses = await container.items.bulk(operations(2), { continueOnError: true });
    expect(responses[0]!.resourceBody).toMatchObject({ id: 'd0', n: 2 });
    expect(responses[1]!.resourceBody).toMatchObject({ id: 'new-2', n: 2 });
  });
});

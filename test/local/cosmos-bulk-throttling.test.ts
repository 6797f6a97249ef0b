/**
 * Partial bulk throttling, as Azure does it: a bulk request (`x-ms-cosmos-batch-atomic: false`) that costs more than
 * its partition can pay runs its operations in order until the RU run out and answers the others 429 (substatus
 * 3200, `retryAfterMilliseconds`) in a 207, instead of refusing the whole request. Through the real @azure/cosmos
 * client over HTTPS: `items.bulk` hands each operation's answer back as the service sent it
 * (node_modules/@azure/cosmos/dist/commonjs/client/Item/Items.js `executeBatchOperations`: `response.result` per
 * operation, no retry of a per-operation 429), while `executeBulkOperations` retries them itself
 * (bulk/BulkResponse.js reads `retryAfterMilliseconds`, retry/bulkExecutionRetryPolicy.js retries 429).
 */
import https from 'node:https';
import { BulkOperationType, type Container, type OperationInput } from '@azure/cosmos';
import { startTestEmulator, type TestEmulator } from './cosmos-support';
import { startLocalCosmos } from '../../local/cosmos';
import {
  PARTIAL_BULK_THROTTLING_ENV,
  PRIORITY_BASED_EXECUTION_ENV,
  PRIORITY_MODEL_ENV,
} from '../../local/cosmos/fidelity';

let emulator: TestEmulator;
let seq = 0;

beforeAll(async () => {
  emulator = await startTestEmulator({ ruModel: { defaultThroughput: 100_000 } });
  await emulator.client.databases.createIfNotExists({ id: 'app' });
});

afterEach(() => {
  emulator.cosmos.control.setPartialBulkThrottling(true);
  emulator.cosmos.control.setPriorityBasedExecution(false);
  emulator.cosmos.control.setPriorityModel('azure');
});

afterAll(async () => {
  await emulator.stop();
});

/** A fresh container of one partition with `ruPerSecond` provisioned; its bucket starts full. */
async function provisioned(ruPerSecond: number): Promise<Container> {
  seq += 1;
  const { container } = await emulator.client
    .database('app')
    .containers.createIfNotExists({ id: `bulk-${seq}`, partitionKey: { paths: ['/tenantId'] } });
  emulator.cosmos.control.setThroughput('app', container.id, ruPerSecond);
  return container;
}

/** `n` creates of small documents: 5 RU each (the emulator's minimum write charge). */
const creates = (n: number, prefix = 'd'): OperationInput[] =>
  Array.from({ length: n }, (_, i) => ({
    operationType: BulkOperationType.Create,
    partitionKey: 'T',
    resourceBody: { id: `${prefix}${i}`, tenantId: 'T', n: i },
  }));

async function ids(container: Container): Promise<string[]> {
  const { resources } = await container.items.query<string>('SELECT VALUE c.id FROM c').fetchAll();
  return resources.sort();
}

const sortedIds = (n: number, prefix = 'd') => Array.from({ length: n }, (_, i) => `${prefix}${i}`).sort();

type OperationAnswer = {
  statusCode: number;
  requestCharge: number;
  subStatusCode?: number;
  retryAfterMilliseconds?: number;
};

test('a bulk over its partition budget runs the operations that fit, in order, and answers the rest 429 with a retry-after each (items.bulk, Items.js executeBatchOperations)', async () => {
  const container = await provisioned(100); // one second of capacity: 100 RU, 20 creates of 5 RU
  const before = emulator.cosmos.control.stats();

  const answers = (await container.items.bulk(creates(50))) as unknown as OperationAnswer[];
  // Read before anything else is sent: the query below may itself be throttled (the bucket is empty) and retried.
  const after = emulator.cosmos.control.stats();

  expect(answers.map((a) => a.statusCode)).toEqual([...Array<number>(20).fill(201), ...Array<number>(30).fill(429)]);
  const throttled = answers.slice(20);
  // The next create (5 RU) needs 50 ms of refill at 100 RU/s.
  expect(throttled.map((a) => [a.subStatusCode, a.requestCharge, a.retryAfterMilliseconds])).toEqual(
    Array(30).fill([3200, 0, 50])
  );
  expect(answers.slice(0, 20).map((a) => a.requestCharge)).toEqual(Array(20).fill(5));
  expect(await ids(container)).toEqual(sortedIds(20)); // exactly the first 20, nothing of the throttled ones

  expect(after.throttledOperations - before.throttledOperations).toBe(30);
  expect(after.throttled - before.throttled).toBe(0); // no request was refused whole
});

test('sending exactly the throttled operations again, after their retry-after, writes every document once', async () => {
  const container = await provisioned(100);
  let todo = creates(60);
  const statuses = new Map<string, number[]>();
  let requests = 0;
  while (todo.length > 0) {
    requests += 1;
    let answers: OperationAnswer[];
    try {
      answers = await container.items.bulk(todo);
    } catch (err) {
      // Nothing fits at all: the whole request is refused (items.bulk rethrows it as a plain Error).
      expect((err as Error).message).toMatch(/Request rate is large/);
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    todo.forEach((op, i) => {
      const id = (op as unknown as { resourceBody: { id: string } }).resourceBody.id;
      statuses.set(id, [...(statuses.get(id) ?? []), answers[i]!.statusCode]);
    });
    const wait = Math.max(0, ...answers.map((a) => (a.statusCode === 429 ? (a.retryAfterMilliseconds ?? 0) : 0)));
    todo = todo.filter((_, i) => answers[i]!.statusCode === 429);
    if (todo.length > 0) await new Promise((r) => setTimeout(r, wait));
  }
  expect(await ids(container)).toEqual(sortedIds(60));
  // Every document: 429s, then one 201; never a 409 (a create that ran twice).
  for (const [, seen] of statuses) {
    expect(seen.at(-1)).toBe(201);
    expect(seen.slice(0, -1).every((s) => s === 429)).toBe(true);
  }
  expect(requests).toBeGreaterThan(1);
});

test('executeBulkOperations retries the throttled operations itself (bulk/BulkResponse.js, bulkExecutionRetryPolicy.js): all succeed', async () => {
  const container = await provisioned(200);
  const before = emulator.cosmos.control.stats().throttledOperations;
  const results = await container.items.executeBulkOperations(creates(80, 'e'));
  expect(results.map((r) => r.response?.statusCode ?? r.error?.code)).toEqual(Array(80).fill(201));
  expect(await ids(container)).toEqual(sortedIds(80, 'e'));
  expect(emulator.cosmos.control.stats().throttledOperations).toBeGreaterThan(before);
});

test("a Low-priority bulk leaves the High reserve when High traffic is recent (priority-based execution on, 'reserve' model)", async () => {
  emulator.cosmos.control.setPriorityBasedExecution(true);
  emulator.cosmos.control.setPriorityModel('reserve');
  const container = await provisioned(100);
  const started = performance.now();
  // High (the default), 10 KB: 50 RU, the bucket holds 50 after it, and High traffic is recent.
  await container.items.create({ id: 'high', tenantId: 'T', data: 'x'.repeat(10 * 1024) });
  let admitted = 0;
  try {
    const low = (await container.items.bulk(creates(20), undefined, {
      priorityLevel: 'Low' as never,
    })) as unknown as OperationAnswer[];
    admitted = low.filter((a) => a.statusCode === 201).length;
    // In order: the operations that fit, then 429s.
    expect(low.map((a) => a.statusCode)).toEqual([
      ...Array<number>(admitted).fill(201),
      ...Array<number>(20 - admitted).fill(429),
    ]);
  } catch (err) {
    expect((err as Error).message).toMatch(/Request rate is large/); // not even one fits above the reserve
  }
  const elapsedMs = performance.now() - started;
  // Half the bucket (50 RU) is kept for High: Low may use only what refilled since (100 RU/s). Without the reserve it
  // would have had the 50 RU left at once: 10 creates or more.
  expect(admitted * 5).toBeLessThanOrEqual((elapsedMs * 100) / 1000 + 0.01);
  if (elapsedMs < 400) expect(admitted).toBeLessThan(10);
});

test('switched off: a bulk over budget is refused whole, after a full bucket let one through into debt', async () => {
  emulator.cosmos.control.setPartialBulkThrottling(false);
  const container = await provisioned(100);
  const first = (await container.items.bulk(creates(50))) as unknown as OperationAnswer[];
  expect(first.map((a) => a.statusCode)).toEqual(Array(50).fill(201));
  await expect(container.items.bulk(creates(10, 'x'))).rejects.toThrow(/Request rate is large/);
  expect(await ids(container)).toEqual(sortedIds(50));
});

test('the switch: PUT /_local/ru {partialBulkThrottling} and LOCAL_COSMOS_PARTIAL_BULK_THROTTLING at start', async () => {
  const put = (body: unknown) =>
    new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
      const req = https.request(
        new URL('/_local/ru', emulator.cosmos.endpoint),
        { method: 'PUT', ca: emulator.certificate.cert, headers: { 'x-local-key': emulator.cosmos.key } },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) as Record<string, unknown> }));
        }
      );
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
  expect((await put({ enabled: true, partialBulkThrottling: false })).body).toMatchObject({
    enabled: true,
    partialBulkThrottling: false,
  });
  const container = await provisioned(100);
  await container.items.bulk(creates(50));
  await expect(container.items.bulk(creates(10, 'x'))).rejects.toThrow(/Request rate is large/);
  expect((await put({ enabled: true, partialBulkThrottling: 'no' })).status).toBe(400);
  expect((await put({ enabled: true, partialBulkThrottling: true })).body).toMatchObject({
    partialBulkThrottling: true,
  });

  const saved = process.env[PARTIAL_BULK_THROTTLING_ENV];
  process.env[PARTIAL_BULK_THROTTLING_ENV] = 'off';
  try {
    const other = await startLocalCosmos({
      port: 0,
      certificate: emulator.certificate,
      dataDir: `${emulator.dataDir}-env`,
    });
    const enabled = other.control.partialBulkThrottling();
    await other.close();
    expect(enabled).toBe(false);
  } finally {
    if (saved === undefined) delete process.env[PARTIAL_BULK_THROTTLING_ENV];
    else process.env[PARTIAL_BULK_THROTTLING_ENV] = saved;
  }
});

test('the account starts with priority-based execution off (Azure), model azure; LOCAL_COSMOS_PRIORITY_* change that at start', async () => {
  expect([emulator.cosmos.control.priorityBasedExecution(), emulator.cosmos.control.priorityModel()]).toEqual([
    false,
    'azure',
  ]);
  const names = [PRIORITY_BASED_EXECUTION_ENV, PRIORITY_MODEL_ENV];
  const saved = names.map((n) => process.env[n]);
  const start = () =>
    startLocalCosmos({ port: 0, certificate: emulator.certificate, dataDir: `${emulator.dataDir}-priority` });
  try {
    process.env[PRIORITY_BASED_EXECUTION_ENV] = '1';
    process.env[PRIORITY_MODEL_ENV] = 'reserve';
    const other = await start();
    const seen = [other.control.priorityBasedExecution(), other.control.priorityModel()];
    await other.close();
    expect(seen).toEqual([true, 'reserve']);
    process.env[PRIORITY_MODEL_ENV] = 'kind';
    await expect(start()).rejects.toThrow(/LOCAL_COSMOS_PRIORITY_MODEL must be azure or reserve, got "kind"/);
  } finally {
    names.forEach((n, i) => {
      if (saved[i] === undefined) delete process.env[n];
      else process.env[n] = saved[i];
    });
  }
});

/**
 * The RU model (charges, provisioned RU/s enforced with 429 + retry-after) and fault injection, through the real
 * @azure/cosmos client, and their HTTPS control endpoints.
 */
import https from 'node:https';
import type { Container } from '@azure/cosmos';
import { startTestEmulator, type TestEmulator } from './cosmos-support';

let emulator: TestEmulator;
let container: Container;

beforeAll(async () => {
  emulator = await startTestEmulator({ ruModel: { defaultThroughput: 10_000 } });
  const { database } = await emulator.client.databases.createIfNotExists({ id: 'app' });
  ({ container } = await database.containers.createIfNotExists({ id: 'ru', partitionKey: { paths: ['/tenantId'] } }));
});

afterEach(() => {
  emulator.cosmos.control.setFaults([]);
  emulator.cosmos.control.setRuModel(true, { defaultThroughput: 10_000 });
});

afterAll(async () => {
  await emulator.stop();
});

const payload = (kb: number) => 'x'.repeat(kb * 1024);

describe('request charges', () => {
  it('charges like Cosmos: ~1 RU/KB read, ~5 RU/KB written, queries by what they return, bulk per operation', async () => {
    const small = await container.items.create({ id: 'small', tenantId: 'T' });
    const large = await container.items.create({ id: 'large', tenantId: 'T', data: payload(4) });
    expect(small.requestCharge).toBe(5);
    expect(large.requestCharge).toBeGreaterThan(20);
    expect(large.requestCharge).toBeLessThan(22);

    const read = await container.item('large', 'T').read();
    expect(read.requestCharge).toBeGreaterThan(4);
    expect(read.requestCharge).toBeLessThan(4.5);
    expect((await container.item('small', 'T').read()).requestCharge).toBe(1);

    const all = await container.items.query("SELECT * FROM c WHERE c.tenantId = 'T'").fetchAll();
    const none = await container.items.query("SELECT * FROM c WHERE c.tenantId = 'nobody'").fetchAll();
    expect(none.requestCharge).toBeGreaterThanOrEqual(2.5);
    expect(none.requestCharge).toBeLessThan(3);
    expect(all.requestCharge).toBeGreaterThan(6.5);

    const bulk = await container.items.bulk([
      { operationType: 'Create', resourceBody: { id: 'b1', tenantId: 'T', data: payload(2) } },
      { operationType: 'Read', id: 'small', partitionKey: 'T' },
      { operationType: 'Delete', id: 'b-missing', partitionKey: 'T' },
    ]);
    expect(bulk.map((r) => r.statusCode)).toEqual([201, 200, 404]);
    expect(bulk[0]!.requestCharge).toBeGreaterThan(10);
    expect(bulk[1]!.requestCharge).toBe(1);
  });

  it('charges 1 and never throttles when the RU model is off', async () => {
    emulator.cosmos.control.setRuModel(false);
    emulator.cosmos.control.setThroughput('app', 'ru', 1);
    const throttledBefore = emulator.cosmos.control.stats().throttled;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => container.items.upsert({ id: `off-${i}`, tenantId: 'T', data: payload(2) }))
    );
    expect(results.map((r) => r.requestCharge)).toEqual(Array(20).fill(1));
    expect(emulator.cosmos.control.stats().throttled).toBe(throttledBefore);
    emulator.cosmos.control.setThroughput('app', 'ru', 10_000);
  });
});

describe('provisioned throughput', () => {
  it('answers a burst over the provisioned RU/s with 429s that the SDK honours until every write succeeds', async () => {
    const { container: burst } = await emulator.client
      .database('app')
      .containers.createIfNotExists({ id: 'burst', partitionKey: { paths: ['/tenantId'] } });
    emulator.cosmos.control.setThroughput('app', 'burst', 100);
    const patient = emulator
      .newClient({ maxRetryAttemptCount: 100, maxWaitTimeInSeconds: 60 })
      .database('app')
      .container('burst');
    const throttledBefore = emulator.cosmos.control.stats().throttled;

    await patient.read(); // connect first, so that the burst really is one
    const writes = await Promise.all(
      Array.from({ length: 12 }, (_, i) => patient.items.create({ id: `w${i}`, tenantId: 'T', data: payload(8) }))
    );
    expect(writes.every((w) => w.statusCode === 201)).toBe(true);
    const { resources } = await burst.items.query('SELECT VALUE COUNT(1) FROM c').fetchAll();
    expect(resources).toEqual([12]);
    // 12 writes of ~42 RU against 100 RU/s: the bucket runs dry after two, the emulator answers 429, the SDK retries.
    const throttled = emulator.cosmos.control.stats().throttled - throttledBefore;
    const retries = writes.reduce(
      (n, w) => n + (w.diagnostics.clientSideRequestStatistics.retryDiagnostics.failedAttempts.length ?? 0),
      0
    );
    expect(throttled).toBeGreaterThan(0);
    expect(retries).toBeGreaterThan(0);
  });

  it('provisions the throughput a data-plane create asks for, and leaves unprovisioned containers unthrottled', async () => {
    const database = emulator.client.database('app');
    await database.containers.create({ id: 'provisioned', partitionKey: { paths: ['/tenantId'] }, throughput: 400 });
    await database.containers.create({ id: 'unprovisioned', partitionKey: { paths: ['/tenantId'] } });
    const bulk = (prefix: string) =>
      Array.from({ length: 100 }, (_, i) => ({
        operationType: 'Create' as const,
        resourceBody: { id: `${prefix}${i}`, tenantId: 'T' },
      }));
    // 100 creates of ~5 RU each, twice in a row: 1000 RU in well under a second.
    const roomy = database.container('unprovisioned');
    for (const prefix of ['a', 'b'])
      expect((await roomy.items.bulk(bulk(prefix))).every((r) => r.statusCode === 201)).toBe(true);
    // 400 RU/s: one second pays for 80 of the 100 creates; the other 20 are throttled one by one (Azure's partial
    // bulk throttling, test/local/cosmos-bulk-throttling.test.ts).
    const tight = database.container('provisioned');
    const statuses = (await tight.items.bulk(bulk('a'))).map((r) => r.statusCode);
    expect(statuses).toEqual([...Array<number>(80).fill(201), ...Array<number>(20).fill(429)]);
  });

  it('with partial bulk throttling off: refuses a whole bulk request with 429 when the container is over budget', async () => {
    emulator.cosmos.control.setPartialBulkThrottling(false);
    const { container: bulkTarget } = await emulator.client
      .database('app')
      .containers.createIfNotExists({ id: 'bulk-budget', partitionKey: { paths: ['/tenantId'] } });
    emulator.cosmos.control.setThroughput('app', 'bulk-budget', 50);
    const ops = (prefix: string) =>
      Array.from({ length: 50 }, (_, i) => ({
        operationType: 'Create' as const,
        resourceBody: { id: `${prefix}${i}`, tenantId: 'T' },
      }));
    // A full bucket admits one request however expensive (250 RU), leaving the container in debt...
    const first = await bulkTarget.items.bulk(ops('a'));
    expect(first.every((r) => r.statusCode === 201)).toBe(true);
    // ...so the next bulk request is refused as a whole, and nothing of it is written.
    await expect(bulkTarget.items.bulk(ops('b'))).rejects.toThrow(/Request rate is large/);
    const { resources } = await bulkTarget.items
      .query("SELECT VALUE COUNT(1) FROM c WHERE STARTSWITH(c.id, 'b')")
      .fetchAll();
    expect(resources).toEqual([0]);
    emulator.cosmos.control.setPartialBulkThrottling(true);
  });
});

describe('fault injection', () => {
  it('injects 429s on the chosen operation kind, with the given retry-after', async () => {
    await container.items.upsert({ id: 'f', tenantId: 'T' });
    const impatient = emulator.newClient({ maxRetryAttemptCount: 2 }).database('app').container('ru');
    emulator.cosmos.control.setFaults([{ kinds: ['read'], throttleProbability: 1, retryAfterMs: 5 }]);
    const before = emulator.cosmos.control.stats().injected.throttle;
    await expect(impatient.item('f', 'T').read()).rejects.toMatchObject({ code: 429 });
    expect(emulator.cosmos.control.stats().injected.throttle - before).toBe(3);
    // Writes are not targeted.
    expect((await impatient.items.upsert({ id: 'f', tenantId: 'T', v: 2 })).statusCode).toBe(200);
    emulator.cosmos.control.setFaults([]);
    expect((await impatient.item('f', 'T').read()).statusCode).toBe(200);
  });

  it('injects 503s, latency and timeouts', async () => {
    emulator.cosmos.control.setFaults([{ kinds: ['write'], unavailableProbability: 1 }]);
    await expect(container.items.create({ id: 'never', tenantId: 'T' })).rejects.toMatchObject({ code: 503 });
    expect((await container.item('never', 'T').read()).statusCode).toBe(404);

    emulator.cosmos.control.setFaults([{ kinds: ['query'], latencyMs: 300 }]);
    const started = performance.now();
    await container.items.query("SELECT * FROM c WHERE c.id = 'f'").fetchAll();
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);

    // A timed-out write: no answer, the connection dropped after timeoutHangMs, nothing written.
    emulator.cosmos.control.setFaults([{ kinds: ['write'], timeoutProbability: 1, timeoutHangMs: 100 }]);
    const before = emulator.cosmos.control.stats().injected.timeout;
    await expect(container.items.create({ id: 'lost', tenantId: 'T' })).rejects.toThrow();
    emulator.cosmos.control.setFaults([]);
    expect((await container.item('lost', 'T').read()).statusCode).toBe(404);
    expect(emulator.cosmos.control.stats().injected.timeout - before).toBe(1);
  });

  it('drops connections: before the operation (nothing written) or after it (written, the answer lost)', async () => {
    // @azure/cosmos retries a reset connection only for reads and queries (retry/defaultRetryPolicy.js, needsRetry):
    // a write sees the reset, and whoever wrote must find out whether it was applied.
    const once = container;
    const before = emulator.cosmos.control.stats().injected;
    emulator.cosmos.control.setFaults([{ kinds: ['write'], dropProbability: 1 }]);
    await expect(once.items.create({ id: 'dropped', tenantId: 'T' })).rejects.toThrow();
    emulator.cosmos.control.setFaults([{ kinds: ['write'], dropResponseProbability: 1 }]);
    await expect(once.items.create({ id: 'applied', tenantId: 'T' })).rejects.toThrow();
    emulator.cosmos.control.setFaults([]);
    expect((await container.item('dropped', 'T').read()).statusCode).toBe(404);
    expect((await container.item('applied', 'T').read()).statusCode).toBe(200);
    const after = emulator.cosmos.control.stats().injected;
    expect([after.drop - before.drop, after.dropResponse - before.dropResponse]).toEqual([1, 1]);
  });
});

describe('seeded faults', () => {
  /** Which of 40 reads are throttled, through an SDK client that does not retry. */
  const throttledReads = async (): Promise<boolean[]> => {
    const once = emulator.newClient({ maxRetryAttemptCount: 0 }).database('app').container('ru');
    const outcome: boolean[] = [];
    for (let i = 0; i < 40; i++) {
      outcome.push(
        await once
          .item('s', 'T')
          .read()
          .then(
            () => false,
            (err: { code?: number }) => err.code === 429
          )
      );
    }
    return outcome;
  };

  it('replays the same draws from the same seed, and other draws from another', async () => {
    await container.items.upsert({ id: 's', tenantId: 'T' });
    const rules = [{ kinds: ['read' as const], throttleProbability: 0.5, retryAfterMs: 1 }];
    emulator.cosmos.control.setFaults(rules, 1234);
    expect(emulator.cosmos.control.stats().faultSeed).toBe(1234);
    const first = await throttledReads();
    emulator.cosmos.control.setFaults(rules, 1234);
    const again = await throttledReads();
    emulator.cosmos.control.setFaults(rules, 99);
    const other = await throttledReads();
    // Half are throttled (neither all nor none: a generator stuck at 0 or 1 fails), in the same order again.
    expect(first.filter(Boolean).length).toBeGreaterThan(5);
    expect(first.filter(Boolean).length).toBeLessThan(35);
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
  });
});

describe('control endpoints over HTTPS', () => {
  const call = (method: string, path: string, body?: unknown, key: string | null = emulator.cosmos.key) =>
    new Promise<{ status: number; body: unknown }>((resolve, reject) => {
      const req = https.request(
        new URL(path, emulator.cosmos.endpoint),
        { method, ca: emulator.certificate.cert, headers: key ? { 'x-local-key': key } : {} },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
        }
      );
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });

  it('set the seed of the fault draws with ?seed= and name it in the answer and in the stats', async () => {
    const seeded = await new Promise<{ status: number; seed: string | undefined }>((resolve, reject) => {
      const req = https.request(
        new URL('/_local/faults?seed=42', emulator.cosmos.endpoint),
        { method: 'PUT', ca: emulator.certificate.cert, headers: { 'x-local-key': emulator.cosmos.key } },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode!, seed: res.headers['x-local-fault-seed'] as string }));
        }
      );
      req.on('error', reject);
      req.end('[]');
    });
    expect(seeded).toEqual({ status: 200, seed: '42' });
    expect((await call('GET', '/_local/stats')).body).toMatchObject({ faultSeed: 42 });
    const bad = await call('PUT', '/_local/faults?seed=-1', []);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('seed');
  });

  it('switch the RU model and the faults, and refuse callers without the key', async () => {
    expect((await call('GET', '/_local/ru', undefined, 'wrong')).status).toBe(401);
    expect((await call('PUT', '/_local/faults', [], null)).status).toBe(401);

    const ru = await call('PUT', '/_local/ru', {
      enabled: true,
      defaultThroughput: 400,
      throughput: { 'app/ru': 1000 },
    });
    expect(ru).toEqual({
      status: 200,
      body: expect.objectContaining({
        enabled: true,
        defaultThroughput: 400,
        throughput: expect.objectContaining({ 'app/ru': 1000 }),
      }),
    });
    const off = await call('PUT', '/_local/ru', { enabled: false });
    expect(off.body).toMatchObject({ enabled: false, defaultThroughput: 400 });
    expect((await container.items.upsert({ id: 'c', tenantId: 'T', data: payload(3) })).requestCharge).toBe(1);

    const bad = await call('PUT', '/_local/faults', [{ throttleProbability: 2 }]);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('throttleProbability');
    const dropping = await call('PUT', '/_local/faults', [{ kinds: ['write'], dropProbability: 1 }]);
    expect(dropping.status).toBe(200);
    await expect(container.items.upsert({ id: 'c', tenantId: 'T' })).rejects.toThrow();

    const rules = [{ kinds: ['write'], unavailableProbability: 1 }];
    expect(await call('PUT', '/_local/faults', rules)).toEqual({ status: 200, body: rules });
    expect((await call('GET', '/_local/faults')).body).toEqual(rules);
    await expect(container.items.upsert({ id: 'c', tenantId: 'T' })).rejects.toMatchObject({ code: 503 });
    await call('PUT', '/_local/faults', []);
    expect((await container.items.upsert({ id: 'c', tenantId: 'T' })).statusCode).toBe(200);
    expect((await call('GET', '/_local/stats')).body).toMatchObject({
      injected: expect.objectContaining({ unavailable: expect.any(Number) }),
    });
  });
});

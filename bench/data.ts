/**
 * The bench's data: containers created through ARM with a throughput that gives them physical partitions (the
 * emulator lays out ⌈RU/s ÷ 10 000⌉ ranges), seeded with documents of about 1 KB at schemaVersion 1.
 */
import { BulkOperationType, type Container, type JSONObject, type OperationInput } from '@azure/cosmos';
import { isThrottled } from '../activities/cosmos/requests';
import type { BenchEnv } from './env';

export const DATABASE = 'bench';
export const PAGE_SIZE = 100;

export type Doc = { id: string; tenantId: string; [field: string]: unknown };

/** About 1 KB as JSON with the system properties: a customer with an address, some history and notes. */
export function document(i: number): Doc {
  return {
    id: `c-${String(i).padStart(7, '0')}`,
    tenantId: `t-${i % 1000}`,
    name: `Customer ${i}`,
    email: `customer${i}@example.test`,
    orders: (i * 7) % 97,
    address: { street: `${i} Main Street`, city: 'Springfield', zip: String(10000 + (i % 9000)), country: 'US' },
    tags: ['retail', i % 2 ? 'online' : 'store', `region-${i % 12}`],
    notes: 'x'.repeat(620),
    schemaVersion: 1,
  };
}

let databaseReady = false;

/** A new container (deleted first if it exists) with `throughput` RU/s through ARM, so it has its partitions. */
export async function createContainer(env: BenchEnv, name: string, throughput: number): Promise<Container> {
  const { resourceGroup, account } = env.settings;
  const poll = { updateIntervalInMs: 50 };
  if (!databaseReady) {
    await env.arm.sqlResources.beginCreateUpdateSqlDatabaseAndWait(
      resourceGroup,
      account,
      DATABASE,
      { resource: { id: DATABASE }, options: {} },
      poll
    );
    databaseReady = true;
  }
  await env.arm.sqlResources
    .beginDeleteSqlContainerAndWait(resourceGroup, account, DATABASE, name, poll)
    .catch(() => undefined);
  await env.arm.sqlResources.beginCreateUpdateSqlContainerAndWait(
    resourceGroup,
    account,
    DATABASE,
    name,
    { resource: { id: name, partitionKey: { paths: ['/tenantId'], kind: 'Hash' } }, options: { throughput } },
    poll
  );
  return env.cosmos.database(DATABASE).container(name);
}

/** Deletes a container the bench is done with, so the emulator's memory holds one figure's data at a time. */
export async function dropContainer(env: BenchEnv, name: string): Promise<void> {
  const { resourceGroup, account } = env.settings;
  await env.arm.sqlResources
    .beginDeleteSqlContainerAndWait(resourceGroup, account, DATABASE, name, { updateIntervalInMs: 50 })
    .catch(() => undefined);
}

async function bulkCreate(container: Container, docs: Doc[]): Promise<void> {
  let todo = docs;
  while (todo.length > 0) {
    const ops: OperationInput[] = todo.map((d) => ({
      operationType: BulkOperationType.Upsert,
      partitionKey: d.tenantId,
      resourceBody: d as unknown as JSONObject,
    }));
    try {
      const responses = await container.items.bulk(ops);
      const again = todo.filter((_, i) => responses[i]?.statusCode === 429);
      const bad = responses.find((r) => r.statusCode >= 300 && r.statusCode !== 429);
      if (bad) throw new Error(`seed: upsert failed with ${bad.statusCode}`);
      todo = again;
    } catch (err) {
      if (!isThrottled(err)) throw err;
    }
    if (todo.length > 0) await new Promise((r) => setTimeout(r, 100));
  }
}

/** Documents `from` ..< `to`, `inFlight` bulk requests at once. */
export async function seed(container: Container, to: number, from = 0, inFlight = 3): Promise<void> {
  let next = from;
  const one = async () => {
    for (;;) {
      const start = next;
      next += PAGE_SIZE;
      if (start >= to) return;
      const docs = Array.from({ length: Math.min(PAGE_SIZE, to - start) }, (_, k) => document(start + k));
      await bulkCreate(container, docs);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, one));
}

/** Documents still at schemaVersion 1 (an aggregate per range through the SDK's query plan). */
export async function remainingAtOldVersion(container: Container): Promise<number> {
  const { resources } = await container.items
    .query<number>('SELECT VALUE COUNT(1) FROM c WHERE c.schemaVersion = 1')
    .fetchAll();
  return resources.reduce((a, b) => a + b, 0);
}

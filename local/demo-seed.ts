/**
 * Demo data for migration 001-split-customer-name: customers written before versioning (no schemaVersion field).
 * Shape: { id: "cust-00042", tenantId: "tenant-3", name: "Ada Lovelace", email: "ada.lovelace.42@example.com",
 * notes: "..." }, in a container partitioned by /tenantId. Deterministic: the same n gives the same documents.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BulkOperationType, type Container, type OperationInput } from '@azure/cosmos';

const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Margaret', 'Dennis'];
const LAST = [
  'Lovelace',
  'Hopper',
  'Turing',
  'Dijkstra',
  'Liskov',
  'Knuth',
  'Allen',
  'Thompson',
  'Hamilton',
  'Ritchie',
];

export const DEMO_DATABASE = 'demo';
export const DEMO_CONTAINER = 'customers';
export const DEMO_PARTITION_KEY = '/tenantId';

export interface DemoCustomer {
  id: string;
  tenantId: string;
  name: string;
  email: string;
  notes: string;
}

export function demoCustomer(i: number, tenants = 5): DemoCustomer {
  const first = FIRST[i % FIRST.length]!;
  const last = LAST[Math.floor(i / FIRST.length) % LAST.length]!;
  // Every 25th customer has a two-word last name, so the split is not always the obvious one.
  const name = i % 25 === 24 ? `${first} van ${last}` : `${first} ${last}`;
  return {
    id: `cust-${String(i).padStart(5, '0')}`,
    tenantId: `tenant-${(i % tenants) + 1}`,
    name,
    email: `${first}.${last}.${i}@example.com`.toLowerCase(),
    notes: `customer since ${2010 + (i % 15)}`,
  };
}

/** Upserts n demo customers (ids cust-00000 …) with bulk calls of 100; returns how many were written. */
export async function seedDemoCustomers(container: Container, n: number, tenants = 5): Promise<number> {
  let written = 0;
  for (let start = 0; start < n; start += 100) {
    const operations: OperationInput[] = [];
    for (let i = start; i < Math.min(n, start + 100); i += 1) {
      const doc = demoCustomer(i, tenants);
      operations.push({
        operationType: BulkOperationType.Upsert,
        partitionKey: doc.tenantId,
        resourceBody: { ...doc },
      });
    }
    let throttled = 0;
    let todo = operations;
    for (;;) {
      try {
        const results = await container.items.bulk(todo);
        const failed = results.filter((r) => r.statusCode >= 300 && r.statusCode !== 429);
        if (failed.length > 0)
          throw new Error(`seeding demo customers: ${failed.length} upserts failed (status ${failed[0]!.statusCode})`);
        // Operations throttled inside the request (the partition's RU ran out part way, as on Azure): send them again.
        const again = todo.filter((_, k) => results[k]!.statusCode === 429);
        written += todo.length - again.length;
        todo = again;
        if (todo.length === 0) break;
        throttled += 1;
        await sleep(Math.min(2000, 100 * 2 ** throttled));
      } catch (err) {
        // A whole bulk request throttled (the RU model): items.bulk rethrows it as a plain Error, so the message
        // is the only sign. Back off and send it again.
        if (/Request rate is large/.test((err as Error).message)) {
          throttled += 1;
          await sleep(Math.min(2000, 100 * 2 ** throttled));
          continue;
        }
        throw err;
      }
    }
  }
  return written;
}

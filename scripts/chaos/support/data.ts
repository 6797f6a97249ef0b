/**
 * The chaos cases' data: customers seeded with bulk upserts, a migration module whose transform counts its own
 * applications in the document (`transformCount`: a document transformed twice shows 2), and a scan of every
 * document's counters (a projection, so 50 000 documents stay small).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { BulkOperationType, type Container, type OperationInput } from '@azure/cosmos';
import { isThrottled } from '../../../activities/cosmos/requests';
import type { ChaosStack } from './stack';

export interface Customer {
  id: string;
  tenant: string;
  name: string;
}

export function customer(i: number): Customer {
  return { id: `c-${i}`, tenant: `t${i % 97}`, name: `First${i} Last${i}` };
}

/** Upserts customers 0..n-1, 100 per bulk call, 3 calls at once; a throttled call is sent again (upserts are idempotent). */
export async function seedCustomers(container: Container, n: number): Promise<void> {
  let next = 0;
  const loop = async () => {
    for (let start = (next += 100) - 100; start < n; start = (next += 100) - 100) {
      const ops: OperationInput[] = [];
      for (let i = start; i < Math.min(n, start + 100); i++) {
        const doc = customer(i);
        ops.push({ operationType: BulkOperationType.Upsert, partitionKey: doc.tenant, resourceBody: { ...doc } });
      }
      for (;;) {
        const results = await container.items.bulk(ops).catch((err: unknown) => {
          if (isThrottled(err)) return undefined;
          throw err;
        });
        const bad = results?.filter((r) => r.statusCode >= 300) ?? [{ statusCode: 429 }];
        if (bad.length === 0) break;
        if (bad.some((r) => r.statusCode !== 429)) throw new Error(`seed: upsert answered ${bad[0]!.statusCode}`);
        await sleep(100);
      }
    }
  };
  await Promise.all([loop(), loop(), loop()]);
}

/**
 * A module `fromVersion → toVersion` that increments `countField` on every application and, from version 1, splits
 * `name`. `verifyFails` makes verify() reject every document (the run then rolls back); no down(), so the rollback
 * is the surgical revert from the pre-images the run keeps.
 */
export function countingModule(o: {
  id: string;
  database: string;
  container: string;
  fromVersion: number;
  toVersion: number;
  countField: string;
  verifyFails?: boolean;
}): string {
  return `module.exports = {
  id: ${JSON.stringify(o.id)},
  description: 'chaos: counts its own applications in ${o.countField}',
  database: ${JSON.stringify(o.database)},
  container: ${JSON.stringify(o.container)},
  fromVersion: ${o.fromVersion},
  toVersion: ${o.toVersion},
  up(doc) {
    const out = { ...doc, ${o.countField}: (doc.${o.countField} || 0) + 1, schemaVersion: ${o.toVersion} };
    if (typeof doc.name === 'string') {
      const [first, ...rest] = doc.name.split(' ');
      out.first = first;
      out.last = rest.join(' ');
      delete out.name;
    }
    return out;
  },
  verify(doc) {
    ${o.verifyFails ? `return 'chaos: this run is meant to roll back';` : `return doc.${o.countField} === 1 || '${o.countField} is ' + doc.${o.countField};`}
  },
};
`;
}

/**
 * The two modules of a case, written before its workers start (a worker loads MIGRATIONS_DIR once): run 1 migrates
 * 1 → 2 counting in `transformCount`, run 2 goes 2 → 3 counting in `nextCount` (with `secondVerifyFails`, its
 * verification rejects every document, so it rolls back). Returns their ids.
 */
export function writeRunModules(
  stack: Pick<ChaosStack, 'writeMigration'>,
  target: { database: string; container: string },
  options: { secondPrefix?: string; secondVerifyFails?: boolean } = {}
): { up: string; next: string } {
  const up = `chaos-up-${randomUUID().slice(0, 6)}`;
  const next = `${options.secondPrefix ?? 'chaos-next'}-${randomUUID().slice(0, 6)}`;
  stack.writeMigration(
    `${up}.js`,
    countingModule({ ...target, id: up, fromVersion: 1, toVersion: 2, countField: 'transformCount' })
  );
  stack.writeMigration(
    `${next}.js`,
    countingModule({
      ...target,
      id: next,
      fromVersion: 2,
      toVersion: 3,
      countField: 'nextCount',
      ...(options.secondVerifyFails ? { verifyFails: true } : {}),
    })
  );
  return { up, next };
}

export type Row = Record<string, unknown> & { id: string };

/** Every document's id and the given fields, read with one cross-partition query. */
export async function scan(container: Container, fields: string[]): Promise<Row[]> {
  const select = ['c.id', ...fields.map((f) => `c.${f}`)].join(', ');
  const rows: Row[] = [];
  const iterator = container.items.query<Row>(`SELECT ${select} FROM c`, { maxItemCount: 5000 });
  while (iterator.hasMoreResults()) rows.push(...((await iterator.fetchNext()).resources ?? []));
  return rows;
}

/** How many of customers 0..n-1 are missing from `byId`. */
export function countMissing(n: number, byId: Map<string, Row>): number {
  let missing = 0;
  for (let i = 0; i < n; i++) if (!byId.has(customer(i).id)) missing += 1;
  return missing;
}

/** Whether a document has exactly the fields (of the projection) it had before. */
export function sameRow(now: Row, before: Row | undefined): boolean {
  if (!before) return false;
  const keys = new Set([...Object.keys(now), ...Object.keys(before)]);
  for (const k of keys) if (JSON.stringify(now[k]) !== JSON.stringify(before[k])) return false;
  return true;
}

/** The fields the chaos modules touch: what "the data" means when comparing before and after. */
export const FIELDS = ['schemaVersion', 'transformCount', 'nextCount', 'first', 'last', 'name', 'appWrites'];

/** Every document of the container, system fields removed, sorted by id. */
export async function documents(container: Container): Promise<Record<string, unknown>[]> {
  const { resources } = await container.items.readAll<Record<string, unknown>>().fetchAll();
  return resources
    .map((doc) => Object.fromEntries(Object.entries(doc).filter(([key]) => !key.startsWith('_'))))
    .sort((a, b) => String(a.id).localeCompare(String(b.id)));
}

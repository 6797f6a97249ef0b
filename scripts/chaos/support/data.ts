/**
 * The chaos cases' data: customers seeded with bulk upserts, a migration module whose transform counts its own
 * applications in the document (`transformCount`), every document read whole, and the writes the emulator
 * acknowledged per document, read from its backup log: figures computed from the data, outside the product. A second
 * write of the same result (invisible in `transformCount`) shows in the log.
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { BulkOperationType, type Container, type OperationInput } from '@azure/cosmos';
import { isThrottled } from '../../../activities/cosmos/requests';
import type { ChaosStack } from './stack';
import { LOG_FILE, type LogEvent } from '../../../local/cosmos/backup-log';
import { sameValue } from '../../../activities/cosmos/content';
import type { EmulatorAdmin } from '../../../local/cosmos/types';

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
  /**
   * With a `down()` that undoes `up()` exactly (only for a module that does not split `name`, fromVersion > 1): the
   * plan proves it, and a rollback gives documents the application changed since back through it instead of leaving
   * them at the new version for the operator (docs/runbook.md "Rollback").
   */
  reversible?: boolean;
}): string {
  if (o.reversible && o.fromVersion === 1) throw new Error('countingModule: a reversible module may not split name');
  const down = o.reversible
    ? `
  down(doc) {
    const out = { ...doc, schemaVersion: ${o.fromVersion} };
    if ((doc.${o.countField} || 0) > 1) out.${o.countField} = doc.${o.countField} - 1;
    else delete out.${o.countField};
    return out;
  },`
    : '';
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
  },${down}
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
  options: { secondPrefix?: string; secondVerifyFails?: boolean; secondReversible?: boolean } = {}
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
      ...(options.secondReversible ? { reversible: true } : {}),
    })
  );
  return { up, next };
}

export type Row = Record<string, unknown> & { id: string };

/** How many of customers 0..n-1 are missing from `byId`. */
export function countMissing(n: number, byId: Map<string, Row>): number {
  let missing = 0;
  for (let i = 0; i < n; i++) if (!byId.has(customer(i).id)) missing += 1;
  return missing;
}

/** Whether two documents are the same whole document (system fields aside; key order aside). */
export function sameDocument(now: Row, before: Row | undefined): boolean {
  return before !== undefined && sameValue(now, before);
}

/**
 * Every document of the container, whole, system fields removed, sorted by id: as the primary holds it (the
 * emulator's admin), since the chaos account's replicas lag (Session consistency, 200 ms) and this process has no
 * session token for the workers' writes.
 */
export async function documents(container: Container, primary: EmulatorAdmin): Promise<Row[]> {
  const resources = (await primary.listDocuments(container.database.id, container.id)) as Row[];
  return resources
    .map((doc) => Object.fromEntries(Object.entries(doc).filter(([key]) => !key.startsWith('_'))) as Row)
    .sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * Per document id, the writes the emulator acknowledged in `database/container` whose resulting document matches
 * `which`, read from the emulator's backup log (local/cosmos/backup-log.ts: every acknowledged write, as it resulted).
 * Read it right after the run it measures: later runs and restores append to it.
 */
export async function loggedWrites(
  stackDir: string,
  target: { database: string; container: string },
  which: (doc: Record<string, unknown>) => boolean
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const lines = readline.createInterface({ input: fs.createReadStream(path.join(stackDir, 'cosmos', LOG_FILE)) });
  for await (const line of lines) {
    if (!line.includes('"type":"document"')) continue;
    const event = JSON.parse(line) as LogEvent;
    if (event.type !== 'document' || event.op !== 'Upsert' || !event.doc) continue;
    if (event.db !== target.database || event.coll !== target.container || !which(event.doc)) continue;
    counts.set(event.id, (counts.get(event.id) ?? 0) + 1);
  }
  return counts;
}

/** From loggedWrites of customers 0..n-1: how many were written more than once, and how many never. */
export function writtenOnce(n: number, writes: Map<string, number>): { twice: number; never: number } {
  let twice = 0;
  let never = 0;
  for (let i = 0; i < n; i++) {
    const count = writes.get(customer(i).id) ?? 0;
    if (count > 1) twice += 1;
    if (count === 0) never += 1;
  }
  return { twice, never };
}

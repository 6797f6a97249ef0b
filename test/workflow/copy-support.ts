/**
 * The copy mode's stack tests (copy-mode, copy-limits, test/scale/copy-split-backfill): the accounts they seed, the
 * module that copies them by /tenant, what the target and the source must hold (computed here, independently of the
 * engine), the applications that write to the source and the target, and waits that fail at once on a pause.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import type { Container } from '@azure/cosmos';
import type { WorkflowHandle } from '@temporalio/client';
import type { RunbookStatus } from '../../common/status';
import { migrationRunbook } from '../../workflows';
import { statusQuery } from '../../workflows/messages';
import { MARKER, type Doc, type Harness } from './harness';

export type Account = Doc & { accountNo: string; org: string; balance: number; schemaVersion: number; note: string };
export type Placed = Account & { tenant: string };

/**
 * The module under test: `tenant` derived from `org`; `accountNo`, the source's partition key, kept. `targetExtra`
 * adds fields to `target` (e.g. `throughput: 1000, throughputAfterCopy: 400`).
 */
export function repartitionModule(
  id: string,
  database: string,
  source: string,
  target: string,
  targetExtra = ''
): string {
  return `module.exports = {
  id: ${JSON.stringify(id)},
  description: 'accounts by tenant',
  database: ${JSON.stringify(database)},
  container: ${JSON.stringify(source)},
  fromVersion: 1,
  toVersion: 2,
  target: { container: ${JSON.stringify(target)}, partitionKey: '/tenant'${targetExtra ? `, ${targetExtra}` : ''} },
  up(doc) { return { ...doc, tenant: 'tenant-' + doc.org }; },
  down(doc) { const back = { ...doc }; delete back.tenant; return back; },
};
`;
}

/** What the target must hold for a source document. */
export function expectedCopy(doc: Doc): Doc {
  return { ...doc, tenant: `tenant-${String(doc.org)}`, schemaVersion: 2 };
}

/** What the source must hold again for a target document after the reverse sync: down() of it, at fromVersion. */
export function expectedBack(doc: Doc): Doc {
  const back: Doc = { ...doc, schemaVersion: 1 };
  delete back.tenant;
  return back;
}

export function account(i: number, org = `o${i % 17}`): Account {
  return { id: `acct-${i}`, accountNo: `A-${i % 400}`, org, balance: i, schemaVersion: 1, note: MARKER };
}

export const byId = (docs: Doc[]) => [...docs].sort((a, b) => a.id.localeCompare(b.id));

/** Whether `container` exists, read through @azure/cosmos (a 404 is false). */
export async function containerExists(h: Harness, database: string, container: string): Promise<boolean> {
  return h.cosmos
    .database(database)
    .container(container)
    .read()
    .then(
      () => true,
      (err: { code?: number }) => {
        if (err.code === 404) return false;
        throw err;
      }
    );
}

/** `n` accounts in a new container partitioned by /accountNo (with `throughput`, physical partitions). */
export async function seedSource(
  h: Harness,
  n: number,
  throughput?: number
): Promise<{ database: string; source: string; docs: Account[] }> {
  const { database, container: source } = await h.seed([], {
    container: 'accounts',
    partitionKey: '/accountNo',
    ...(throughput !== undefined ? { throughput } : {}),
  });
  const docs = Array.from({ length: n }, (_, i) => account(i));
  const c = h.cosmos.database(database).container(source);
  for (let i = 0; i < docs.length; i += 50) await Promise.all(docs.slice(i, i + 50).map((d) => c.items.create(d)));
  return { database, source, docs };
}

export async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/**
 * The application on the source: creates (ids from `firstNewId`), updates (some move the account to another org) and
 * deletes, keeping `model` as what the source must hold.
 */
export function sourceApplication(source: Container, model: Map<string, Account>, firstNewId: number) {
  let stopped = false;
  let ops = 0;
  let next = firstNewId;
  const loop = (async () => {
    while (!stopped) {
      const keys = [...model.keys()];
      const pick = model.get(keys[(ops * 7919) % keys.length]!)!;
      const kind = ops % 5;
      if (kind <= 1) {
        const doc = account(next++);
        await source.items.create(doc);
        model.set(doc.id, doc);
      } else if (kind <= 3) {
        const doc = { ...pick, balance: pick.balance + 1000, ...(ops % 4 === 2 ? { org: `moved-${ops}` } : {}) };
        await source.item(pick.id, pick.accountNo).replace(doc);
        model.set(doc.id, doc);
      } else {
        await source.item(pick.id, pick.accountNo).delete();
        model.delete(pick.id);
      }
      ops += 1;
      await sleep(5);
    }
  })();
  return {
    ops: () => ops,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

/** A burst of updates to `n` accounts, the application's last writes before the cutover. */
export async function lastWrites(source: Container, model: Map<string, Account>, n: number): Promise<void> {
  const picked = [...model.values()].slice(0, n);
  await Promise.all(
    picked.map(async (pick) => {
      const doc = { ...pick, balance: pick.balance + 1 };
      await source.item(pick.id, pick.accountNo).replace(doc);
      model.set(doc.id, doc);
    })
  );
}

export function startCopy(
  h: Harness,
  taskQueue: string,
  migration: string,
  extra: Record<string, unknown> = {}
): Promise<WorkflowHandle<typeof migrationRunbook>> {
  return h.client.workflow.start(migrationRunbook, {
    taskQueue,
    workflowId: `copy-${randomUUID()}`,
    args: [
      {
        migration,
        approval: { required: false },
        batchSize: 50,
        // Long enough for the application to write to the target after the cutover; a rollback ends it.
        monitor: { duration: '10m', interval: '1s' },
        ...extra,
      },
    ],
  });
}

/**
 * The run's report once it ends; a run that pauses instead (a failed verification, a failed step) fails the test at
 * once with the pause's reason, rather than waiting for the test's timeout.
 */
export async function endOf(handle: WorkflowHandle<typeof migrationRunbook>) {
  await until('the run to end', async () => {
    const status = await handle.query(statusQuery);
    if (status.phase === 'paused') throw new Error(`the run paused: ${status.lastError ?? ''}`);
    return ['completed', 'rolled-back', 'rollback-failed', 'aborted', 'failed'].includes(status.phase);
  });
  return handle.result();
}

/** Like waitForPhase, but a pause fails at once with its reason. */
export async function reach(handle: WorkflowHandle<typeof migrationRunbook>, phase: RunbookStatus['phase']) {
  let last: RunbookStatus | undefined;
  await until(`phase ${phase}`, async () => {
    last = await handle.query(statusQuery).catch(() => undefined);
    if (last?.phase === 'paused') throw new Error(`the run paused: ${last.lastError ?? ''}`);
    return last?.phase === phase;
  });
  return last!;
}

/**
 * The rollback by pre-images, per document, as a user meets it: a migration that splits `name` into `first`/`last`
 * (fields that derive from each other) completes, the application edits, deletes, re-creates and creates documents,
 * and a `rollback` comes. Every untouched document is exactly its pre-image; every document the application wrote is
 * exactly as it wrote it (no proved down(): named, and the run waits for the operator to accept them) or exactly
 * `down(live)` (a proved down(): nothing left); no document mixes the two versions or carries a deleted document.
 * The container is never deleted.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import type { Container } from '@azure/cosmos';
import { migrationRunbook } from '../../workflows';
import { approveSignal, rollbackSignal, setBudgetUpdate } from '../../workflows/messages';
import { historyToJSON } from '../support/history-json';
import { decodedHistory } from '../support/payloads';
import {
  Harness,
  MARKER,
  customers,
  saveHistory,
  scheduledInputs,
  splitNameModule,
  waitForDecision,
  waitForPhase,
  type Doc,
} from './harness';

let h: Harness;
beforeAll(async () => {
  h = await Harness.start();
}, 180_000);
afterAll(async () => {
  await h?.close();
});

/** Corrupts `name` (and adds a field), no down(); verify() rejects the corruption, so verification fails. */
function corruptingModule(id: string, database: string): string {
  return `module.exports = {
  id: ${JSON.stringify(id)}, description: 'corrupt names', database: ${JSON.stringify(database)}, container: 'customers',
  fromVersion: 1, toVersion: 2,
  up(doc) {
    const t = Date.now(); while (Date.now() - t < 15) {}
    return { ...doc, name: String(doc.name).toUpperCase() + '!!', legacy: true, schemaVersion: 2 };
  },
  verify(doc) { return doc.name.endsWith('!!') ? 'name corrupted' : true; },
};
`;
}

/** What a rolled-out application does after the migration; returns what it wrote, by id (deleted: null). */
async function rollout(container: Container): Promise<Map<string, Doc | null>> {
  const wrote = new Map<string, Doc | null>();
  const strip = ({ _rid, _self, _etag, _ts, _attachments, ...doc }: Doc) => doc;
  // A read-modify-write conditioned on the ETag it read, as a careful application does: its client has no token for
  // the worker's writes, so a replica that lags (LOCAL_COSMOS_SESSION_LAG_MS) may first show the document as it was
  // before the migration; the primary refuses that version with 412 and the application reads again.
  const edit = async (id: string, tenant: string, change: Record<string, unknown>): Promise<Doc> => {
    for (let attempt = 1; ; attempt++) {
      const current = (await container.item(id, tenant).read<Doc>()).resource!;
      const next: Doc = { ...strip(current), ...change };
      try {
        await container
          .item(id, tenant)
          .replace(next, { accessCondition: { type: 'IfMatch', condition: current._etag } });
        return next;
      } catch (err) {
        if ((err as { code?: number }).code !== 412 || attempt >= 1000) throw err;
      }
    }
  };
  // c-0001: the derived field edited (the new application writes `last`).
  wrote.set('c-0001', await edit('c-0001', 't1', { last: 'Byron' }));
  // c-0002: a field the migration does not touch.
  wrote.set('c-0002', await edit('c-0002', 't2', { visits: 4 }));
  // c-0003: deleted.
  await container.item('c-0003', 't0').delete();
  wrote.set('c-0003', null);
  // c-0004: deleted, and another customer created under the same id, in the new shape.
  await container.item('c-0004', 't1').delete();
  const four = { id: 'c-0004', tenant: 't1', first: 'Grace', last: 'Hopper', schemaVersion: 2 };
  await container.items.create(four);
  wrote.set('c-0004', four);
  // A new customer in the new shape.
  const created = { id: 'c-new', tenant: 't0', first: 'New', last: 'One', schemaVersion: 2 };
  await container.items.create(created);
  wrote.set('c-new', created);
  return wrote;
}

/** down() of the split-name module, as the test harness's module writes it. */
function down(doc: Doc): Doc {
  const out: Doc = { ...doc, name: [doc.first, doc.last].join(' ') };
  delete out.first;
  delete out.last;
  delete out.schemaVersion;
  return out;
}

function strip(doc: Doc | undefined): Doc | undefined {
  if (!doc) return doc;
  const { _rid, _self, _etag, _ts, _attachments, ...rest } = doc;
  void [_rid, _self, _etag, _ts, _attachments];
  return rest;
}

/** Migrates, lets the application roll out, asks for a rollback; returns the handle and what the application wrote. */
async function migrateThenRollBack(opts: { down: boolean }) {
  const docs = customers(60);
  const { database, container } = await h.seed(docs);
  const id = `split-${randomUUID().slice(0, 6)}`;
  h.writeMigration(`${id}.js`, splitNameModule(id, database, { down: opts.down }));
  const live = h.cosmos.database(database).container(container);
  return { docs, database, container, id, live };
}

test('no down(): a rollback after an ordinary rollout gives every untouched document its pre-image, leaves every application write exactly as written and named, and waits for the operator to accept them', async () => {
  const { docs, database, container, id, live } = await migrateThenRollBack({ down: false });
  const w = await h.worker();
  let wrote = new Map<string, Doc | null>();
  await w.worker.runUntil(async () => {
    const handle = await h.client.workflow.start(migrationRunbook, {
      taskQueue: w.taskQueue,
      workflowId: `surgical-${randomUUID()}`,
      args: [{ migration: id, approval: { required: false }, monitor: { duration: '10m', interval: '1s' } }],
    });
    await waitForPhase(handle, 'monitoring', 120_000);
    wrote = await rollout(live);
    await handle.signal(rollbackSignal, { reason: 'the release is bad' });
    const waiting = await waitForDecision(handle, 'accept-conflicts', 120_000);
    const pending = waiting.pendingDecision as { left: number; conflicts: { id: string; reason: string }[] };
    expect(pending.left).toBe(4);
    expect(pending.conflicts.map((c) => `${c.id}:${c.reason}`).sort()).toEqual([
      'c-0001:changed',
      'c-0002:changed',
      'c-0004:recreated',
      'c-new:created',
    ]);
    await handle.signal(approveSignal, { by: 'alice' });
    const report = await handle.result();
    expect(report.status).toBe('rolled-back');
    expect(report.rollback).toMatchObject({
      mode: 'preimages',
      ok: true,
      conflictsAcceptedBy: 'alice',
      revert: { reverted: 56, down: 0, conflicts: 4 },
    });
    expect(report.markdown).toContain('deleted and created again under the same id');
    const history = historyToJSON(await handle.fetchHistory());
    expect(decodedHistory(history)).not.toContain(MARKER);
    saveHistory('rollback-preimages.json', history);
    const child = historyToJSON(await h.client.workflow.getHandle(`${handle.workflowId}/rollback-1`).fetchHistory());
    expect(decodedHistory(child)).not.toContain(MARKER);
    expect(decodedHistory(child)).not.toMatch(/Byron|Hopper|First\d/);
    saveHistory('rollback-preimages-child.json', child);
  });
  const after = new Map((await h.documents(database, container)).map((d) => [d.id, d]));
  for (const doc of docs) {
    if (!wrote.has(doc.id))
      expect(strip(after.get(doc.id))).toEqual(doc); // exactly its pre-image
    else if (wrote.get(doc.id) === null)
      expect(after.has(doc.id)).toBe(false); // deleted: stays deleted
    else expect(strip(after.get(doc.id))).toEqual(wrote.get(doc.id)); // exactly as the application wrote it
  }
  expect(strip(after.get('c-new'))).toEqual(wrote.get('c-new'));
  for (const doc of after.values()) expect(doc.name !== undefined && doc.schemaVersion === 2).toBe(false);
});

test('with a proved down(): the same rollout is rolled back with nothing left at the new version and no gate', async () => {
  const { docs, database, container, id, live } = await migrateThenRollBack({ down: true });
  const w = await h.worker();
  let wrote = new Map<string, Doc | null>();
  await w.worker.runUntil(async () => {
    const handle = await h.client.workflow.start(migrationRunbook, {
      taskQueue: w.taskQueue,
      workflowId: `surgical-down-${randomUUID()}`,
      args: [
        {
          migration: id,
          approval: { required: false },
          monitor: { duration: '10m', interval: '1s' },
          preimages: true,
          rollback: 'preimages',
        },
      ],
    });
    await waitForPhase(handle, 'monitoring', 120_000);
    wrote = await rollout(live);
    await handle.signal(rollbackSignal, { reason: 'the release is bad' });
    const report = await handle.result();
    expect(report.status).toBe('rolled-back');
    expect(report.rollback).toMatchObject({
      mode: 'preimages',
      ok: true,
      revert: { reverted: 56, down: 4, conflicts: 0 },
    });
  });
  const after = new Map((await h.documents(database, container)).map((d) => [d.id, d]));
  for (const doc of docs) {
    if (!wrote.has(doc.id)) expect(strip(after.get(doc.id))).toEqual(doc);
    else if (wrote.get(doc.id) === null) expect(after.has(doc.id)).toBe(false);
    else expect(strip(after.get(doc.id))).toEqual(down(wrote.get(doc.id)!));
  }
  expect(after.get('c-0004')!.name).toBe('Grace Hopper'); // the re-created customer, never the deleted one
  expect(strip(after.get('c-new'))).toEqual(down(wrote.get('c-new')!));
  expect([...after.values()].filter((d) => d.schemaVersion === 2)).toEqual([]);
});

test('the rollback follows the live budget: a setBudget sent while it rolls back reaches the revert, which restarts its ranges with it', async () => {
  const docs = customers(120);
  const { database } = await h.seed(docs);
  const id = `corrupt-${randomUUID().slice(0, 6)}`;
  h.writeMigration(`${id}.js`, corruptingModule(id, database));
  const w = await h.worker();
  const workflowId = `surgical-budget-${randomUUID()}`;
  await w.worker.runUntil(async () => {
    const handle = await h.client.workflow.start(migrationRunbook, {
      taskQueue: w.taskQueue,
      workflowId,
      args: [
        {
          migration: id,
          approval: { required: false },
          monitor: { duration: '1s', interval: '1s' },
          batchSize: 5,
          // Slow enough that the revert is still reading when the new budget arrives.
          ruBudget: 150,
          tuning: { maxPagesPerActivity: 1000 },
        },
      ],
    });
    await waitForPhase(handle, 'rolling-back', 120_000);
    // Once the child reverts at the run's budget (a budget sent earlier is in its input already).
    const child = h.client.workflow.getHandle(`${workflowId}/rollback-1`);
    for (let i = 0; i < 600; i++) {
      const pending = await child.describe().then(
        (d) => d.raw.pendingActivities ?? [],
        () => []
      );
      if (pending.some((a) => a.activityType?.name === 'revertFromPreimages')) break;
      await sleep(100);
    }
    const answer = await handle.executeUpdate(setBudgetUpdate, { args: [{ ruPerSecond: 4000 }] });
    // "In force" only once the child says so: by the answer, it has restarted its ranges with the new budget.
    expect(answer).toMatchObject({ ruBudget: 4000, phase: 'rolling-back', inForce: true });
    const atAnswer = scheduledInputs<{ ruBudget?: number }>(await child.fetchHistory(), 'revertFromPreimages');
    expect(atAnswer.some((s) => (s.input.ruBudget ?? 0) > 150)).toBe(true);
    const report = await handle.result();
    expect(report.status).toBe('rolled-back');
    expect(report.rollback?.revert?.reverted).toBe(docs.length);
  });
  // The child's revert activities: the first ones at the run's budget, then (restarted) at the new one.
  const child = await h.client.workflow.getHandle(`${workflowId}/rollback-1`).fetchHistory();
  const budgets = scheduledInputs<{ ruBudget?: number }>(child, 'revertFromPreimages').map((s) => s.input.ruBudget);
  expect(budgets[0]).toBeLessThanOrEqual(150);
  expect(budgets.at(-1)).toBeGreaterThan(150);
  expect(Math.max(...budgets.map((b) => b ?? Infinity))).toBeLessThanOrEqual(4000);
});

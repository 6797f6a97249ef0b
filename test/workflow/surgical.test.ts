/**
 * The surgical rollback (issue "Rollback you can trust"): a corrupting migration with no down() keeps pre-images,
 * fails verification, and is rolled back by a three-way revert while the application writes throughout (patching a
 * field the migration does not touch, and creating documents): every document is as before the migration plus the
 * application's later writes, and every document the application created stays. The container is never deleted.
 */
import { randomUUID } from 'node:crypto';
import type { Container } from '@azure/cosmos';
import { migrationRunbook } from '../../workflows';
import { approveSignal, setBudgetUpdate } from '../../workflows/messages';
import { historyToJSON } from '../support/history-json';
import { decodedHistory } from '../support/payloads';
import { Harness, MARKER, customers, saveHistory, scheduledInputs, waitForPhase, type Doc } from './harness';

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

/** The application: patches `visits` (a field the migration does not touch) and creates new documents. */
function application(container: Container, ids: string[]) {
  let stop = false;
  const patched = new Map<string, number>();
  const created: Doc[] = [];
  const done = (async () => {
    for (let i = 0; !stop; i++) {
      const id = ids[i % ids.length]!;
      const tenant = `t${Number(id.slice(2)) % 3}`;
      try {
        const visits = (patched.get(id) ?? 0) + 1;
        await container.item(id, tenant).patch([{ op: 'set', path: '/visits', value: visits }]);
        patched.set(id, visits);
      } catch {
        // a 412/429 while the migration writes the same document: the next round tries again
      }
      if (i % 5 === 0) {
        const doc = { id: `app-${i}`, tenant: 't0', name: `Created ${i}`, schemaVersion: 2 };
        await container.items.create(doc).then(
          () => created.push(doc),
          () => undefined
        );
      }
    }
  })();
  return {
    patched,
    created,
    async stop() {
      stop = true;
      await done;
    },
  };
}

test('a corrupting migration with no down() is reverted from pre-images; the application writes survive', async () => {
  const docs = customers(60);
  const { database, container } = await h.seed(docs);
  const id = `corrupt-${randomUUID().slice(0, 6)}`;
  h.writeMigration(`${id}.js`, corruptingModule(id, database));
  const live = h.cosmos.database(database).container(container);
  const app = application(
    live,
    docs.map((d) => d.id)
  );
  const w = await h.worker();
  try {
    await w.worker.runUntil(async () => {
      const handle = await h.client.workflow.start(migrationRunbook, {
        taskQueue: w.taskQueue,
        workflowId: `surgical-${randomUUID()}`,
        args: [
          { migration: id, approval: { timeout: '1m' }, monitor: { duration: '1s', interval: '1s' }, batchSize: 10 },
        ],
      });
      const waiting = await waitForPhase(handle, 'awaiting-approval');
      expect(waiting.pendingDecision).toMatchObject({
        kind: 'approve',
        rollback: expect.stringContaining('pre-images'),
      });
      await handle.signal(approveSignal, { by: 'alice' });
      const report = await handle.result();
      expect(report.status).toBe('rolled-back');
      expect(report.rollback).toMatchObject({ mode: 'preimages', ok: true });
      // Documents the application patched since are merged, the others reverted; no field was changed by both.
      const revert = report.rollback?.revert;
      expect((revert?.reverted ?? 0) + (revert?.merged ?? 0)).toBe(docs.length);
      expect(revert?.conflicts).toBe(0);
      expect(report.markdown).toContain('merged with the application');
      const history = historyToJSON(await handle.fetchHistory());
      expect(decodedHistory(history)).not.toContain(MARKER);
      saveHistory('rollback-preimages.json', history);
      const child = historyToJSON(await h.client.workflow.getHandle(`${handle.workflowId}/rollback-1`).fetchHistory());
      expect(decodedHistory(child)).not.toContain(MARKER);
      saveHistory('rollback-preimages-child.json', child);
    });
  } finally {
    await app.stop();
  }
  const after = await h.documents(database, container);
  const byId = new Map(after.map((d) => [d.id, d]));
  // Every original document: as before the migration, plus the application's later `visits`.
  for (const doc of docs) {
    const now = byId.get(doc.id)!;
    const { visits, ...rest } = now;
    expect(rest).toEqual(doc);
    expect(visits).toBe(app.patched.get(doc.id));
  }
  // Every document the application created stays as it wrote it.
  for (const doc of app.created) expect(byId.get(doc.id)).toEqual(doc);
  expect(after).toHaveLength(docs.length + app.created.length);
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
    const answer = await handle.executeUpdate(setBudgetUpdate, { args: [{ ruPerSecond: 4000 }] });
    expect(answer).toMatchObject({ ruBudget: 4000, phase: 'rolling-back' });
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

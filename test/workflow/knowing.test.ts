/**
 * Knowing that it worked: a declared query that loses its index fails verification with its RU before and after;
 * with no hooks, monitoring probes the container against the preflight baseline and rolls back after three bad
 * intervals in a row (not after one: rollback-decisions.test.ts, on the fake activities).
 * (`requireRestoreDrill`: test/workflow/drill.test.ts.)
 */
import { randomUUID } from 'node:crypto';
import { migrationRunbook } from '../../workflows';
import { Harness, customers, splitNameModule, waitForPhase } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await Harness.start();
}, 180_000);
afterAll(async () => {
  h?.stack.cosmos.control.setFaults([]);
  await h?.close();
});

test('an indexing-policy step that drops the index a declared query filters on fails verification, naming the query and its RU', async () => {
  const docs = customers(300);
  const { database, container } = await h.seed(docs);
  const id = `index-${randomUUID().slice(0, 6)}`;
  const module = splitNameModule(id, database).replace(
    `container: "customers",`,
    `container: { name: 'customers', indexingPolicy: { indexingMode: 'consistent', includedPaths: [{ path: '/*' }], excludedPaths: [{ path: '/tenant/?' }] } },
  queries: [{ name: 'by-tenant', query: 'SELECT c.id FROM c WHERE c.tenant = @t', parameters: [{ name: '@t', value: 't1' }] }],`
  );
  expect(module).toContain('queries:');
  h.writeMigration(`${id}.js`, module);
  const w = await h.worker();
  await w.worker.runUntil(async () => {
    const report = await h.client.workflow.execute(migrationRunbook, {
      taskQueue: w.taskQueue,
      workflowId: `index-${randomUUID()}`,
      args: [{ migration: id, approval: { required: false }, monitor: { duration: '1s', interval: '1s' } }],
    });
    expect(report.status).toBe('rolled-back');
    const problem = report.verification?.problems.find((p) => p.startsWith('query by-tenant:'));
    expect(problem).toBeDefined();
    expect(problem).toMatch(/RU \d+(\.\d+)? → \d+(\.\d+)?/);
    expect(report.queries?.before[0]?.indexes.utilizedSingle.join()).toContain('/tenant');
    expect(report.markdown).toContain('## Declared queries');
    expect(report.markdown).toContain('by-tenant');
    // Rolled back by down: the container steps were undone too.
    expect((await h.documents(database, container)).every((d) => d.schemaVersion === undefined)).toBe(true);
  });
});

test('no hooks: a container slowed down during monitoring rolls back after three bad intervals', async () => {
  const id = `probe-${randomUUID().slice(0, 6)}`;
  const slow = await h.seed(customers(20));
  h.writeMigration(`${id}.js`, splitNameModule(id, slow.database));
  const w = await h.worker();
  await w.worker.runUntil(async () => {
    // Slow from the start of monitoring (the emulator answers every request 400 ms late): the probe measures it, and
    // three bad intervals in a row roll back. A blip (one bad interval) does not: rollback-decisions.test.ts.
    const second = await h.client.workflow.start(migrationRunbook, {
      taskQueue: w.taskQueue,
      workflowId: `slow-${randomUUID()}`,
      args: [{ migration: id, approval: { required: false }, monitor: { duration: '60s', interval: '1s' } }],
    });
    await waitForPhase(second, 'monitoring');
    h.stack.cosmos.control.setFaults([{ latencyMs: 400 }]);
    try {
      // Fast again once the decision is made: the rollback's own requests need not wait 400 ms each.
      await waitForPhase(second, ['rolling-back', 'rolled-back', 'completed'], 90_000);
      h.stack.cosmos.control.setFaults([]);
      const report = await second.result();
      expect(report.status).toBe('rolled-back');
      expect(report.reason).toMatch(/^health check failed \(3 checks in a row\): probe \(/);
      expect(report.monitoring?.filter((p) => p.bad).length).toBeGreaterThanOrEqual(3);
    } finally {
      h.stack.cosmos.control.setFaults([]);
    }
  });
});

/**
 * Knowing that it worked: a declared query that loses its index fails verification with its RU before and after;
 * with no hooks, monitoring probes the container against the preflight baseline and rolls back after three bad
 * intervals in a row, not after one. (`requireRestoreDrill`: test/workflow/drill.test.ts.)
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

test('no hooks: a container slowed down during monitoring rolls back after three bad intervals, a blip does not', async () => {
  const id = `probe-${randomUUID().slice(0, 6)}`;
  const blipDocs = customers(20);
  const blip = await h.seed(blipDocs);
  const slow = await h.seed(customers(20));
  h.writeMigration(`${id}.js`, splitNameModule(id, blip.database));
  const w = await h.worker();
  const input = (database: string, duration: string) => ({
    migration: id,
    database,
    approval: { required: false },
    monitor: { duration, interval: '1s' },
  });
  await w.worker.runUntil(async () => {
    // A blip: slow for one interval, then fast again: the run completes.
    const first = await h.client.workflow.start(migrationRunbook, {
      taskQueue: w.taskQueue,
      workflowId: `blip-${randomUUID()}`,
      args: [input(blip.database, '8s')],
    });
    await waitForPhase(first, 'monitoring');
    h.stack.cosmos.control.setFaults([{ latencyMs: 400 }]);
    for (let i = 0; i < 100; i++) {
      const status = await first.query('status');
      if ((status as { monitoring?: { bad: boolean }[] }).monitoring?.some((p) => p.bad)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    h.stack.cosmos.control.setFaults([]);
    const completed = await first.result();
    expect(completed.status).toBe('completed');
    const bad = completed.monitoring?.filter((p) => p.bad) ?? [];
    expect(bad.length).toBeGreaterThanOrEqual(1);
    expect(bad.length).toBeLessThan(3);

    // Sustained: slow from the start of monitoring: three bad intervals in a row roll back.
    const second = await h.client.workflow.start(migrationRunbook, {
      taskQueue: w.taskQueue,
      workflowId: `slow-${randomUUID()}`,
      args: [input(slow.database, '60s')],
    });
    await waitForPhase(second, 'monitoring');
    h.stack.cosmos.control.setFaults([{ latencyMs: 400 }]);
    try {
      const report = await second.result();
      expect(report.status).toBe('rolled-back');
      expect(report.reason).toMatch(/^health check failed \(3 checks in a row\): probe \(/);
      expect(report.monitoring?.filter((p) => p.bad).length).toBeGreaterThanOrEqual(3);
    } finally {
      h.stack.cosmos.control.setFaults([]);
    }
  });
});

/**
 * Options that change the run's course, end to end on the local stack: a dry run writes nothing (and phases are
 * notified through real webhooks, a dead one changing nothing); requireStagingRun finds the staging run the history
 * container recorded. The options the phase machine alone decides (a restore's own approval, the backup gate, the
 * maintenance window) run on the fake activities: rollback-decisions.test.ts and gate-decisions.test.ts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { migrationRunbook } from '../../workflows';
import { Harness, customers, splitNameModule } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await Harness.start();
}, 180_000);
afterAll(async () => {
  await h?.close();
});

const fast = { monitor: { duration: '1s', interval: '1s' } };

test('a dry run plans and counts, and writes nothing; phases are notified, a dead webhook changes nothing', async () => {
  const docs = customers(15);
  const { database, container } = await h.seed(docs);
  const id = `split-${randomUUID().slice(0, 6)}`;
  h.writeMigration(`${id}.js`, splitNameModule(id, database));
  const received: { text: string; phase: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push(JSON.parse(body) as { text: string; phase: string });
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  // Port 1 refuses connections: that webhook always fails.
  const w = await h.worker({ notify: { webhooks: [`http://127.0.0.1:${port}/hook`, 'http://127.0.0.1:1/down'] } });
  await w.worker.runUntil(async () => {
    const report = await h.client.workflow.execute(migrationRunbook, {
      taskQueue: w.taskQueue,
      workflowId: `dry-${randomUUID()}`,
      args: [{ migration: id, ...fast, dryRun: true, approval: { required: false } }],
    });
    expect(report.status).toBe('dry-run');
    expect(report.counters).toMatchObject({ scanned: 15, migrated: 15, failed: 0 });
    expect(report.snapshot).toBeUndefined();
    expect(await h.documents(database, container)).toEqual(docs);
    expect(received.map((m) => m.phase)).toEqual(['preflight', 'migrating', 'completed']);
    expect(received[2]!.text).toContain(`migration *${id}*`);
  });
  await new Promise((r) => server.close(r));
});

test('requireStagingRun: refused until the same migration (same checksum) completed in the staging database', async () => {
  const docs = customers(5);
  const prod = await h.seed(docs);
  const staging = await h.seed(docs);
  const id = `split-${randomUUID().slice(0, 6)}`;
  h.writeMigration(`${id}.js`, splitNameModule(id, prod.database));
  const w = await h.worker();
  const input = { migration: id, ...fast, approval: { required: false } };
  await w.worker.runUntil(async () => {
    const cause = await h.expectRunFailure(w.taskQueue, {
      ...input,
      requireStagingRun: { database: staging.database },
    });
    expect(cause.message).toMatch(
      new RegExp(
        `^requireStagingRun: migration ${id} \\(checksum [0-9a-f]{12}\\) has not completed up in database ${staging.database}$`
      )
    );
    expect(await h.documents(prod.database, prod.container)).toEqual(docs);

    const stagingRun = await h.client.workflow.execute(migrationRunbook, {
      taskQueue: w.taskQueue,
      workflowId: `staging-${randomUUID()}`,
      args: [{ ...input, database: staging.database }],
    });
    expect(stagingRun.status).toBe('completed');

    const prodRun = await h.client.workflow.execute(migrationRunbook, {
      taskQueue: w.taskQueue,
      workflowId: `prod-${randomUUID()}`,
      args: [{ ...input, requireStagingRun: { database: staging.database } }],
    });
    expect(prodRun.status).toBe('completed');
    expect((await h.documents(prod.database, prod.container)).every((d) => d.schemaVersion === 2)).toBe(true);
  });
});

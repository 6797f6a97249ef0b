/**
 * Options that change the run's course: a dry run writes nothing; a rollback by restore that requires its own
 * approval waits for `approve` on the parent run (forwarded to the rollback child); a Periodic-backup account is
 * refused at preflight when the rollback would need a restore.
 */
import { ErrorType } from '../../common/errors';
import { setTimeout as sleep } from 'node:timers/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { migrationRunbook } from '../../workflows';
import { approveSignal, resumeSignal } from '../../workflows/messages';
import { Harness, customers, splitNameModule, waitForPhase } from './harness';

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

test('a restore that requires approval waits for approve on the run, then restores', async () => {
  const docs = customers(12);
  const { database, container } = await h.seed(docs);
  const before = await h.documents(database, container);
  const id = `split-${randomUUID().slice(0, 6)}`;
  h.writeMigration(`${id}.js`, splitNameModule(id, database, { down: false }));
  const w = await h.worker({ stopApp: { command: 'true' }, startApp: { command: 'true' } });
  await w.worker.runUntil(async () => {
    const handle = await h.client.workflow.start(migrationRunbook, {
      taskQueue: w.taskQueue,
      workflowId: `gate-${randomUUID()}`,
      args: [
        {
          migration: id,
          monitor: { duration: '1m', interval: '1s' },
          approval: { required: false, requiredForRestore: true, timeout: '1m' },
          preimages: false,
        },
      ],
    });
    await waitForPhase(handle, 'monitoring');
    await handle.signal('rollback', { reason: 'wrong data in reports' });
    const deadline = Date.now() + 30_000;
    let status = await waitForPhase(handle, 'rolling-back');
    while (status.pendingDecision?.kind !== 'approve-restore' && Date.now() < deadline) {
      await sleep(200);
      status = await handle.query('status');
    }
    expect(status.pendingDecision).toMatchObject({ kind: 'approve-restore', signals: ['approve', 'abort'] });
    // Nothing destructive has happened yet: the migrated data is still there.
    expect((await h.documents(database, container)).every((d) => d.schemaVersion === 2)).toBe(true);
    await handle.signal(approveSignal, { by: 'dba-on-call' });
    const report = await handle.result();
    expect(report.status).toBe('rolled-back');
    expect(report.rollback).toMatchObject({ mode: 'restore', ok: true });
    expect(await h.documents(database, container)).toEqual(before);
  });
});

test('a Periodic-backup account is refused at preflight when the rollback needs a restore', async () => {
  const docs = customers(3);
  const { database, container } = await h.seed(docs);
  const id = `split-${randomUUID().slice(0, 6)}`;
  h.writeMigration(`${id}.js`, splitNameModule(id, database, { down: false }));
  h.stack.arm.control.setBackupPolicy({ type: 'Periodic' });
  const w = await h.worker();
  try {
    await w.worker.runUntil(async () => {
      // No down() and no pre-images: the only rollback left is a restore, which Periodic backup cannot do.
      const cause = await h.expectRunFailure(w.taskQueue, { migration: id, ...fast, preimages: false });
      expect(cause.type).toBe(ErrorType.PreflightFailed);
      expect(cause.message).toContain('uses Periodic backup');
      expect(await h.documents(database, container)).toEqual(docs);
    });
  } finally {
    h.stack.arm.control.setBackupPolicy({ type: 'Continuous', tier: 'Continuous30Days' });
  }
});

test('a maintenance window that has closed pauses the run before any write; resume goes on anyway', async () => {
  const docs = customers(6);
  const { database, container } = await h.seed(docs);
  const id = `split-${randomUUID().slice(0, 6)}`;
  h.writeMigration(`${id}.js`, splitNameModule(id, database));
  const w = await h.worker();
  const end = new Date(Date.now() - 60_000).toISOString();
  await w.worker.runUntil(async () => {
    const handle = await h.client.workflow.start(migrationRunbook, {
      taskQueue: w.taskQueue,
      workflowId: `window-${randomUUID()}`,
      args: [
        {
          migration: id,
          ...fast,
          approval: { required: false },
          maintenanceWindow: { start: new Date(Date.now() - 3_600_000).toISOString(), end },
        },
      ],
    });
    const paused = await waitForPhase(handle, 'paused');
    expect(paused.lastError).toBe(
      `the maintenance window closed at ${end}: no new work is started; resume to go on anyway`
    );
    expect(await h.documents(database, container)).toEqual(docs);
    await handle.signal(resumeSignal);
    const report = await handle.result();
    expect(report.status).toBe('completed');
    expect((await h.documents(database, container)).every((d) => d.schemaVersion === 2)).toBe(true);
  });
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

test('a maintenance window in the future: the run sleeps durably until it opens, then migrates', async () => {
  const docs = customers(4);
  const { database, container } = await h.seed(docs);
  const id = `split-${randomUUID().slice(0, 6)}`;
  h.writeMigration(`${id}.js`, splitNameModule(id, database));
  const w = await h.worker();
  const start = new Date(Date.now() + 6_000).toISOString();
  await w.worker.runUntil(async () => {
    const handle = await h.client.workflow.start(migrationRunbook, {
      taskQueue: w.taskQueue,
      workflowId: `later-${randomUUID()}`,
      args: [
        {
          migration: id,
          ...fast,
          approval: { required: false },
          maintenanceWindow: { start, end: new Date(Date.now() + 3_600_000).toISOString() },
        },
      ],
    });
    let details = '';
    for (let i = 0; i < 50 && !details.includes('maintenance window'); i++) {
      await sleep(100);
      const metadata = await handle
        .query<{ currentDetails?: string }>('__temporal_workflow_metadata')
        .catch(() => ({ currentDetails: '' }));
      details = metadata.currentDetails ?? '';
    }
    expect(details).toContain(`**Waiting for:** the maintenance window to open at ${start}`);
    expect(await h.documents(database, container)).toEqual(docs);
    const report = await handle.result();
    expect(report.status).toBe('completed');
    expect(Date.parse(report.snapshot!.t0)).toBeGreaterThanOrEqual(Date.parse(start) - 1000);
  });
});

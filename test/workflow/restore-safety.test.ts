/**
 * A rollback by restore never makes things worse: it proves Azure can restore before it deletes, and it deletes only
 * with consent. A container on shared database throughput is refused at preflight; without a stop-app hook the
 * restore refuses before deleting anything; `allowRestoreWithoutAppStop` (with the restore approval off) restores.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { migrationRunbook } from '../../workflows';
import { resumeSignal } from '../../workflows/messages';
import { Harness, customers, splitNameModule, waitForPhase } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await Harness.start();
}, 180_000);
afterAll(async () => {
  await h?.close();
});

const fast = { monitor: { duration: '1s', interval: '1s' }, approval: { required: false } };
/** No down() and verify() rejects one document: verification fails after migrating, the rollback is a restore. */
const failingModule = (id: string, database: string) =>
  splitNameModule(id, database, { down: false, verify: `if (doc.id === 'c-0003') return 'looks wrong';` });

test('a container on shared database throughput with rollback "restore" is refused at preflight, nothing changed', async () => {
  const docs = customers(6);
  const database = `shared${randomUUID().slice(0, 8)}`;
  const { resourceGroup, account } = h.stack.settings;
  await h.arm.sqlResources.beginCreateUpdateSqlDatabaseAndWait(
    resourceGroup,
    account,
    database,
    { resource: { id: database }, options: { throughput: 400 } },
    { updateIntervalInMs: 50 }
  );
  const container = 'customers';
  await h.arm.sqlResources.beginCreateUpdateSqlContainerAndWait(
    resourceGroup,
    account,
    database,
    container,
    { resource: { id: container, partitionKey: { paths: ['/tenant'], kind: 'Hash' } }, options: {} },
    { updateIntervalInMs: 50 }
  );
  for (const doc of docs) await h.cosmos.database(database).container(container).items.create(doc);
  const id = `split-${randomUUID().slice(0, 6)}`;
  h.writeMigration(`${id}.js`, failingModule(id, database));
  const w = await h.worker({ stopApp: { command: 'true' }, startApp: { command: 'true' } });
  await w.worker.runUntil(async () => {
    const failed = await h.client.workflow
      .execute(migrationRunbook, {
        taskQueue: w.taskQueue,
        workflowId: `shared-${randomUUID()}`,
        args: [{ migration: id, ...fast, rollback: 'restore' }],
      })
      .catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(WorkflowFailedError);
    const message = ((failed as WorkflowFailedError).cause as Error).message;
    expect(message).toMatch(/^rollback by restore is not possible, so nothing was changed: .*shared/);
    expect(await h.documents(database, container)).toEqual(docs);
  });
});

test('without a stop-app hook an in-place restore refuses before deleting: the container and its data stay', async () => {
  const docs = customers(8);
  const { database, container } = await h.seed(docs);
  const id = `split-${randomUUID().slice(0, 6)}`;
  h.writeMigration(`${id}.js`, failingModule(id, database));
  const w = await h.worker();
  await w.worker.runUntil(async () => {
    const handle = await h.client.workflow.start(migrationRunbook, {
      taskQueue: w.taskQueue,
      workflowId: `nohook-${randomUUID()}`,
      args: [{ migration: id, ...fast }],
    });
    const failed = await waitForPhase(handle, 'rollback-failed');
    expect(failed.lastError).toContain('it needs a stop-app hook (stopApp in HOOKS_CONFIG)');
    expect(failed.lastError).toContain('nothing was deleted');
    // Still there, as the migration left it: nothing destroyed.
    const after = await h.documents(database, container);
    expect(after).toHaveLength(8);
    expect(after.every((d) => d.schemaVersion === 2)).toBe(true);
    await handle.signal(resumeSignal);
    const report = await handle.result();
    expect(report.status).toBe('rollback-failed');
  });
});

test('allowRestoreWithoutAppStop and requiredForRestore: false restore in place without hooks or a second approval', async () => {
  const docs = customers(10);
  const { database, container } = await h.seed(docs);
  const before = await h.documents(database, container);
  const id = `split-${randomUUID().slice(0, 6)}`;
  h.writeMigration(`${id}.js`, failingModule(id, database));
  const w = await h.worker();
  await w.worker.runUntil(async () => {
    const report = await h.client.workflow.execute(migrationRunbook, {
      taskQueue: w.taskQueue,
      workflowId: `allowed-${randomUUID()}`,
      args: [
        {
          migration: id,
          ...fast,
          approval: { required: false, requiredForRestore: false },
          allowRestoreWithoutAppStop: true,
        },
      ],
    });
    expect(report.status).toBe('rolled-back');
    expect(report.rollback).toMatchObject({ mode: 'restore', ok: true, discardedWrites: 10 });
    expect(await h.documents(database, container)).toEqual(before);
  });
});

/**
 * The restore drill as a user runs it: `temporal workflow start --type restoreDrill` with the documented input. The
 * container is restored side by side into a new account, verified against the live container, the account is
 * deleted, and the drill is recorded; `requireRestoreDrill` refuses a production run without one and lets it pass
 * after one; a drill whose restore fails is recorded as failed, cleans up and fails visibly. (Bad drill input, decided
 * by the workflow alone: gate-decisions.test.ts, on the fake activities.)
 */
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import type { DrillRecord } from '../../common/activities';
import { ErrorType } from '../../common/errors';
import { migrationRunbook, restoreDrill } from '../../workflows';
import { historyToJSON } from '../support/history-json';
import { decodedHistory } from '../support/payloads';
import { Harness, MARKER, customers, saveHistory, splitNameModule, temporalCli } from './harness';

jest.setTimeout(180_000);

let h: Harness;
beforeAll(async () => {
  h = await Harness.start();
}, 180_000);
afterAll(async () => {
  await h?.close();
});

test('a drill restores side by side, verifies, cleans up and is recorded; requireRestoreDrill then lets the run pass', async () => {
  const docs = customers(120);
  const { database, container } = await h.seed(docs);
  const id = `drill-${randomUUID().slice(0, 6)}`;
  h.writeMigration(`${id}.js`, splitNameModule(id, database));
  const w = await h.worker();
  await w.worker.runUntil(async () => {
    const gated = { migration: id, approval: { required: false }, requireRestoreDrill: { within: '7d' } };
    const refused = await h.client.workflow
      .execute(migrationRunbook, { taskQueue: w.taskQueue, workflowId: `gated-${randomUUID()}`, args: [gated] })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WorkflowFailedError);
    expect(((refused as WorkflowFailedError).cause as Error).message).toBe(
      `requireRestoreDrill: no restore drill of ${database}/${container} finished within 7d; run one first`
    );

    // As documented: the real temporal CLI, the workflow type and a JSON input naming the migration.
    const workflowId = `drill-${randomUUID()}`;
    await temporalCli([
      'workflow',
      'start',
      '--type',
      'restoreDrill',
      '--task-queue',
      w.taskQueue,
      '--workflow-id',
      workflowId,
      '--input',
      JSON.stringify({ migration: id, sampleSize: 50 }),
    ]);
    const handle = h.client.workflow.getHandle<typeof restoreDrill>(workflowId);
    const record: DrillRecord = await handle.result();
    expect(record).toMatchObject({
      account: h.stack.settings.account,
      database,
      container,
      documents: docs.length,
      ok: true,
      mismatches: [],
      workflowId,
    });
    expect(record.copyAccount).toMatch(/^customers-drill-[a-z0-9]+$/);
    expect(record.durationMs).toBeGreaterThan(0);
    expect(record.docsPerSecond).toBeGreaterThan(0);
    // Cleaned up: no restored account is left, and the live container is untouched.
    expect(h.stack.arm.control.restoredAccounts()).toEqual([]);
    expect(await h.documents(database, container)).toEqual(docs);
    // No document contents in the drill's history (payloads decoded).
    const history = decodedHistory(historyToJSON(await handle.fetchHistory()));
    expect(history).toContain(record.copyAccount);
    expect(history).not.toContain(MARKER);
    saveHistory('restore-drill.json', historyToJSON(await handle.fetchHistory()));

    const report = await h.client.workflow.execute(migrationRunbook, {
      taskQueue: w.taskQueue,
      workflowId: `gated-${randomUUID()}`,
      args: [{ ...gated, monitor: { duration: '1s', interval: '1s' } }],
    });
    expect(report.status).toBe('completed');
  });
});

test('a drill whose restore fails is recorded as failed, deletes the account, and fails naming why', async () => {
  const { database, container } = await h.seed(customers(10));
  const w = await h.worker();
  h.stack.arm.control.setRestoreFailure({ times: 1, message: 'injected: the backup storage is unavailable' });
  await w.worker.runUntil(async () => {
    const failed = await h.client.workflow
      .execute(restoreDrill, {
        taskQueue: w.taskQueue,
        workflowId: `drill-${randomUUID()}`,
        args: [{ database, container, account: 'failing-drill-1' }],
      })
      .catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(WorkflowFailedError);
    const cause = (failed as WorkflowFailedError).cause as Error & { type?: string };
    expect(cause.type).toBe(ErrorType.DrillFailed);
    expect(cause.message).toMatch(
      new RegExp(`^restore drill of ${database}/${container} at .* failed: the drill did not complete: the restore of`)
    );
    expect(h.stack.arm.control.restoredAccounts()).toEqual([]);
    // The failed drill is what the gate finds: a run requiring a drill is refused because of it.
    const id = `drillf-${randomUUID().slice(0, 6)}`;
    h.writeMigration(`${id}.js`, splitNameModule(id, database));
    const w2 = await h.worker();
    await w2.worker.runUntil(async () => {
      const refused = await h.client.workflow
        .execute(migrationRunbook, {
          taskQueue: w2.taskQueue,
          workflowId: `gated-${randomUUID()}`,
          args: [{ migration: id, approval: { required: false }, requireRestoreDrill: { within: '1h' } }],
        })
        .catch((e: unknown) => e);
      expect(((refused as WorkflowFailedError).cause as Error).message).toMatch(
        /^requireRestoreDrill: the last restore drill of .* failed: the drill did not complete: the restore of/
      );
    });
  });
});

test('a drill never deletes an account of its name that it did not make', async () => {
  const { database, container } = await h.seed(customers(5));
  const { resourceGroup, account } = h.stack.settings;
  // The name is taken: an account restored at another time, by someone else.
  const own = await h.arm.databaseAccounts.get(resourceGroup, account);
  const source = await h.arm.restorableDatabaseAccounts.getByLocation('West US', own.instanceId!);
  const takenAt = new Date();
  await h.arm.databaseAccounts.beginCreateOrUpdateAndWait(
    resourceGroup,
    'taken-drill-1',
    {
      location: 'West US',
      databaseAccountOfferType: 'Standard',
      locations: [{ locationName: 'West US', failoverPriority: 0 }],
      createMode: 'Restore',
      restoreParameters: {
        restoreMode: 'PointInTime',
        restoreSource: source.id!,
        restoreTimestampInUtc: takenAt,
        databasesToRestore: [{ databaseName: database, collectionNames: [container] }],
      },
    },
    { updateIntervalInMs: 50 }
  );
  // The drill's own restore point (its start) must be another second than the taken account's.
  while (Date.now() - takenAt.getTime() < 1500) await new Promise((resolve) => setTimeout(resolve, 100));
  const w = await h.worker();
  await w.worker.runUntil(async () => {
    const failed = await h.client.workflow
      .execute(restoreDrill, {
        taskQueue: w.taskQueue,
        workflowId: `drill-${randomUUID()}`,
        args: [{ database, container, account: 'taken-drill-1' }],
      })
      .catch((e: unknown) => e);
    const cause = (failed as WorkflowFailedError).cause as Error & { type?: string };
    expect(cause.type).toBe(ErrorType.DrillFailed);
    expect(cause.message).toContain('account taken-drill-1 exists and is not this drill');
    expect(cause.message).toContain('the drill account was not deleted: refusing to delete account taken-drill-1');
  });
  expect(h.stack.arm.control.restoredAccounts().map((a) => a.name)).toEqual(['taken-drill-1']);
  await h.arm.databaseAccounts.beginDeleteAndWait(resourceGroup, 'taken-drill-1', { updateIntervalInMs: 50 });
});

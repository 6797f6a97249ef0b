/**
 * The ARM actions of the role definitions (activities/arm/actions.ts) against what the activities actually send: the
 * ARM imitation records every request it serves (local/arm control.requests()); for a migration run, a run rolled
 * back by in-place restore, and a restore drill, every request needs an action the list has, in the set that
 * strategy's role grants. Every listed action is either seen here or named below with why it is not.
 */
import { randomUUID } from 'node:crypto';
import { ARM_ACTIONS, actionOf, actionsFor } from '../../activities/arm/actions';
import { migrationRunbook, restoreDrill } from '../../workflows';
import { approveSignal, statusQuery } from '../../workflows/messages';
import { Harness, customers, splitNameModule } from './harness';
import { setTimeout as sleep } from 'node:timers/promises';

let h: Harness;
beforeAll(async () => {
  h = await Harness.start();
}, 180_000);
afterAll(async () => {
  await h?.close();
});

/** Listed, but not called by the three runs below (each needs a situation they do not make). */
const NOT_EXERCISED: Record<string, string> = {
  'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/write':
    'a container step into a database that does not exist yet (the seed made these databases)',
  'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/throughputSettings/write':
    'a module whose container steps set throughput (test/engine/container-steps.test.ts)',
  'Microsoft.DocumentDB/locations/restorableDatabaseAccounts/restore/action':
    'a linked action: checked by ARM on the restore source, no request of its own (local/arm/permission.ts)',
  'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/throughputSettings/migrateToAutoscale/action':
    'a restored container whose throughput came back in another mode (test/engine/rollback-restore.test.ts)',
  'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/throughputSettings/migrateToManualThroughput/action':
    'the same, from autoscale to manual',
  ...Object.fromEntries(
    ['storedProcedures', 'triggers', 'userDefinedFunctions'].flatMap((kind) =>
      ['read', 'write'].map((verb) => [
        `Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/${kind}/${verb}`,
        'scripts through ARM: only when the data plane refuses an Entra identity (activities/cosmos/scripts.ts); the ' +
          'local stack uses a key and the imitation has no script routes',
      ])
    )
  ),
};

const seen = new Set<string>();

/** The actions the requests served since `from` need; fails on a request the list has no action for. */
function actionsSince(from: number): string[] {
  const requests = h.stack.arm.control.requests().slice(from);
  const unlisted = requests.filter((r) => actionOf(r) === undefined);
  expect(unlisted).toEqual([]);
  const actions = [...new Set(requests.map((r) => actionOf(r)!))].sort();
  for (const a of actions) seen.add(a);
  return actions;
}

test('a migration run calls only actions of the migration-only role', async () => {
  const { database } = await h.seed(customers(12));
  const id = `arm-${randomUUID().slice(0, 6)}`;
  h.writeMigration(`${id}.js`, splitNameModule(id, database));
  const w = await h.worker();
  const from = h.stack.arm.control.requests().length;
  await w.worker.runUntil(async () => {
    const report = await h.client.workflow.execute(migrationRunbook, {
      taskQueue: w.taskQueue,
      workflowId: `arm-${randomUUID()}`,
      args: [{ migration: id, approval: { required: false }, monitor: { duration: '1s', interval: '1s' } }],
    });
    expect(report.status).toBe('completed');
  });
  const actions = actionsSince(from);
  expect(actions.length).toBeGreaterThan(3);
  for (const action of actions) expect(actionsFor('migration')).toContain(action);
});

test('a rollback by in-place restore calls only actions of the role with restore', async () => {
  const { database } = await h.seed(customers(12));
  const id = `armr-${randomUUID().slice(0, 6)}`;
  h.writeMigration(
    `${id}.js`,
    splitNameModule(id, database, { down: false, verify: `if (doc.id === 'c-0003') return 'wrong';` })
  );
  const w = await h.worker();
  const from = h.stack.arm.control.requests().length;
  await w.worker.runUntil(async () => {
    const handle = await h.client.workflow.start(migrationRunbook, {
      taskQueue: w.taskQueue,
      workflowId: `armr-${randomUUID()}`,
      args: [
        {
          migration: id,
          approval: { required: false },
          monitor: { duration: '1s', interval: '1s' },
          preimages: false,
          allowRestoreWithoutAppStop: true,
        },
      ],
    });
    // The in-place restore asks for consent first.
    for (let asked = false; !asked; await sleep(200)) {
      const status = await handle.query(statusQuery).catch(() => undefined);
      asked = status?.pendingDecision?.kind === 'approve-restore';
      if (status && ['rolled-back', 'rollback-failed', 'completed', 'failed'].includes(status.phase)) break;
    }
    await handle.signal(approveSignal, { by: 'dba' });
    const report = await handle.result();
    expect(report.rollback).toMatchObject({ mode: 'restore', ok: true });
  });
  const actions = actionsSince(from);
  expect(actions).toContain('Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/delete');
  for (const action of actions) expect(actionsFor('with-restore')).toContain(action);
}, 180_000);

test('a restore drill calls only actions of the role with drill; every listed action is accounted for', async () => {
  const { database, container } = await h.seed(customers(8));
  const w = await h.worker();
  const from = h.stack.arm.control.requests().length;
  await w.worker.runUntil(() =>
    h.client.workflow.execute(restoreDrill, {
      taskQueue: w.taskQueue,
      workflowId: `armd-${randomUUID()}`,
      args: [{ database, container }],
    })
  );
  const actions = actionsSince(from);
  expect(actions).toEqual(
    expect.arrayContaining([
      'Microsoft.DocumentDB/databaseAccounts/write',
      'Microsoft.DocumentDB/databaseAccounts/delete',
    ])
  );
  for (const action of actions) expect(actionsFor('with-drill')).toContain(action);
  // The list holds nothing no run needs: each action was seen, or is named above with why not.
  const unaccounted = ARM_ACTIONS.map((a) => a.action).filter((a) => !seen.has(a) && !(a in NOT_EXERCISED));
  expect(unaccounted).toEqual([]);
  // And what is named as not exercised really was not (else it belongs to the runs above).
  expect(Object.keys(NOT_EXERCISED).filter((a) => seen.has(a))).toEqual([]);
}, 180_000);

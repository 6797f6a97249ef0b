/**
 * Concurrent application writes: the application replaces random customers at a steady rate
 * (`appWrites + 1`, ETag-conditioned) all through a run that migrates and verifies, then all through a second run
 * rolled back by signal mid-migration (the surgical revert from pre-images, docs/runbook.md "Rollback"). The second
 * module has a `down()` the plan proves, so the revert gives a document the application changed since the migration
 * wrote it back through `down(live)` (per document: never a pre-image over the application's write); an unchanged one
 * gets its pre-image. No update may be lost: each document's `appWrites` is what the application last wrote, no
 * document is left at the new version (no conflict), and apart from `appWrites` every document is as run 1 left it.
 * Without a `down()` the changed documents are left and named, and the run waits for its operator:
 * test/workflow/surgical.test.ts proves that path.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { migrationRunbook } from '../../../workflows';
import { rollbackSignal, statusQuery } from '../../../workflows/messages';
import type { ChaosCase } from '../types';
import { reportOf } from '../support/outcome';
import { startApplication } from '../support/application';
import { countMissing, documents, sameDocument, seedCustomers, type Row, writeRunModules } from '../support/data';
import { figure, zero } from '../support/figures';
import { startChaosStack } from '../support/stack';
import { WorkerPool } from '../support/workers';

const DATABASE = 'chaos';
const CONTAINER = 'customers';
const TASK_QUEUE = 'chaos-app';

export const appWrites: ChaosCase = {
  name: 'app-writes',
  async run({ quick, log }) {
    const n = quick ? 2_000 : 20_000;
    const rate = quick ? 20 : 50;
    const started = Date.now();
    const stack = await startChaosStack('app-writes');
    const pool = new WorkerPool(1, stack.workerEnv(TASK_QUEUE), stack.dir);
    try {
      const container = await stack.createContainer(DATABASE, CONTAINER, 40_000);
      const { up, next } = writeRunModules(
        stack,
        { database: DATABASE, container: CONTAINER },
        { secondReversible: true }
      );
      const workersUp = pool.start();
      log(`  seeding ${n} documents`);
      await seedCustomers(container, n);
      await workersUp;

      // Run 1 with the application writing from before it starts until after it ends.
      const app1 = startApplication(container, n, rate);
      const first = await stack.client.workflow.start(migrationRunbook, {
        taskQueue: TASK_QUEUE,
        workflowId: `chaos-app-${up}`,
        args: [{ migration: up, approval: { required: false }, monitor: { duration: '1s', interval: '1s' } }],
      });
      const report1 = await reportOf(first);
      await app1.stop();
      const afterFirst = await documents(container, stack.stack.cosmos.admin);
      const lost1 = lostUpdates(afterFirst, app1.expected);
      const notOnce = afterFirst.filter((d) => d.transformCount !== 1 || d.schemaVersion !== 2).length;
      log(`  run 1: ${report1.status}, ${app1.writes} application writes, ${report1.counters.conflicts} conflicts met`);

      // Run 2, rolled back mid-migration, the application writing all along (continuing from run 1's counts).
      const app2 = startApplication(container, n, rate);
      for (const [id, count] of app1.expected) app2.expected.set(id, count);
      const handle = await stack.client.workflow.start(migrationRunbook, {
        taskQueue: TASK_QUEUE,
        workflowId: `chaos-app-${next}`,
        args: [
          {
            migration: next,
            approval: { required: false },
            monitor: { duration: '1m', interval: '5s' },
            // The surgical revert from pre-images, not the whole-container down() the ladder prefers when down() is
            // proved: what this case proves is the per-document revert under application writes.
            rollback: 'preimages',
          },
        ],
      });
      for (;;) {
        const status = await handle.query(statusQuery).catch(() => undefined);
        if (
          status &&
          (status.counters.migrated >= n * 0.3 || !['preflight', 'snapshot', 'migrating'].includes(status.phase))
        )
          break;
        await sleep(200);
      }
      const writesBeforeRollback = app2.writes;
      await handle.signal(rollbackSignal, { reason: 'chaos: roll back with the application writing' });
      const report2 = await reportOf(handle);
      await app2.stop();
      const duringRollback = app2.writes - writesBeforeRollback;
      const afterSecond = await documents(container, stack.stack.cosmos.admin);
      const conflicts = report2.rollback?.revert?.conflicts ?? 0;
      const lost2 = lostUpdates(afterSecond, app2.expected);
      // Apart from appWrites, every document as run 1 left it.
      const byId = new Map(afterFirst.map((d) => [d.id, withoutApp(d)]));
      const notReverted =
        afterSecond.filter((d) => !sameDocument(withoutApp(d), byId.get(d.id))).length +
        countMissing(n, new Map(afterSecond.map((d) => [d.id, d])));
      log(
        `  run 2: ${report2.status} (${report2.rollback?.mode}), ${app2.writes} application writes, ${duringRollback} after the rollback signal`
      );
      const seconds = Math.round((Date.now() - started) / 1000);
      return [
        figure('app-writes: application writes during run 1', app1.writes, '> 0', app1.writes > 0),
        figure('app-writes: run 1 outcome', report1.status, 'completed', report1.status === 'completed'),
        zero('app-writes: run 1 lost updates', lost1),
        zero('app-writes: documents not migrated exactly once', notOnce),
        figure('app-writes: application writes after the rollback signal', duringRollback, '> 0', duringRollback > 0),
        figure(
          'app-writes: run 2 outcome (rollback signalled)',
          `${report2.status} (${report2.rollback?.mode ?? 'none'})`,
          'rolled-back (preimages)',
          report2.status === 'rolled-back' && report2.rollback?.mode === 'preimages'
        ),
        zero(
          'app-writes: run 2 lost updates (not in the final state, not reported as conflicts)',
          Math.max(0, lost2 - conflicts)
        ),
        zero('app-writes: conflicts reported by the rollback', conflicts),
        zero('app-writes: documents not reverted to run 1 (appWrites aside)', notReverted),
        figure(
          'app-writes: documents given back through down() (changed by the application since run 2 wrote them)',
          report2.rollback?.revert?.down ?? 0,
          '> 0',
          (report2.rollback?.revert?.down ?? 0) > 0
        ),
        figure('app-writes: seconds', seconds, 'report', true),
      ];
    } finally {
      await pool.stop();
      await stack.close();
    }
  },
};

/** Documents whose appWrites is not what the application last wrote. */
function lostUpdates(rows: Row[], expected: Map<string, number>): number {
  return rows.filter((d) => (d.appWrites ?? 0) !== (expected.get(d.id) ?? 0)).length;
}

function withoutApp(row: Row): Row {
  const { appWrites: _appWrites, ...rest } = row;
  return rest;
}

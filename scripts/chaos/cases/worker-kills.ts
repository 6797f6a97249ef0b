/**
 * Worker kills: one run over ≥ 4 physical partitions with a worker as a separate process (`tsx worker/main.ts`,
 * production heartbeat settings: the input has no `tuning`), SIGKILLed as the migration starts (its ARM step), then
 * once every N ÷ 10 documents migrated (read from the server: support/progress.ts), once more as soon as the run
 * verifies; then a second run of a 2 → 3 module rolled back by signal mid-migration, with kills every N ÷ 20
 * documents while it migrates and four while it rolls back.
 * The schedule is work done, not time, and each kill waits for the restarted worker (support/killer.ts): one worker,
 * so nothing migrates while it is down and a fast machine makes the same kills as a slow one. Every document must be
 * migrated exactly once (the transform counts its applications in `transformCount`, and the emulator's backup log
 * shows one write at version 2 per document), none lost, and after the rollback every document must be exactly, and
 * whole, as the first run left it.
 */
import { migrationRunbook } from '../../../workflows';
import { rollbackSignal, statusQuery } from '../../../workflows/messages';
import type { ChaosCase } from '../types';
import { reportOf } from '../support/outcome';
import {
  countMissing,
  documents,
  loggedWrites,
  sameDocument,
  seedCustomers,
  writeRunModules,
  writtenOnce,
} from '../support/data';
import { killWhileRunning, type Kill } from '../support/killer';
import type { Phase } from '../../../common/phases';
import { startChaosStack } from '../support/stack';
import { WorkerPool } from '../support/workers';
import { figure } from '../support/figures';
import { setTimeout as sleep } from 'node:timers/promises';

const DATABASE = 'chaos';
const CONTAINER = 'customers';
/** 10 000 RU/s per physical partition in the emulator (local/README.md): 40 000 RU/s gives 4. */
const THROUGHPUT = 40_000;
/**
 * Both runs' RU budget: the kills read the documents migrated from heartbeats, which trail the work by up to 4 s
 * (support/progress.ts). Uncapped, an idle machine migrated the last 20 000 documents within that lag and run 1 made
 * 6 of its 8 kills by documents; capped, no machine migrates faster than the schedule can follow.
 */
const RU_BUDGET = 4_000;

export const workerKills: ChaosCase = {
  name: 'worker-kills',
  async run({ quick, log }) {
    const n = quick ? 5_000 : 50_000;
    /**
     * One worker: every kill costs every range activity in flight one of its 10 attempts (workflows/activities.ts),
     * and a tenth failure pauses the run for its operator, as it should. So run 1 makes 8 kills by documents, one
     * every N ÷ 10 (up to 80 %; 9 if the kill as it migrates lands after its ranges started); run 2 has fresh
     * activities: 6 every N ÷ 20 before its rollback, then 4 while it rolls back. With the kill as run 1 migrates and
     * the one as it verifies: 20 (`--quick`: 1 + 1 + 1, then 1 + 2: 6).
     */
    const plan = quick
      ? { firstByDocuments: 1, secondByDocuments: 1, rollingBack: 2 }
      : { firstByDocuments: 8, secondByDocuments: 6, rollingBack: 4 };
    const kills = 2 + plan.firstByDocuments + plan.secondByDocuments + plan.rollingBack;
    const started = Date.now();
    const stack = await startChaosStack('worker-kills');
    // One worker: while it restarts nothing moves, so no kill threshold is passed before the worker is back.
    const pool = new WorkerPool(1, stack.workerEnv('chaos-kills'), stack.dir);
    try {
      const container = await stack.createContainer(DATABASE, CONTAINER, THROUGHPUT);
      const partitions = (await container.readPartitionKeyRanges().fetchAll()).resources.length;
      // Both modules before the workers start: a worker loads MIGRATIONS_DIR once.
      const { up, next: second } = writeRunModules(stack, { database: DATABASE, container: CONTAINER });
      const workersUp = pool.start();
      log(`  seeding ${n} documents over ${partitions} physical partitions`);
      await seedCustomers(container, n);
      await workersUp;

      // Run 1: a kill as the migration starts, one every N ÷ 20 documents, and one as soon as it verifies.
      const first = await stack.client.workflow.start(migrationRunbook, {
        taskQueue: 'chaos-kills',
        workflowId: `chaos-kills-${up}`,
        args: [
          {
            migration: up,
            approval: { required: false },
            ruBudget: RU_BUDGET,
            monitor: { duration: '1s', interval: '1s' },
          },
        ],
      });
      const firstKills = await killWhileRunning(
        first,
        pool,
        {
          byDocuments: { count: plan.firstByDocuments, every: n / 10 },
          // As soon as it migrates (creating the pre-images container, an ARM step) and as soon as it verifies.
          phaseKills: { migrating: 1, verifying: 1 },
        },
        log
      );
      const report1 = await reportOf(first);
      const afterFirst = await documents(container, stack.stack.cosmos.admin);
      const byId = new Map(afterFirst.map((d) => [d.id, d]));
      const lost = countMissing(n, byId);
      const twice = afterFirst.filter((d) => (d.transformCount as number) > 1).length;
      const notOnce = afterFirst.filter((d) => d.transformCount !== 1 || d.schemaVersion !== 2).length;
      // Outside the product and the document: the writes at version 2 the emulator acknowledged per id, read from its
      // backup log before run 2 appends to it. A second write of the same result shows here.
      const logged = writtenOnce(
        n,
        await loggedWrites(stack.dir, { database: DATABASE, container: CONTAINER }, (d) => d.schemaVersion === 2)
      );

      // Run 2: a 2 → 3 module rolled back by signal mid-migration, kills while it migrates and while it rolls back.
      const handle = await stack.client.workflow.start(migrationRunbook, {
        taskQueue: 'chaos-kills',
        workflowId: `chaos-kills-${second}`,
        args: [
          {
            migration: second,
            approval: { required: false },
            ruBudget: RU_BUDGET,
            monitor: { duration: '1s', interval: '1s' },
          },
        ],
      });
      const rollbackAt = Math.floor(n * 0.3);
      const signalled = (async () => {
        for (;;) {
          const status = await handle.query(statusQuery).catch(() => undefined);
          if (status && status.counters.migrated >= rollbackAt) break;
          if (status && status.phase !== 'migrating' && status.phase !== 'preflight' && status.phase !== 'snapshot')
            break;
          await sleep(200);
        }
        await handle.signal(rollbackSignal, { reason: 'chaos: roll back mid-migration' });
        log(`  rollback signalled`);
      })();
      const secondKills = await killWhileRunning(
        handle,
        pool,
        {
          // Every N ÷ 20 documents before the rollback signal (at 30 %), then as it rolls back.
          byDocuments: { count: plan.secondByDocuments, every: n / 20 },
          phaseKills: { 'rolling-back': plan.rollingBack },
        },
        log
      );
      await signalled;
      const report2 = await reportOf(handle);
      const afterSecond = await documents(container, stack.stack.cosmos.admin);
      const notRestored =
        afterSecond.filter((d) => !sameDocument(d, byId.get(d.id))).length +
        (afterSecond.length - new Set(afterSecond.map((d) => d.id)).size) +
        countMissing(n, new Map(afterSecond.map((d) => [d.id, d])));
      const all = [...firstKills, ...secondKills];
      const seconds = Math.round((Date.now() - started) / 1000);
      log(
        `  ${all.length} kills in ${seconds} s: ` +
          all.map((k) => `${k.phase}${k.migrated !== undefined ? `@${k.migrated}` : ''}`).join(', ')
      );
      const starting = all.filter((k) => k.phase === 'migrating' && k.trigger === 'phase').length;

      return [
        figure('worker-kills: physical partitions', partitions, '≥ 4', partitions >= 4),
        figure('worker-kills: documents', n, quick ? '5000 (--quick)' : '50000', true),
        figure('worker-kills: SIGKILLs (workers restarted after each)', all.length, `≥ ${kills}`, all.length >= kills),
        figure('worker-kills: SIGKILLs as the migration starts (its ARM step)', starting, '≥ 1', starting >= 1),
        figure(
          'worker-kills: SIGKILLs during verification',
          count(all, 'verifying'),
          '≥ 1',
          count(all, 'verifying') >= 1
        ),
        figure(
          'worker-kills: SIGKILLs during rollback',
          count(all, 'rolling-back'),
          '≥ 1',
          count(all, 'rolling-back') >= 1
        ),
        figure('worker-kills: run 1 outcome', report1.status, 'completed', report1.status === 'completed'),
        figure('worker-kills: documents lost', lost, '0', lost === 0),
        figure('worker-kills: documents transformed twice', twice, '0', twice === 0),
        figure('worker-kills: documents not migrated exactly once', notOnce, '0', notOnce === 0),
        figure(
          'worker-kills: documents written at version 2 more than once (emulator log)',
          logged.twice,
          '0',
          logged.twice === 0
        ),
        figure(
          'worker-kills: documents never written at version 2 (emulator log)',
          logged.never,
          '0',
          logged.never === 0
        ),
        figure('worker-kills: final count', afterFirst.length, `= ${n}`, afterFirst.length === n),
        // The run's counter sums what each attempt heartbeated: pages a killed worker wrote after its last heartbeat
        // are migrated (the data figures above) but not counted, so it may fall short; it must never count more, and
        // a counter short by more than a fifth would misinform its operator.
        figure(
          'worker-kills: migrated counted by the run (short by pages written after a killed worker last heartbeated)',
          report1.counters.migrated,
          `${0.8 * n}–${n}`,
          report1.counters.migrated >= 0.8 * n && report1.counters.migrated <= n
        ),
        figure(
          'worker-kills: run 2 outcome (rollback signalled)',
          report2.status,
          'rolled-back',
          report2.status === 'rolled-back'
        ),
        figure('worker-kills: documents not as before run 2 after its rollback', notRestored, '0', notRestored === 0),
        figure('worker-kills: seconds', seconds, 'report', true),
      ];
    } finally {
      await pool.stop();
      await stack.close();
    }
  },
};

function count(kills: Kill[], phase: Phase): number {
  return kills.filter((k) => k.phase === phase).length;
}

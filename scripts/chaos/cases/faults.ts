/**
 * Faults at Cosmos and ARM. Cosmos answers 10 % of data requests 429, 2 % 503, 1 % never (the
 * client times out), drops 1 % of connections (half before the operation, half after it ran with the answer lost) and
 * answers 2 % of single bulk operations 503; ARM answers 10 % of requests 429 (with Retry-After) and 5 % 503, and its
 * long-running operations are slow. Under all of it: a run that snapshots, migrates and verifies, then a run whose
 * verification fails and is rolled back by an in-place point-in-time restore. Both must end as they should with
 * every document right: migrated exactly once, then restored to exactly the first run's result.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import type { FaultRule } from '../../../local/cosmos/types';
import { migrationRunbook } from '../../../workflows';
import { approveSignal, statusQuery } from '../../../workflows/messages';
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
import { figure, zero } from '../support/figures';
import { startChaosStack } from '../support/stack';
import { WorkerPool } from '../support/workers';

const DATABASE = 'chaos';
const CONTAINER = 'customers';
const TASK_QUEUE = 'chaos-faults';

export const COSMOS_FAULTS: FaultRule[] = [
  {
    throttleProbability: 0.1,
    retryAfterMs: 100,
    unavailableProbability: 0.02,
    timeoutProbability: 0.01,
    dropProbability: 0.005,
    dropResponseProbability: 0.005,
    bulkOperationFaultProbability: 0.02,
    bulkOperationStatus: 503,
  },
];

export const faults: ChaosCase = {
  name: 'faults',
  async run({ quick, log }) {
    const n = quick ? 2_000 : 20_000;
    const started = Date.now();
    const stack = await startChaosStack('faults');
    const pool = new WorkerPool(2, stack.workerEnv(TASK_QUEUE), stack.dir);
    try {
      const container = await stack.createContainer(DATABASE, CONTAINER, 40_000);
      const { up, next } = writeRunModules(
        stack,
        { database: DATABASE, container: CONTAINER },
        { secondPrefix: 'chaos-restore', secondVerifyFails: true }
      );
      const workersUp = pool.start();
      log(`  seeding ${n} documents`);
      await seedCustomers(container, n);
      await workersUp;

      const { cosmos, arm } = stack.stack;
      cosmos.control.setFaults(COSMOS_FAULTS);
      arm.control.setFaults([
        { status: 429, retryAfterSeconds: 1, probability: 0.1 },
        { status: 503, probability: 0.05 },
      ]);
      arm.control.setOperationDelay(quick ? 3_000 : 15_000);
      arm.control.setRestoreDuration(quick ? 10_000 : 60_000);
      log('  faults on: Cosmos 10 % 429, 2 % 503, 1 % timeouts, 1 % dropped connections; ARM 10 % 429, 5 % 503, slow');

      // Run 1: snapshot, migrate, verify under faults.
      const first = await stack.client.workflow.start(migrationRunbook, {
        taskQueue: TASK_QUEUE,
        workflowId: `chaos-faults-${up}`,
        args: [{ migration: up, approval: { required: false }, monitor: { duration: '1s', interval: '1s' } }],
      });
      const report1 = await reportOf(first);
      log(`  run 1: ${report1.status} (${report1.counters.migrated} migrated, ${report1.counters.failed} failed)`);
      const afterFirst = await documents(container, stack.stack.cosmos.admin);
      const byId = new Map(afterFirst.map((d) => [d.id, d]));
      const lost = countMissing(n, byId);
      const twice = afterFirst.filter((d) => (d.transformCount as number) > 1).length;
      const notOnce = afterFirst.filter((d) => d.transformCount !== 1 || d.schemaVersion !== 2).length;
      // Outside the product: one acknowledged write at version 2 per document in the emulator's backup log (a
      // resend after a lost answer that wrote twice shows here), read before run 2's restore appends to it.
      const logged = writtenOnce(
        n,
        await loggedWrites(stack.dir, { database: DATABASE, container: CONTAINER }, (d) => d.schemaVersion === 2)
      );

      // Run 2: verification fails, the rollback is an in-place restore to T0 (consented to when it asks).
      const second = await stack.client.workflow.start(migrationRunbook, {
        taskQueue: TASK_QUEUE,
        workflowId: `chaos-faults-${next}`,
        args: [
          {
            migration: next,
            approval: { required: false },
            monitor: { duration: '1s', interval: '1s' },
            preimages: false,
            rollback: 'restore',
            allowRestoreWithoutAppStop: true,
          },
        ],
      });
      await approveRestoreWhenAsked(second);
      const report2 = await reportOf(second);
      log(`  run 2: ${report2.status} (rollback ${report2.rollback?.mode ?? 'none'}, ok ${report2.rollback?.ok})`);
      cosmos.control.setFaults([]);
      arm.control.setFaults([]);
      const afterSecond = await documents(container, stack.stack.cosmos.admin);
      const notRestored =
        afterSecond.filter((d) => !sameDocument(d, byId.get(d.id))).length +
        countMissing(n, new Map(afterSecond.map((d) => [d.id, d])));
      const injected = cosmos.control.stats().injected;
      const armInjected = arm.control.faultsInjected();
      const seconds = Math.round((Date.now() - started) / 1000);
      return [
        figure('faults: documents', n, quick ? '2000 (--quick)' : '20000', true),
        figure(
          'faults: Cosmos faults injected (429 / 503 / timeout / drop / drop after write / bulk op 503)',
          `${injected.throttle} / ${injected.unavailable} / ${injected.timeout} / ${injected.drop} / ${injected.dropResponse} / ${injected.bulkOperation}`,
          'each > 0',
          [
            injected.throttle,
            injected.unavailable,
            injected.timeout,
            injected.drop,
            injected.dropResponse,
            injected.bulkOperation,
          ].every((c) => c > 0)
        ),
        figure(
          'faults: ARM faults injected (429 / 503)',
          `${armInjected[429] ?? 0} / ${armInjected[503] ?? 0}`,
          'each > 0',
          (armInjected[429] ?? 0) > 0 && (armInjected[503] ?? 0) > 0
        ),
        figure(
          'faults: run 1 outcome (snapshot, migrate, verify)',
          report1.status,
          'completed',
          report1.status === 'completed'
        ),
        zero('faults: documents lost', lost),
        zero('faults: documents transformed twice', twice),
        zero('faults: documents written at version 2 more than once (emulator log)', logged.twice),
        zero('faults: documents never written at version 2 (emulator log)', logged.never),
        zero('faults: documents not migrated exactly once', notOnce),
        zero('faults: documents counted failed', report1.counters.failed),
        figure(
          'faults: run 2 outcome (verification fails)',
          report2.status,
          'rolled-back',
          report2.status === 'rolled-back'
        ),
        figure(
          'faults: run 2 rollback',
          `${report2.rollback?.mode ?? 'none'} ${report2.rollback?.ok ? 'ok' : 'not ok'}`,
          'restore ok',
          report2.rollback?.mode === 'restore' && report2.rollback.ok === true
        ),
        zero('faults: documents not as after run 1 once restored', notRestored),
        figure('faults: seconds', seconds, 'report', true),
      ];
    } finally {
      await pool.stop();
      await stack.close();
    }
  },
};

/** Signals `approve` when the run asks to consent to the restore (the destructive step), once. */
async function approveRestoreWhenAsked(handle: WorkflowHandle): Promise<void> {
  for (;;) {
    const status = await handle.query(statusQuery).catch(() => undefined);
    if (status?.pendingDecision?.kind === 'approve-restore') {
      await handle.signal(approveSignal, { by: 'chaos', comment: 'restore under faults' });
      return;
    }
    if (status && ['completed', 'rolled-back', 'failed', 'aborted', 'rollback-failed'].includes(status.phase)) return;
    await sleep(500);
  }
}

/**
 * Temporal server restart: the stack's `temporal server start-dev` is SIGKILLed mid-migration and
 * again mid-rollback, with a real worker process connected to it. The stack's supervisor starts it again on the same
 * SQLite file and port, the worker reconnects by itself, and the run must complete: every document migrated exactly
 * once (the transform counts its applications), then rolled back exactly once, none lost.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import type { Container } from '@azure/cosmos';
import type { WorkflowHandle } from '@temporalio/client';
import type { RunbookReport } from '../../../common/report';
import type { RunbookStatus } from '../../../common/status';
import { migrationRunbook } from '../../../workflows';
import { rollbackSignal, statusQuery } from '../../../workflows/messages';
import type { ChaosCase, Figure } from '../types';
import { FAST_ARM_POLLS, startChaosStack, type ChaosStack } from '../support/stack';
import { documents } from '../support/data';

const DATABASE = 'chaos';
const CONTAINER = 'customers';
const TASK_QUEUE = 'chaos-server-restart';

/**
 * up counts its applications in upCount (a document transformed twice shows 2); down undoes it exactly (the plan
 * checks down(up(doc)) = doc, else it would choose a restore), so after the rollback every document must equal its
 * seeded self.
 */
function countingModule(id: string): string {
  return `module.exports = {
  id: ${JSON.stringify(id)}, description: 'count transforms', database: ${JSON.stringify(DATABASE)},
  container: ${JSON.stringify(CONTAINER)}, fromVersion: 1, toVersion: 2,
  up(doc) { return { ...doc, upCount: (doc.upCount ?? 0) + 1, schemaVersion: 2 }; },
  down(doc) { const out = { ...doc }; delete out.upCount; delete out.schemaVersion; return out; },
};
`;
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 300_000,
  explain: () => Promise<string> = async () => ''
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what} ${await explain().catch(() => '')}`);
}

/** SIGKILL the stack's Temporal server; resolves once the supervisor has it answering again (new pid). */
async function killTemporal(cs: ChaosStack, log: (line: string) => void): Promise<void> {
  const temporal = cs.stack.temporal!;
  const before = temporal.state().restarts;
  const pid = temporal.current()!.pid;
  log(`  SIGKILL Temporal dev server (pid ${pid})`);
  process.kill(pid, 'SIGKILL');
  await waitFor('the Temporal server to be restarted', async () =>
    temporal.state().restarts > before && temporal.state().state === 'up' ? true : undefined
  );
  log(`  Temporal dev server restarted (pid ${temporal.current()?.pid}) on the same data`);
}

async function status(handle: WorkflowHandle): Promise<RunbookStatus | undefined> {
  return handle.query(statusQuery).catch(() => undefined);
}

export const serverRestart: ChaosCase = {
  name: 'server-restart',
  async run({ quick, log }) {
    const n = quick ? 300 : 3_000;
    const cs = await startChaosStack('server-restart', { supervision: { backoffMs: 500 } });
    try {
      const container: Container = await cs.createContainer(DATABASE, CONTAINER);
      const id = `restart-${randomUUID().slice(0, 6)}`;
      cs.writeMigration(`${id}.js`, countingModule(id));
      log(`  seeding ${n} documents`);
      const original = Array.from({ length: n }, (_, i) => ({
        id: `c-${String(i).padStart(5, '0')}`,
        tenant: `t${i % 7}`,
        name: `First${i} Last${i}`,
      }));
      for (let i = 0; i < n; i += 50) {
        await Promise.all(original.slice(i, i + 50).map((doc) => container.items.create(doc)));
      }
      await cs.startWorker(TASK_QUEUE, FAST_ARM_POLLS);
      // Slow writes down so that each phase is still running when the server dies.
      cs.stack.cosmos.control.setFaults([{ kinds: ['batch', 'write'], latencyMs: quick ? 60 : 30 }]);

      const handle = await cs.client.workflow.start(migrationRunbook, {
        taskQueue: TASK_QUEUE,
        workflowId: `chaos-restart-${id}`,
        // Production heartbeat and retry settings: no `tuning`.
        args: [{ migration: id, approval: { required: false }, batchSize: 20, monitor: { duration: '1h' } }],
      });
      const migrated = async () =>
        (await documents(container, cs.stack.cosmos.admin)).filter((d) => d.schemaVersion === 2).length;

      // Mid-migration: a fifth of the documents done.
      const atKill = await waitFor('a fifth of the documents migrated', async () => {
        const done = await migrated();
        return done >= n / 5 ? done : undefined;
      });
      await killTemporal(cs, log);
      const migratedAtKill = atKill;

      // The run goes on to monitoring (1 h) by itself; then roll it back by signal and kill the server again.
      await waitFor(
        'the run to monitor',
        async () => ((await status(handle))?.phase === 'monitoring' ? true : undefined),
        300_000,
        async () => JSON.stringify((await status(handle))?.timeline.slice(-3))
      );
      const afterMigration = await documents(container, cs.stack.cosmos.admin);
      await handle.signal(rollbackSignal, { reason: 'chaos: server restart mid-rollback' });
      const revertedAtKill = await waitFor(
        'a fifth of the documents rolled back',
        async () => {
          const reverted = (await documents(container, cs.stack.cosmos.admin)).filter(
            (d) => d.schemaVersion === undefined
          ).length;
          return reverted >= n / 5 ? reverted : undefined;
        },
        120_000,
        async () => JSON.stringify((await status(handle))?.timeline.slice(-3))
      );
      await killTemporal(cs, log);
      cs.stack.cosmos.control.setFaults([]);

      const report: RunbookReport = await handle.result();
      const after = await documents(container, cs.stack.cosmos.admin);
      const migratedOnce = afterMigration.filter((d) => d.upCount === 1 && d.schemaVersion === 2).length;
      const exact = after.filter((doc, i) => JSON.stringify(doc) === JSON.stringify(original[i])).length;
      const restarts = cs.stack.temporal!.state().restarts;
      log(
        `  killed at ${migratedAtKill}/${n} migrated and ${revertedAtKill}/${n} rolled back; ` +
          `run ${report.status}, rollback ${report.rollback?.ok ? 'ok' : 'not ok'}`
      );
      const figures: Figure[] = [
        {
          name: 'server restart: Temporal restarts by the supervisor',
          value: restarts,
          target: '= 2 (mid-migration, mid-rollback)',
          holds: restarts === 2,
        },
        {
          name: 'server restart: documents migrated exactly once',
          value: `${migratedOnce}/${n}`,
          target: `= ${n}/${n}`,
          holds: migratedOnce === n && afterMigration.length === n,
        },
        {
          name: 'server restart: run rolled back after both restarts',
          value: `${report.status}${report.rollback ? `, rollback ${report.rollback.ok ? 'ok' : 'failed'}` : ''}`,
          target: 'rolled-back, rollback ok',
          holds: report.status === 'rolled-back' && report.rollback?.ok === true,
        },
        {
          name: 'server restart: documents exactly as seeded after the rollback',
          value: `${exact}/${n} (of ${after.length})`,
          target: `= ${n}/${n}`,
          holds: exact === n && after.length === n,
        },
      ];
      return figures;
    } finally {
      await cs.close();
    }
  },
};

/**
 * Figure 7, restore: a whole run of N documents that is rolled back once migrated (a `rollback` signal while it
 * monitors), by each strategy of docs/runbook.md: the in-place point-in-time restore (delete, restore at T0 through
 * ARM, verify; no stop-app hook, so allowRestoreWithoutAppStop) and the surgical rollback from pre-images. Documents
 * per second of the rollback phase (the report's timeline: rolling-back to rolled-back). RU model off.
 *
 * The ARM imitation rebuilds a restored container from the emulator's backup log at once (after its operation
 * delay); an Azure restore takes minutes to hours, so the restore's figure measures the runbook around it.
 */
import { rollbackSignal } from '../../workflows/messages';
import { createContainer, dropContainer, remainingAtOldVersion, seed } from '../data';
import type { BenchEnv } from '../env';
import { phaseSeconds, result, startRun, status } from '../runbook';
import { round, sleep } from '../timing';
import { PARTITIONED_THROUGHPUT } from './throughput';

export interface RollbackRun {
  strategy: string;
  docs: number;
  rollbackSeconds: number;
  docsPerSecond: number;
  status: string;
  atOldVersionAfter: number;
}

async function rollbackRun(
  env: BenchEnv,
  docs: number,
  strategy: 'restore' | 'preimages',
  nodeArgs: string[]
): Promise<RollbackRun> {
  env.stack.cosmos.control.setRuModel(false);
  const name = `rollback-${strategy}`;
  env.log(`restore (${strategy}): seeding ${docs} documents ...`);
  const container = await createContainer(env, name, PARTITIONED_THROUGHPUT);
  await seed(container, docs);
  const worker = await env.startWorker(nodeArgs);
  try {
    const extra =
      strategy === 'restore'
        ? {
            rollback: 'restore',
            allowRestoreWithoutAppStop: true,
            approval: { required: false, requiredForRestore: false },
          }
        : { rollback: 'preimages', preimages: true };
    const run = await startRun(env, {
      container: name,
      extra: { ...extra, monitor: { duration: '1h', interval: '1h' } },
    });
    for (;;) {
      const s = await status(run);
      if (s?.phase === 'monitoring') break;
      if (s && ['paused', 'failed', 'completed', 'rollback-failed'].includes(s.phase)) {
        throw new Error(`${strategy} run: ${s.phase} before monitoring (${s.lastError ?? ''})`);
      }
      await sleep(250);
    }
    await run.handle.signal(rollbackSignal, { reason: 'bench: measure the rollback' });
    const { report } = await result(run);
    const seconds = phaseSeconds(report, 'rolling-back');
    const measured = {
      strategy,
      docs,
      rollbackSeconds: round(seconds, 2),
      docsPerSecond: round(docs / seconds, 1),
      status: report.status,
      atOldVersionAfter: await remainingAtOldVersion(container),
    };
    env.log(`  ${JSON.stringify(measured)}`);
    if (report.status !== 'rolled-back' || measured.atOldVersionAfter !== docs) {
      throw new Error(`${strategy} rollback: ${report.status}, ${measured.atOldVersionAfter} of ${docs} back at v1`);
    }
    return measured;
  } finally {
    await worker.stop();
    await dropContainer(env, name);
    await dropContainer(env, `${name}-preimages`);
  }
}

export async function restoreFigure(
  env: BenchEnv,
  o: { docs: number; nodeArgs: string[] }
): Promise<{ restore: RollbackRun; preimages: RollbackRun }> {
  return {
    restore: await rollbackRun(env, o.docs, 'restore', o.nodeArgs),
    preimages: await rollbackRun(env, o.docs, 'preimages', o.nodeArgs),
  };
}

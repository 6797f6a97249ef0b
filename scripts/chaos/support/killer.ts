/**
 * Kills workers while a run goes on: `randomKills` at random moments (a random pause drawn from `pauseMs` before
 * each), and `phaseKills[phase]` as soon as the run is seen in that phase (verification, rollback), each followed by
 * the restart of the killed worker. Ends when the run ends; answers every kill.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import type { Phase } from '../../../common/phases';
import { FINAL_PHASES } from '../../../common/phases';
import { statusQuery } from '../../../workflows/messages';
import type { WorkerPool } from './workers';

export interface KillPlan {
  randomKills: number;
  /**
   * Phases where random kills fall. @default ['migrating']: the long phase, once its ranges run. A kill in a short
   * activity without heartbeats (preflight's checks, creating the pre-images container) is noticed only at its
   * start-to-close timeout (5 minutes), which says nothing more about durability and only makes the proof slow.
   */
  randomPhases?: Phase[];
  pauseMs: [number, number];
  phaseKills?: Partial<Record<Phase, number>>;
}

const POLL_MS = 200;

/** One kill: the phase the run was in, and whether the plan's phase trigger or the random clock chose the moment. */
export interface Kill {
  phase: Phase;
  trigger: 'phase' | 'random';
}

function pause([min, max]: [number, number]): number {
  return min + Math.random() * (max - min);
}

export async function killWhileRunning(
  handle: WorkflowHandle,
  pool: WorkerPool,
  plan: KillPlan,
  log: (line: string) => void
): Promise<Kill[]> {
  const kills: Kill[] = [];
  let randomLeft = plan.randomKills;
  let nextAt = Date.now() + pause(plan.pauseMs);
  const ended = handle.result().then(
    () => true,
    () => true
  );
  let done = false;
  void ended.then(() => (done = true));
  while (!done) {
    const status = await handle.query(statusQuery).catch(() => undefined);
    const phase = status?.phase;
    // Ended, or waiting for an operator (reportOf turns that into an error).
    if (phase && (FINAL_PHASES.includes(phase) || phase === 'paused' || phase === 'rollback-failed')) break;
    const wanted = phase ? (plan.phaseKills?.[phase] ?? 0) : 0;
    const inPhase = kills.filter((k) => k.phase === phase && k.trigger === 'phase').length;
    const byPhase = phase !== undefined && inPhase < wanted;
    // In the migrating phase, only once ranges are being migrated (before that: quick preparation steps).
    const rangesRunning = phase !== 'migrating' || (status !== undefined && status.ranges.total > status.ranges.done);
    const byClock =
      phase !== undefined &&
      (plan.randomPhases ?? ['migrating']).includes(phase) &&
      rangesRunning &&
      randomLeft > 0 &&
      Date.now() >= nextAt;
    if ((byPhase || byClock) && (await pool.killOne())) {
      kills.push({ phase, trigger: byPhase ? 'phase' : 'random' });
      if (!byPhase) randomLeft -= 1;
      nextAt = Date.now() + pause(plan.pauseMs);
      log(`  SIGKILL #${kills.length} in phase ${phase} (${status?.counters.migrated ?? 0} migrated so far)`);
    }
    await Promise.race([sleep(POLL_MS), ended]);
  }
  return kills;
}

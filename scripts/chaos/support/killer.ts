/**
 * Kills workers while a run goes on, on a schedule of work done, not of time: `byDocuments.count` kills spread over
 * the documents (the k-th once the run has migrated k × `every`, read from the server: ./progress.ts), and
 * `phaseKills[phase]` as soon as the run is seen in that phase (the migration's start, verification, rollback). After
 * each kill the killed worker is started again and the next kill waits until it listens, so every kill is a crash
 * the run recovers from, and a fast machine makes the same kills as a slow one (with one worker, nothing moves while
 * it is down: the kills owed are made before the work goes on). Ends when the run ends.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import type { Phase } from '../../../common/phases';
import { FINAL_PHASES } from '../../../common/phases';
import { RunProgress } from './progress';
import type { WorkerPool } from './workers';

export interface KillPlan {
  byDocuments?: {
    count: number;
    /** Documents between two kills (the first after `every`). */
    every: number;
    /**
     * Phases where they fall. @default ['migrating']: the long phase, once its ranges run. A kill in a short activity
     * without heartbeats (preflight's checks, creating the pre-images container) is noticed only at its
     * start-to-close timeout (5 minutes), which says nothing more about durability and only makes the proof slow.
     */
    phases?: Phase[];
  };
  phaseKills?: Partial<Record<Phase, number>>;
}

const POLL_MS = 200;

/** One kill: the phase the run was in, what chose the moment, and the documents migrated then (by documents). */
export interface Kill {
  phase: Phase;
  trigger: 'phase' | 'documents';
  migrated?: number;
}

export async function killWhileRunning(
  handle: WorkflowHandle,
  pool: WorkerPool,
  plan: KillPlan,
  log: (line: string) => void
): Promise<Kill[]> {
  const kills: Kill[] = [];
  const progress = new RunProgress(handle);
  const byDocuments = plan.byDocuments;
  const ended = handle.result().then(
    () => true,
    () => true
  );
  let done = false;
  void ended.then(() => (done = true));
  while (!done) {
    const reading = await progress.read().catch(() => undefined);
    const phase = reading?.phase;
    // Ended, or waiting for an operator (reportOf turns that into an error).
    if (phase && (FINAL_PHASES.includes(phase) || phase === 'paused' || phase === 'rollback-failed')) break;
    const wanted = phase ? (plan.phaseKills?.[phase] ?? 0) : 0;
    const inPhase = kills.filter((k) => k.phase === phase && k.trigger === 'phase').length;
    const byPhase = phase !== undefined && inPhase < wanted;
    const made = kills.filter((k) => k.trigger === 'documents').length;
    // In the migrating phase, only once ranges are being migrated (before that: quick preparation steps).
    const byDocs =
      !byPhase &&
      byDocuments !== undefined &&
      phase !== undefined &&
      (byDocuments.phases ?? ['migrating']).includes(phase) &&
      reading !== undefined &&
      reading.rangesInFlight > 0 &&
      made < byDocuments.count &&
      reading.migrated >= (made + 1) * byDocuments.every;
    if (phase !== undefined && (byPhase || byDocs)) {
      const started = Date.now();
      const killed = await pool.killOneAndRestart();
      if (killed) {
        kills.push({
          phase,
          trigger: byPhase ? 'phase' : 'documents',
          ...(byPhase ? {} : { migrated: reading?.migrated }),
        });
        log(
          `  SIGKILL #${kills.length} in phase ${phase}` +
            `${byPhase ? ' (as it began)' : ` at ${reading?.migrated} documents migrated`}; ` +
            `${killed} listening again after ${((Date.now() - started) / 1000).toFixed(1)} s`
        );
        continue;
      }
    }
    await Promise.race([sleep(POLL_MS), ended]);
  }
  return kills;
}

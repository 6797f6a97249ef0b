/**
 * Verifying (the manual runbook's step 3): counts per version, the migration's own verify() on a sample, relationships
 * and the container's properties. A failure rolls back, or with `rollback: "manual"` pauses for the operator.
 *
 * Old-shape documents are not a failure: during a rollout the old application keeps writing documents in the old shape
 * after the backfill passed their range. When they are all verification found wrong, the ranges are migrated once
 * more (catching them up, through the same engine and budget) and verified again, up to MAX_CATCH_UPS times; only
 * documents whose transform fails, or that verify() refuses, count as problems. An application that never stops
 * writing the old shape is still a problem after MAX_CATCH_UPS passes.
 */
import type { Run } from '../run/run';
import type { Transition } from '../run/transition';
import { checkDeclaredQueries } from './knowing';
import { rollingBack } from './migrate';

/** Catch-up passes before old-shape documents that keep arriving count as a verification problem. */
export const MAX_CATCH_UPS = 5;

export async function verify(run: Run): Promise<Transition> {
  const { state, options } = run;
  const { migration } = state;
  // A run continued as new while paused on a failed verification waits on it, without verifying again.
  if (state.phase === 'paused' && state.verification && !state.verification.ok)
    return decide(run, state.lastError ?? '');
  await run.enterPhase('verifying');
  const verification = await run.acts.scan.verifyMigration.executeWithOptions({ summary: `verify ${run.where}` }, [
    {
      database: migration.database,
      container: migration.container,
      migration: migration.id,
      checksum: migration.checksum,
      direction: options.direction,
      sampleSize: options.verifySampleSize,
      allowedRemaining: state.migrating.counters.failed,
    },
  ]);
  // The declared queries again (runs with a baseline only): an index lost or RU grown past the limit fails it.
  const queryProblems = await checkDeclaredQueries(run);
  state.verification = queryProblems.length
    ? { ...verification, ok: false, problems: [...verification.problems, ...queryProblems] }
    : verification;
  if (state.verification.ok) return { to: 'monitoring' };
  const late = state.verification.stillToMigrate ?? 0;
  const onlyLate = late > 0 && verification.problems.length === 1 && queryProblems.length === 0;
  if (onlyLate && !options.dryRun && (state.catchUps ?? 0) < MAX_CATCH_UPS) {
    state.catchUps = (state.catchUps ?? 0) + 1;
    for (const range of state.migrating.ranges ?? []) {
      range.done = false;
      range.continuation = undefined;
    }
    await run.enterPhase(
      'migrating',
      `catching up ${late} document(s) written in the old shape since the backfill passed them ` +
        `(pass ${state.catchUps} of at most ${MAX_CATCH_UPS})`
    );
    return { to: 'migrating' };
  }
  const reason = `verification failed: ${state.verification.problems.join('; ')}`;
  if (options.rollback === 'manual') return decide(run, reason);
  return rollingBack(run, reason);
}

/** `rollback: "manual"`: the operator decides: resume accepts the result as it is, rollback undoes it. */
async function decide(run: Run, reason: string): Promise<Transition> {
  const decision = await run.pause(reason, 'verifying');
  if (decision === 'resume') return { to: 'monitoring' };
  if (decision === 'continue-as-new') return { to: 'continue-as-new' };
  return rollingBack(run, reason);
}

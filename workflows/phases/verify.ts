/**
 * Verifying (the seed's step 3): counts per version, the migration's own verify() on a sample, relationships and the
 * container's properties. A failure rolls back, or with `rollback: "manual"` pauses for the operator.
 */
import type { Run } from '../run/run';
import type { Transition } from '../run/transition';
import { checkDeclaredQueries } from './knowing';
import { rollingBack } from './migrate';

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
      allowedRemaining: state.counters.failed,
    },
  ]);
  // The declared queries again (runs with a baseline only): an index lost or RU grown past the limit fails it.
  const queryProblems = await checkDeclaredQueries(run);
  state.verification = queryProblems.length
    ? { ...verification, ok: false, problems: [...verification.problems, ...queryProblems] }
    : verification;
  if (state.verification.ok) return { to: 'monitoring' };
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

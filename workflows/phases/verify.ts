/**
 * Verifying (the seed's step 3): counts per version, the migration's own verify() on a sample, relationships and the
 * container's properties. A failure rolls back, or with `rollback: "manual"` pauses for the operator.
 */
import type { Run } from '../run/run';
import type { Transition } from '../run/transition';
import { rollingBack } from './migrate';

export async function verify(run: Run): Promise<Transition> {
  const { state, options } = run;
  const { migration } = state;
  await run.enterPhase('verifying');
  const verification = await run.acts.quick.verifyMigration.executeWithOptions({ summary: `verify ${run.where}` }, [
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
  state.verification = verification;
  if (verification.ok) return { to: 'monitoring' };
  const reason = `verification failed: ${verification.problems.join('; ')}`;
  if (options.rollback === 'manual') {
    // The operator decides: resume accepts the result as it is, rollback undoes it.
    if ((await run.pause(reason)) === 'resume') return { to: 'monitoring' };
  }
  return rollingBack(run, reason);
}

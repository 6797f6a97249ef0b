/** Snapshot (the manual runbook's pre-migration backup): restore point T0 from the server's clock, just before the first write. */
import type { Run } from '../run/run';
import type { Transition } from '../run/transition';

export async function snapshot(run: Run): Promise<Transition> {
  const { state, options, where } = run;
  const { migration } = state;
  // A dry run writes nothing, and a container the run will create has nothing to restore.
  if (!options.dryRun && state.exported) {
    await run.enterPhase('snapshot', `restore point T0 of ${where}`);
    state.snapshot = await run.acts.scan.takeSnapshot.executeWithOptions(
      { summary: `snapshot ${where}: T0 and counts` },
      [{ database: migration.database, container: migration.container, versionField: migration.versionField }]
    );
  }
  state.migrating.since = run.now();
  await run.enterPhase('migrating', options.dryRun ? 'dry run: nothing is written' : undefined);
  return { to: 'migrating' };
}

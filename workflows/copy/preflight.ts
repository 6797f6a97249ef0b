/**
 * Preflight of a copy (docs/migrations.md "Copy mode"): the account's backup policy (it decides how deletes are found:
 * all-versions-and-deletes needs continuous backup), the source's definition, the plan from a sample (its RU per read
 * and per write, and whether down() gives every sampled document back), the target checked, and the copy's plan in
 * words for the approval request. Nothing is written: the target is created after the approval
 * (workflows/copy/backfill.ts).
 */
import { zeroCopyCounters } from '../../common/copy';
import { describeCopyPlan, planCopy } from '../../common/copy-plan';
import type { Run } from '../run/run';
import { end, type Transition } from '../run/transition';
import { restoreDrillGate } from '../phases/knowing';
import { stagingGate } from '../phases/preflight';
import { copyRef } from './ranges';

export async function copyPreflight(run: Run): Promise<Transition> {
  const { state, options, where } = run;
  const { migration } = state;
  const declared = migration.target!;
  const { quick } = run.acts;
  const ref = copyRef(run);
  state.rollback.mode = 'copy';
  await run.enterPhase('preflight', `${migration.id}: copy ${where} into ${ref.database}/${declared.container}`);
  const refused = (reason: string): Transition => {
    state.lastError = reason;
    return end({ phase: 'failed', status: 'failed', reason });
  };
  // The copy is undone by its own rollback: pre-images and a restore would act on the source, which it never writes.
  if (options.rollback === 'preimages' || options.rollback === 'restore') {
    return refused(
      `rollback "${options.rollback}" does not apply to a copy (target ${declared.container}): the source is never written; a copy's rollback deletes the target before the cutover and drains the reverse sync after it`
    );
  }
  state.backup = await quick.checkBackupPolicy.executeWithOptions({ summary: 'check the account backup policy' }, [
    { minimumTier: options.minimumBackupTier },
  ]);
  state.exported = await quick.exportContainer.executeWithOptions({ summary: `export the definition of ${where}` }, [
    { database: ref.database, container: ref.container },
  ]);
  const existing = await quick.exportContainer.executeWithOptions(
    { summary: `check the target ${ref.database}/${declared.container}` },
    [ref.target]
  );
  if (existing) {
    run.note(
      `the target ${declared.container} exists: it is used only if it is empty with the declared partition key and unique keys (checked again before the first write)`,
      'preflight'
    );
  }
  state.plan = await run.acts.scan.planMigration.executeWithOptions(
    { summary: `plan: sample ${options.planSampleSize} documents` },
    [
      {
        database: ref.database,
        container: ref.container,
        migration: migration.id,
        checksum: migration.checksum,
        direction: 'up',
        sampleSize: options.planSampleSize,
        ruBudget: options.ruBudget,
        verifySampleSize: options.verifySampleSize,
      },
    ]
  );
  if (migration.queries?.length) {
    // The declared queries' baseline on the source: the cutover point measures them on the target.
    const measured = await quick.runDeclaredQueries.executeWithOptions(
      { summary: `baseline of ${migration.queries.length} declared queries on ${where}` },
      [{ database: ref.database, container: ref.container, migration: migration.id, checksum: migration.checksum }]
    );
    state.knowing.queriesBefore = measured.queries;
  }
  const plan = planCopy(declared, state.plan, state.backup);
  state.copy = {
    plan,
    outcome: { target: ref.target, mode: plan.deletes.mode, copied: zeroCopyCounters() },
  };
  if (options.rollback === 'down' && !plan.reverseSync) {
    return refused(`rollback "down" was asked for, but ${plan.rollbackAfterCutover}`);
  }
  state.rollback.plan = describeCopyPlan(plan);
  run.note(`copy plan: ${state.rollback.plan}`, 'preflight');
  // The operator's gates hold for a copy as for any run.
  const noDrill = await restoreDrillGate(run);
  if (noDrill) return refused(noDrill);
  const unstaged = await stagingGate(run);
  if (unstaged) return refused(unstaged);
  if (options.dryRun) {
    return end({
      phase: 'completed',
      status: 'dry-run',
      reason: `dry run: ${plan.documents} document(s) would be copied into ${declared.container}; nothing was created or written`,
    });
  }
  return { to: 'awaiting-approval' };
}

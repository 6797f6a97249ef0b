/**
 * The rollback strategy, chosen in preflight once the plan has proved what it can (docs/runbook.md, "Rollback"):
 * least destructive first. `auto` picks pre-images when they are kept, then the module's down() when the plan proved
 * `down(up(doc))` gives every sampled document back, then an in-place restore (which needs consent when it comes to
 * it). The plan and the approval request say what the chosen one keeps and loses.
 */
import type { MigrationInfo, MigrationPlan, RoundTripCheck } from '../../common/activities';
import type { Run } from '../run/run';
import type { RollbackMode, RunState } from '../state';

const KEEPS_AND_LOSES: Record<RollbackMode, string> = {
  preimages:
    'rollback by pre-images, per document: each document the migration wrote and nobody changed since gets its ' +
    'pre-image back; one the application changed, re-created or created since is given back by a proved down(), ' +
    'otherwise left exactly as the application wrote it and named, and the run waits for the operator to accept ' +
    'those; documents the application deleted stay deleted; the container is never deleted. Costs one extra write per ' +
    'migrated document',
  down:
    "rollback by the module's down() over every migrated document; the application keeps running (stopped by the " +
    'stop-app hook if configured); its later writes to fields down() rewrites are overwritten by down()',
  restore:
    'rollback by an in-place point-in-time restore to T0: the container is deleted and restored, and every write made ' +
    'after T0 is lost (counted and shown before the approval the restore asks for); needs a stop-app hook',
  // A copy's plan says it in full (common/copy-plan.ts describeCopyPlan); chooseRollback never picks it.
  copy: 'rollback of a copy: the target deleted before the cutover, the reverse sync drained after it',
};

function roundTripProblem(check: RoundTripCheck | undefined): string | undefined {
  if (!check || check.mismatched === 0) return undefined;
  const listed = check.mismatches
    .map((m) => `${m.id}${m.error ? ` (${m.error})` : m.fields.length ? ` (${m.fields.join(', ')})` : ''}`)
    .join(', ');
  return `down(up(doc)) does not give back ${check.mismatched} of ${check.checked} sampled document(s): ${listed}`;
}

/**
 * Whether a run with these options keeps pre-images when it writes (a dry run writes none, but its plan prices
 * them): an up migration, asked for, or by default when the module has no down(), or rollback "preimages".
 */
export function keepsPreimages(
  options: Pick<RunState['options'], 'direction' | 'preimages' | 'rollback'>,
  migration: Pick<MigrationInfo, 'hasDown'>
): boolean {
  if (options.direction !== 'up' || options.preimages === false) return false;
  return options.rollback === 'preimages' || (options.preimages ?? !migration.hasDown);
}

/** Decides state.rollback.preimages and state.rollback.mode; returns a refusal when the strategy asked for cannot work. */
export function chooseRollback(run: Run, plan: MigrationPlan | undefined): string | undefined {
  const { state, options } = run;
  const { migration } = state;
  if (!migration.migratesDocuments) {
    state.rollback.plan = 'rollback by undoing the container steps';
    return undefined;
  }
  const up = options.direction === 'up';
  const hasReverse = up ? migration.hasDown : migration.hasUp;
  state.rollback.preimages = up && !options.dryRun && (options.preimages ?? !migration.hasDown);
  const roundTrip = roundTripProblem(plan?.roundTrip);
  if (roundTrip) run.note(`plan: ${roundTrip}`, 'preflight');
  const downProved = hasReverse && roundTrip === undefined;

  let mode: RollbackMode;
  if (options.rollback === 'preimages') {
    if (!up) return 'rollback "preimages" reverts an up migration only';
    if (options.preimages === false) return 'rollback "preimages" was asked for with preimages: false';
    state.rollback.preimages = !options.dryRun;
    mode = 'preimages';
  } else if (options.rollback === 'down' || options.rollback === 'restore') {
    if (options.rollback === 'down' && roundTrip) return `rollback "down" was asked for, but ${roundTrip}`;
    mode = options.rollback;
  } else {
    mode = state.rollback.preimages ? 'preimages' : downProved ? 'down' : 'restore';
  }
  state.rollback.mode = mode;
  state.rollback.plan = KEEPS_AND_LOSES[mode];
  run.note(`rollback plan: ${state.rollback.plan}`, 'preflight');
  return undefined;
}

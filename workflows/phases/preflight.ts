/**
 * Preflight (the manual runbook's pre-migration checklist): load and checksum the migration, take the container's lease, check
 * the backup policy, export the container's definition, plan from a sample, and the staging gate. Nothing is written.
 */
import { ActivityFailure, ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import type { ContainerExport, Direction, MigrationInfo } from '../../common/activities';
import { compareDefinitions, type ParityField } from '../../common/parity';
import { zeroCounters } from '../../common/counters';
import type { RunbookOptions, RunbookStart } from '../../common/runbook-input';
import type { RollbackMode, RunState } from '../state';
import type { Inbox } from '../run/inbox';
import { Lease } from '../run/lease';
import { Run, type Activities } from '../run/run';
import { end, type Transition } from '../run/transition';
import { restoreDrillGate, takeBaselines } from './knowing';
import { chooseRollback, keepsPreimages } from './strategy';
import { ErrorType } from '../../common/errors';

/**
 * A rollback by restore deletes the container: before any write, prove Azure could restore it (continuous backup,
 * dedicated throughput, the concurrent-restore limit, the permission). T0 is not taken yet, so the window is checked
 * again right before the delete. Returns the refusal, or undefined.
 */
async function proveRestorableNow(run: Run, exported: ContainerExport): Promise<string | undefined> {
  const proof = await run.acts.quick.proveRestorable.executeWithOptions(
    { summary: `prove ${run.where} could be restored in place` },
    [{ database: exported.database, container: exported.container, t0: run.now(), exported }]
  );
  const problems = proof.checks.filter((c) => !c.ok && c.name !== 'restore-window').map((c) => c.detail);
  if (problems.length === 0) {
    run.note('Azure can restore the container in place (checked again right before any delete)', 'preflight');
    return undefined;
  }
  return (
    `rollback by restore is not possible, so nothing was changed: ${problems.join('; ')}; ` +
    'keep pre-images (preimages: true), give the module a down(), or choose another rollback'
  );
}

/**
 * The staging container's definition against production's: each difference not accepted is listed, with both values.
 * Returns the refusal, or undefined when they match (or every difference is accepted).
 */
async function stagingParity(
  run: Run,
  production: ContainerExport,
  gate: NonNullable<RunbookOptions['requireStagingRun']>
): Promise<string | undefined> {
  const ref = { database: gate.database, container: gate.container ?? production.container };
  const staging = await run.acts.quick.exportContainer.executeWithOptions(
    { summary: `export the definition of staging ${ref.database}/${ref.container}` },
    [ref]
  );
  if (!staging) return `requireStagingRun: the staging container ${ref.database}/${ref.container} does not exist`;
  const accepted = (field: ParityField) =>
    gate.acceptDifferences === true ||
    (Array.isArray(gate.acceptDifferences) && gate.acceptDifferences.includes(field));
  const differences = compareDefinitions(production, staging);
  for (const d of differences.filter((x) => accepted(x.field))) {
    run.note(`staging differs in ${d.field} (accepted): production ${d.production}, staging ${d.staging}`, 'preflight');
  }
  const refused = differences.filter((d) => !accepted(d.field));
  if (refused.length === 0) return undefined;
  return (
    `requireStagingRun: staging ${ref.database}/${ref.container} differs from production ${run.where}: ` +
    refused.map((d) => `${d.field} (production ${d.production}, staging ${d.staging})`).join('; ') +
    `; make them match, or accept with requireStagingRun.acceptDifferences: ${JSON.stringify(refused.map((d) => d.field))}`
  );
}

/**
 * `requireStagingRun`: the same module (by checksum) completed in the staging database, whose container's definition
 * matches production's (or the differences are accepted). Returns the refusal, or undefined.
 */
export async function stagingGate(run: Run): Promise<string | undefined> {
  const { state, options } = run;
  const { migration } = state;
  if (!options.requireStagingRun) return undefined;
  const staging = options.requireStagingRun.database;
  const found = await run.acts.quick.checkStagingRun.executeWithOptions(
    { summary: `look for a completed run in ${staging}` },
    [{ database: staging, migrationId: migration.id, checksum: migration.checksum, direction: options.direction }]
  );
  if (!found.found) {
    return `requireStagingRun: migration ${migration.id} (checksum ${migration.checksum.slice(0, 12)}) has not completed ${options.direction} in database ${staging}`;
  }
  if (state.exported) return stagingParity(run, state.exported, options.requireStagingRun);
  return undefined;
}

/**
 * A module that cannot be loaded, or a target the worker's allow-list refuses, fails the run with the activity's own
 * failure (type and message) rather than "Activity task failed" around it: that is what `temporal workflow describe`
 * and the web UI show first. Only the failure's content changes, not the commands: recorded histories replay.
 */
function refusalOf(err: unknown): ApplicationFailure | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  if (!(cause instanceof ApplicationFailure)) return undefined;
  if (cause.type !== ErrorType.MigrationInvalid && cause.type !== ErrorType.ContainerNotAllowed) return undefined;
  return ApplicationFailure.nonRetryable(cause.message, cause.type);
}

/** `auto` is `down` when the module can undo itself (or moves no documents), else a restore. */
function rollbackModeOf(start: RunbookStart, migration: MigrationInfo): RollbackMode {
  const { options } = start;
  if (options.rollback === 'down' || options.rollback === 'restore') return options.rollback;
  const reverse: Direction = options.direction === 'up' ? 'down' : 'up';
  const reversible = reverse === 'down' ? migration.hasDown : migration.hasUp;
  return reversible || !migration.migratesDocuments ? 'down' : 'restore';
}

/**
 * Loads the migration and takes the container's lease: the run exists from here on. A container held by another
 * run fails the workflow (ContainerBusy) with nothing of ours to record or release.
 */
export async function startRun(start: RunbookStart, inbox: Inbox, acts: Activities): Promise<Run> {
  const { options, tuning } = start;
  const { workflowId, startTime } = workflowInfo();
  const migration = await acts.quick.loadMigration
    .executeWithOptions({ summary: `load migration ${options.migration}` }, [
      {
        migration: options.migration,
        direction: options.direction,
        database: options.database,
        container: options.container,
      },
    ])
    .catch((err: unknown) => {
      throw refusalOf(err) ?? err;
    });
  // A document migration of a container that does not exist, and that the module does not create, would wait forever
  // on ranges that never come (and its lease would create the database of a typo'd override): refuse it before the
  // lease, naming the container.
  if (migration.migratesDocuments && !migration.containerSteps?.create) {
    const where = `${migration.database}/${migration.container}`;
    const exists = await acts.quick.exportContainer.executeWithOptions({ summary: `check that ${where} exists` }, [
      { database: migration.database, container: migration.container },
    ]);
    if (!exists) {
      throw ApplicationFailure.nonRetryable(
        `container ${where} does not exist and migration ${migration.id} does not create it: check the module's ` +
          "database and container, or the run's database/container override; nothing was changed",
        ErrorType.PreflightFailed
      );
    }
  }
  const startedAt = startTime.toISOString();
  const state: RunState = {
    options,
    tuning,
    startedAt,
    migration,
    leaseKey: `${migration.database}/${migration.container}`,
    generation: 0,
    phase: 'preflight',
    phaseSince: startedAt,
    timeline: [],
    gates: { approvals: [] },
    migrating: { counters: zeroCounters(), failures: [], failureAllowance: options.maxFailures },
    knowing: {},
    rollback: { mode: rollbackModeOf(start, migration), attempts: 0 },
  };
  const lease = new Lease(acts.quick, tuning, workflowId, state.leaseKey);
  const taken = await lease.acquire();
  if (!taken.acquired) {
    throw ApplicationFailure.nonRetryable(
      `container ${state.leaseKey} is held by workflow ${taken.holder} until ${taken.expiresAt}`,
      ErrorType.ContainerBusy
    );
  }
  lease.keep();
  return new Run(state, inbox, lease, acts, workflowId);
}

export async function preflight(run: Run): Promise<Transition> {
  const { state, options, where } = run;
  const { migration } = state;
  const { quick } = run.acts;
  await run.enterPhase(
    'preflight',
    `${migration.id} ${options.direction} on ${where}; rollback by ${state.rollback.mode}`
  );
  const refused = (reason: string): Transition => {
    state.lastError = reason;
    return end({ phase: 'failed', status: 'failed', reason });
  };
  const reverse: Direction = options.direction === 'up' ? 'down' : 'up';
  const has = (direction: Direction) => (direction === 'down' ? migration.hasDown : migration.hasUp);
  if (migration.migratesDocuments && !has(options.direction)) {
    return refused(`migration ${migration.id} has no ${options.direction}()`);
  }
  if (options.rollback === 'down' && migration.migratesDocuments && !has(reverse)) {
    return refused(`rollback "down" was asked for, but migration ${migration.id} has no ${reverse}()`);
  }

  const backup = await quick.checkBackupPolicy.executeWithOptions({ summary: 'check the account backup policy' }, [
    { minimumTier: options.minimumBackupTier },
  ]);
  state.backup = backup;
  // The backup matters only if the rollback chosen after the plan is a restore (checked there).
  const ref = { database: migration.database, container: migration.container };
  // With its stored procedures, triggers and UDFs: a point-in-time restore does not bring them back.
  state.exported = await quick.exportContainer.executeWithOptions({ summary: `export the definition of ${where}` }, [
    { ...ref, scripts: true },
  ]);
  if (state.exported && migration.migratesDocuments) {
    state.plan = await run.acts.scan.planMigration.executeWithOptions(
      { summary: `plan: sample ${options.planSampleSize} documents` },
      [
        {
          ...ref,
          migration: migration.id,
          checksum: migration.checksum,
          direction: options.direction,
          sampleSize: options.planSampleSize,
          ruBudget: options.ruBudget,
          // What the real run will do, also for a plan (a dry run keeps none): its cost counts the pre-image writes.
          preimages: keepsPreimages(options, migration),
          verifySampleSize: options.verifySampleSize,
        },
      ]
    );
  }
  const problem = chooseRollback(run, state.plan);
  if (problem) return refused(problem);
  if (!backup.meetsMinimum) {
    if (state.rollback.mode === 'restore' && !options.dryRun) return refused(`backup check failed: ${backup.reason}`);
    run.note(`backup: ${backup.reason} (the rollback is by ${state.rollback.mode}, not a restore)`, 'preflight');
  }
  if (state.exported && state.rollback.mode === 'restore' && migration.migratesDocuments && !options.dryRun) {
    const unprovable = await proveRestorableNow(run, state.exported);
    if (unprovable && options.rollback !== 'manual') return refused(unprovable);
    if (unprovable) run.note(`${unprovable} (rollback is manual: a rollback would fail before deleting)`, 'preflight');
  }
  const noDrill = await restoreDrillGate(run);
  if (noDrill) return refused(noDrill);
  if (state.exported && migration.migratesDocuments) await takeBaselines(run);
  const unstaged = await stagingGate(run);
  if (unstaged) return refused(unstaged);
  return { to: 'awaiting-approval' };
}

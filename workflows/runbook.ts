/**
 * migrationRunbook: the seed database-migration runbook as one durable workflow (ARCHITECTURE §2):
 * preflight → awaiting-approval → snapshot → migrating → verifying → monitoring → completed, with paused,
 * rolling-back (a child workflow), rolled-back, rollback-failed and aborted on the way when things go wrong.
 *
 * One run per container (a lease in Cosmos), progress checkpointed per feed range, continue-as-new carrying the
 * whole state before the history grows large. Only ids, counts and tokens enter history: never document contents.
 */
import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  executeChild,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import type { Direction, HistoryRecord, RunStatus } from '../common/activities';
import type { Phase } from '../common/phases';
import type { RunbookReport } from '../common/report';
import { renderReportMarkdown } from '../common/report-markdown';
import { parseRunbookInput } from '../common/runbook-input';
import { COSMOS_CONTAINER, MIGRATION_ID, MIGRATION_PHASE } from '../common/search-attributes';
import type { PendingDecision, RunbookStatus } from '../common/status';
import { runbookActivities } from './activities';
import { abortSignal, approveSignal, resumeSignal, rollbackSignal, statusQuery, type ApproveArgs } from './messages';
import { addCounters, zeroCounters } from '../common/counters';
import { migrateAllRanges } from './migrate';
import { describe, rollbackProgressSignal, rollbackRunbook, type RollbackInput, type RollbackResult } from './rollback';
import { MAX_FAILURES_KEPT, MAX_TIMELINE, currentDetails, rates, type CarriedState, type RollbackMode } from './state';
import { tuningSchema, type RunbookTuning } from './tuning';

export type { CarriedState } from './state';

/** Ends the run with a report (completed, aborted, rolled-back, ...). */
class RunEnded {
  constructor(readonly report: RunbookReport) {}
}

function invalidInput(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, 'InvalidInput');
}

/** Splits the hidden `tuning` field off the input, and validates both. */
function parseInput(input: unknown): { options: CarriedState['options']; tuning: RunbookTuning } {
  let rest = input;
  let tuningInput: unknown = {};
  if (input && typeof input === 'object' && !Array.isArray(input) && 'tuning' in input) {
    const { tuning, ...others } = input as Record<string, unknown>;
    tuningInput = tuning;
    rest = others;
  }
  let options;
  try {
    options = parseRunbookInput(rest);
  } catch (err) {
    throw invalidInput((err as Error).message);
  }
  const tuning = tuningSchema.safeParse(tuningInput ?? {});
  if (!tuning.success) {
    throw invalidInput(
      `invalid runbook input:\n${tuning.error.issues.map((i) => `tuning.${i.path.join('.')}: ${i.message}`).join('\n')}`
    );
  }
  return { options, tuning: tuning.data };
}

export async function migrationRunbook(input: unknown, carried?: CarriedState): Promise<RunbookReport> {
  const info = workflowInfo();
  const workflowId = info.workflowId;
  const parsed = carried ? { options: carried.options, tuning: carried.tuning } : parseInput(input);
  const { options, tuning } = parsed;
  const { quick, long, arm, notify } = runbookActivities(tuning);
  const now = () => new Date(Date.now()).toISOString();

  // ---- signals and the status query: registered first, so nothing sent early is lost -------------------------------
  let approval: ApproveArgs | undefined;
  let abortReason: string | undefined;
  let rollbackReason: string | undefined;
  let resumeRequested = false;
  let pending: PendingDecision | undefined;
  let rollbackStep: string | undefined;
  let rollbackChildId: string | undefined;
  let leaseLost: string | undefined;

  setHandler(approveSignal, (args) => {
    if (pending?.kind === 'approve-restore' && rollbackChildId) {
      // The restore's own gate lives in the rollback child: pass the approval on.
      void getExternalWorkflowHandle(rollbackChildId).signal(approveSignal, args ?? {});
      return;
    }
    approval ??= args ?? {};
  });
  setHandler(abortSignal, (args) => {
    if (pending?.kind === 'approve-restore' && rollbackChildId) {
      void getExternalWorkflowHandle(rollbackChildId).signal(abortSignal, args ?? {});
      return;
    }
    abortReason ??= args?.reason ?? 'aborted by signal';
  });
  setHandler(rollbackSignal, (args) => void (rollbackReason ??= args?.reason ?? 'rollback requested by signal'));
  setHandler(resumeSignal, () => void (resumeRequested = true));
  setHandler(rollbackProgressSignal, (progress) => {
    rollbackStep = progress.step;
    if (progress.awaitingRestoreApproval) {
      pending = {
        kind: 'approve-restore',
        signals: ['approve', 'abort'],
        reason: 'the rollback will delete the container and restore it to T0',
      };
    } else if (pending?.kind === 'approve-restore') {
      pending = undefined;
    }
    refreshDetails();
  });

  // Before preflight has loaded the migration, the state is partial; the query still answers.
  let s: CarriedState | undefined = carried;
  setHandler(statusQuery, (): RunbookStatus => {
    const at = Date.now();
    if (!s) {
      return {
        migrationId: options.migration,
        direction: options.direction,
        database: options.database ?? '',
        container: options.container ?? '',
        phase: 'preflight',
        phaseSince: info.startTime.toISOString(),
        startedAt: info.startTime.toISOString(),
        dryRun: options.dryRun,
        counters: zeroCounters(),
        ruPerSecond: 0,
        docsPerSecond: 0,
        ranges: { total: 0, done: 0 },
        generation: 0,
        timeline: [],
      };
    }
    const { ruPerSecond, docsPerSecond, etaSeconds } = rates(s, at);
    return {
      migrationId: s.migration.id,
      direction: options.direction,
      database: s.migration.database,
      container: s.migration.container,
      phase: s.phase,
      phaseSince: s.phaseSince,
      startedAt: s.startedAt,
      dryRun: options.dryRun,
      counters: s.counters,
      documentsToMigrate: s.plan?.documentsToMigrate,
      ruPerSecond,
      docsPerSecond,
      etaSeconds,
      ranges: { total: s.ranges?.length ?? 0, done: s.ranges?.filter((r) => r.done).length ?? 0 },
      pendingDecision: pending,
      lastError: s.lastError ?? (rollbackStep && s.phase === 'rolling-back' ? `rollback: ${rollbackStep}` : undefined),
      plan: s.plan,
      snapshot: s.snapshot,
      verification: s.verification,
      generation: s.generation,
      timeline: s.timeline,
    };
  });

  /** A wait with no decision to take (the maintenance window), shown in the UI's details. */
  let waitingFor: string | undefined;
  function refreshDetails(): void {
    if (s) setCurrentDetails(currentDetails(s, pending, Date.now(), waitingFor));
  }

  /** A phase change: state, search attributes, UI details, timeline, notification (best effort). */
  async function enterPhase(phase: Phase, note?: string, level: 'info' | 'warning' | 'error' = 'info'): Promise<void> {
    const state = s!;
    const previous = state.phase;
    state.phase = phase;
    state.phaseSince = now();
    state.timeline.push({ phase, at: state.phaseSince, ...(note ? { note } : {}) });
    if (state.timeline.length > MAX_TIMELINE) state.timeline.splice(1, state.timeline.length - MAX_TIMELINE);
    upsertSearchAttributes([
      { key: MIGRATION_ID, value: state.migration.id },
      { key: MIGRATION_PHASE, value: phase },
      { key: COSMOS_CONTAINER, value: `${state.migration.database}/${state.migration.container}` },
    ]);
    refreshDetails();
    log.info('runbook phase', { migrationId: state.migration.id, phase, note });
    try {
      await notify.notify.executeWithOptions({ summary: `notify: ${phase}` }, [
        {
          migrationId: state.migration.id,
          workflowId,
          phase,
          ...(previous !== phase ? { previousPhase: previous } : {}),
          level,
          message: note ?? `phase ${phase}`,
        },
      ]);
    } catch (err) {
      // A webhook that is down never stops a migration.
      log.warn('notification failed', { phase, error: describe(err) });
    }
  }

  function report(status: RunStatus, reason?: string): RunbookReport {
    const state = s!;
    const body: Omit<RunbookReport, 'markdown'> = {
      migrationId: state.migration.id,
      description: state.migration.description,
      checksum: state.migration.checksum,
      direction: options.direction,
      database: state.migration.database,
      container: state.migration.container,
      status,
      ...(reason ? { reason } : {}),
      workflowId,
      startedAt: state.startedAt,
      finishedAt: now(),
      ...(state.approvedBy ? { approvedBy: state.approvedBy } : {}),
      counters: state.counters,
      ...(state.plan ? { plan: state.plan } : {}),
      ...(state.snapshot ? { snapshot: state.snapshot } : {}),
      ...(state.verification ? { verification: state.verification } : {}),
      ...(state.rollback ? { rollback: state.rollback } : {}),
      timeline: state.timeline,
    };
    return { ...body, markdown: renderReportMarkdown(body) };
  }

  /** Records the run in the migrations history, builds the report and ends the run. */
  async function finish(phase: Phase, status: RunStatus, reason?: string): Promise<never> {
    const state = s!;
    await enterPhase(phase, reason, status === 'completed' || status === 'dry-run' ? 'info' : 'warning');
    pending = undefined;
    const record: HistoryRecord = {
      database: state.migration.database,
      container: state.migration.container,
      migrationId: state.migration.id,
      checksum: state.migration.checksum,
      direction: options.direction,
      status,
      startedAt: state.startedAt,
      finishedAt: now(),
      counters: state.counters,
      workflowId,
      runId: info.firstExecutionRunId,
      ...(state.snapshot ? { t0: state.snapshot.t0 } : {}),
      ...(reason ? { reason } : {}),
      ...(state.steps ? { previous: state.steps.previous, stepsApplied: state.steps.applied } : {}),
    };
    await quick.recordHistory.executeWithOptions({ summary: `record ${status} in the migrations history` }, [record]);
    throw new RunEnded(report(status, reason));
  }

  // ---- the lease: one run per container ----------------------------------------------------------------------------
  function leaseInput(): { key: string; holder: string; ttlSeconds: number } {
    return { key: s!.leaseKey, holder: workflowId, ttlSeconds: tuning.leaseTtlSeconds };
  }
  const leaseScope = new CancellationScope();
  function keepLease(): void {
    void leaseScope
      .run(async () => {
        for (;;) {
          await sleep(tuning.leaseRenewSeconds * 1000, { summary: 'renew the container lease' });
          const renewed = await quick.renewLease.executeWithOptions({ summary: `renew lease on ${s!.leaseKey}` }, [
            leaseInput(),
          ]);
          if (!renewed.acquired) {
            leaseLost = `the lease on ${s!.leaseKey} was taken by ${renewed.holder} (expired before it was renewed)`;
            return;
          }
        }
      })
      .catch((err) => {
        if (!isCancellation(err)) leaseLost = `the lease on ${s!.leaseKey} could not be renewed: ${describe(err)}`;
      });
  }
  async function releaseLease(): Promise<void> {
    leaseScope.cancel();
    if (!s) return;
    await CancellationScope.nonCancellable(() =>
      quick.releaseLease.executeWithOptions({ summary: `release lease on ${s!.leaseKey}` }, [
        { key: s!.leaseKey, holder: workflowId },
      ])
    ).catch((err) => log.warn('lease release failed', { error: describe(err) }));
  }

  // ---- phases --------------------------------------------------------------------------------------------------------
  async function preflight(): Promise<void> {
    const migration = await quick.loadMigration.executeWithOptions({ summary: `load migration ${options.migration}` }, [
      {
        migration: options.migration,
        direction: options.direction,
        database: options.database,
        container: options.container,
      },
    ]);
    const reverse: Direction = options.direction === 'up' ? 'down' : 'up';
    const reversible = reverse === 'down' ? migration.hasDown : migration.hasUp;
    const rollbackMode: RollbackMode =
      options.rollback === 'down' || options.rollback === 'restore'
        ? options.rollback
        : reversible || !migration.migratesDocuments
          ? 'down'
          : 'restore';
    const startedAt = info.startTime.toISOString();
    s = {
      options,
      tuning,
      startedAt,
      migration,
      leaseKey: `${migration.database}/${migration.container}`,
      rollbackMode,
      counters: zeroCounters(),
      failures: [],
      failureAllowance: options.maxFailures,
      timeline: [],
      approvals: [],
      generation: 0,
      phase: 'preflight',
      phaseSince: startedAt,
      rollbacks: 0,
    };
    const where = `${migration.database}/${migration.container}`;
    const lease = await quick.acquireLease.executeWithOptions({ summary: `acquire lease on ${where}` }, [leaseInput()]);
    if (!lease.acquired) {
      s = undefined; // nothing of ours to release or record
      throw ApplicationFailure.nonRetryable(
        `container ${where} is held by workflow ${lease.holder} until ${lease.expiresAt}`,
        'ContainerBusy'
      );
    }
    keepLease();
    await enterPhase('preflight', `${migration.id} ${options.direction} on ${where}; rollback by ${rollbackMode}`);
    if (
      options.direction === 'up'
        ? !migration.hasUp && migration.migratesDocuments
        : !migration.hasDown && migration.migratesDocuments
    ) {
      throw preflightFailure(`migration ${migration.id} has no ${options.direction}()`);
    }
    if (options.rollback === 'down' && migration.migratesDocuments && !reversible) {
      throw preflightFailure(`rollback "down" was asked for, but migration ${migration.id} has no ${reverse}()`);
    }

    const backup = await quick.checkBackupPolicy.executeWithOptions({ summary: 'check the account backup policy' }, [
      { minimumTier: options.minimumBackupTier },
    ]);
    s.backup = backup;
    if (!backup.meetsMinimum) {
      if (rollbackMode === 'down' || options.dryRun) {
        s.timeline.push({ phase: 'preflight', at: now(), note: `backup: ${backup.reason} (rollback is by down)` });
      } else {
        throw preflightFailure(`backup check failed: ${backup.reason}`);
      }
    }
    s.exported = await quick.exportContainer.executeWithOptions({ summary: `export the definition of ${where}` }, [
      { database: migration.database, container: migration.container },
    ]);
    if (s.exported && migration.migratesDocuments) {
      s.plan = await quick.planMigration.executeWithOptions(
        { summary: `plan: sample ${options.planSampleSize} documents` },
        [
          {
            database: migration.database,
            container: migration.container,
            migration: migration.id,
            direction: options.direction,
            sampleSize: options.planSampleSize,
            ruBudget: options.ruBudget,
          },
        ]
      );
    }
    if (options.requireStagingRun) {
      const staging = options.requireStagingRun.database;
      const found = await quick.checkStagingRun.executeWithOptions(
        { summary: `look for a completed run in ${staging}` },
        [{ database: staging, migrationId: migration.id, checksum: migration.checksum, direction: options.direction }]
      );
      if (!found.found) {
        throw preflightFailure(
          `requireStagingRun: migration ${migration.id} (checksum ${migration.checksum.slice(0, 12)}) has not completed ${options.direction} in database ${staging}`
        );
      }
    }
  }

  function preflightFailure(reason: string): Error {
    s!.lastError = reason;
    return new PreflightFailed(reason);
  }

  async function awaitApproval(): Promise<void> {
    const state = s!;
    if (options.approval.required) {
      const deadline = new Date(Date.now() + msToNumber(options.approval.timeout as Duration)).toISOString();
      pending = { kind: 'approve', signals: ['approve', 'abort'], deadline };
      await enterPhase('awaiting-approval', `waiting for approve or abort until ${deadline}`);
      const decided = await condition(
        () => approval !== undefined || abortReason !== undefined,
        options.approval.timeout as Duration,
        {
          summary: `approval (times out after ${options.approval.timeout})`,
        }
      );
      pending = undefined;
      if (abortReason !== undefined) await finish('aborted', 'aborted', `aborted before any change: ${abortReason}`);
      if (!decided) await finish('aborted', 'aborted', `approval timed out after ${options.approval.timeout}`);
      state.approvedBy = approval?.by ?? 'unknown';
      state.approvals.push({ ...approval, at: now(), for: 'migration' });
      state.timeline.push({
        phase: 'awaiting-approval',
        at: now(),
        note: `approved by ${state.approvedBy}${approval?.comment ? `: ${approval.comment}` : ''}`,
      });
    }
    const window = options.maintenanceWindow;
    if (window && Date.now() < Date.parse(window.start)) {
      pending = undefined;
      state.timeline.push({
        phase: state.phase,
        at: now(),
        note: `sleeping until the maintenance window opens at ${window.start}`,
      });
      waitingFor = `the maintenance window to open at ${window.start}`;
      refreshDetails();
      const opened = await condition(() => abortReason !== undefined, Date.parse(window.start) - Date.now(), {
        summary: `maintenance window opens at ${window.start}`,
      });
      waitingFor = undefined;
      if (opened && abortReason !== undefined)
        await finish('aborted', 'aborted', `aborted before any change: ${abortReason}`);
    }
  }

  /** A reason to stop starting new work: rollback asked, lease lost, window closed, continue-as-new due. */
  let completionsThisRun = 0;
  function stopReason(): string | undefined {
    if (rollbackReason !== undefined) return 'rollback';
    if (leaseLost) return 'lease';
    const window = options.maintenanceWindow;
    if (window && !s!.windowOverridden && Date.now() > Date.parse(window.end)) return 'window';
    if (workflowInfo().continueAsNewSuggested || completionsThisRun >= tuning.continueAsNewAfterActivities) {
      return 'continue-as-new';
    }
    return undefined;
  }

  async function pause(reason: string): Promise<'resume' | 'rollback'> {
    const state = s!;
    state.lastError = reason;
    pending = { kind: 'resume-or-rollback', signals: ['resume', 'rollback'], reason };
    resumeRequested = false;
    await enterPhase('paused', reason, 'warning');
    await condition(() => resumeRequested || rollbackReason !== undefined);
    pending = undefined;
    if (rollbackReason !== undefined) return 'rollback';
    resumeRequested = false;
    // The operator accepted what failed so far: maxFailures more are tolerated.
    state.failureAllowance = state.counters.failed + options.maxFailures;
    state.lastError = undefined;
    if (leaseLost) {
      const lease = await quick.acquireLease.executeWithOptions({ summary: `re-acquire lease on ${state.leaseKey}` }, [
        leaseInput(),
      ]);
      if (!lease.acquired) return pause(`container is held by workflow ${lease.holder} until ${lease.expiresAt}`);
      leaseLost = undefined;
      keepLease();
    }
    return 'resume';
  }

  /** Snapshot (T0), container steps, then every feed range. Returns when all are done, or a rollback is due. */
  async function migrate(): Promise<'done' | 'rollback'> {
    const state = s!;
    const { migration } = state;
    const ref = { database: migration.database, container: migration.container };
    const where = `${ref.database}/${ref.container}`;
    if (state.phase !== 'migrating') {
      if (!options.dryRun && state.exported) {
        await enterPhase('snapshot', `restore point T0 of ${where}`);
        state.snapshot = await quick.takeSnapshot.executeWithOptions({ summary: `snapshot ${where}: T0 and counts` }, [
          { ...ref, versionField: migration.versionField },
        ]);
      }
      state.migratingSince = now();
      await enterPhase('migrating', options.dryRun ? 'dry run: nothing is written' : undefined);
    }
    if (!state.steps && migration.containerSteps && !options.dryRun) {
      state.steps = await arm.applyContainerSteps.executeWithOptions({ summary: `container steps on ${where}` }, [
        { ...ref, migration: migration.id, direction: options.direction },
      ]);
      if (state.steps.applied.length)
        state.timeline.push({ phase: 'migrating', at: now(), note: state.steps.applied.join('; ') });
      if (migration.containerSteps.indexingPolicy && state.steps.applied.length) {
        await arm.waitForIndexTransformation.executeWithOptions({ summary: `wait for the index rebuild of ${where}` }, [
          ref,
        ]);
      }
    }
    if (!migration.migratesDocuments) return 'done';
    if (!state.ranges) {
      const ranges = await quick.listFeedRanges.executeWithOptions({ summary: `list feed ranges of ${where}` }, [ref]);
      state.ranges = ranges.map((feedRange) => ({ feedRange, done: false, counters: zeroCounters() }));
    }
    for (;;) {
      const outcome = await migrateAllRanges({
        long,
        ranges: state.ranges,
        base: {
          ...ref,
          migration: migration.id,
          direction: options.direction,
          batchSize: options.batchSize,
          dryRun: options.dryRun,
          maxPages: tuning.maxPagesPerActivity,
        },
        ruBudget: options.ruBudget,
        concurrency: options.concurrency,
        failureAllowance: () => state.failureAllowance - state.counters.failed,
        onResult: (counters, failures) => {
          completionsThisRun++;
          state.counters = addCounters(state.counters, counters);
          const room = MAX_FAILURES_KEPT - state.failures.length;
          if (room > 0) state.failures.push(...failures.slice(0, room));
          refreshDetails();
        },
        shouldStop: stopReason,
        interruptWhen: () => rollbackReason !== undefined,
      });
      if (outcome.finished) return 'done';
      let reason: string;
      if (outcome.error) {
        // The engine's message says how many failed, the threshold and the first ids and errors.
        reason = outcome.thresholdExceeded ? describe(outcome.error) : `migrating failed: ${describe(outcome.error)}`;
      } else if (outcome.stoppedBecause === 'rollback') {
        return 'rollback';
      } else if (outcome.stoppedBecause === 'continue-as-new') {
        await continueAsNewWithState();
        continue; // unreachable: continueAsNew never returns
      } else if (outcome.stoppedBecause === 'lease') {
        reason = leaseLost!;
      } else if (outcome.stoppedBecause === 'window') {
        reason = `the maintenance window closed at ${options.maintenanceWindow!.end}: no new work is started; resume to go on anyway`;
      } else {
        reason = `migrating stopped: ${outcome.stoppedBecause}`;
      }
      if ((await pause(reason)) === 'rollback') return 'rollback';
      // Resuming after the window closed is the operator's decision to go on outside it.
      if (outcome.stoppedBecause === 'window') state.windowOverridden = true;
      await enterPhase('migrating', 'resumed');
    }
  }

  async function continueAsNewWithState(): Promise<never> {
    const state = s!;
    state.generation += 1;
    state.timeline.push({ phase: state.phase, at: now(), note: `continued as new (generation ${state.generation})` });
    leaseScope.cancel();
    await condition(allHandlersFinished);
    return continueAsNew<typeof migrationRunbook>(null, state);
  }

  async function verify(): Promise<'ok' | 'rollback'> {
    const state = s!;
    const { migration } = state;
    await enterPhase('verifying');
    const verification = await quick.verifyMigration.executeWithOptions(
      { summary: `verify ${migration.database}/${migration.container}` },
      [
        {
          database: migration.database,
          container: migration.container,
          migration: migration.id,
          direction: options.direction,
          sampleSize: options.verifySampleSize,
          allowedRemaining: state.counters.failed,
        },
      ]
    );
    state.verification = verification;
    if (verification.ok) return 'ok';
    const reason = `verification failed: ${verification.problems.join('; ')}`;
    if (options.rollback === 'manual') {
      // The operator decides: resume accepts the result as it is, rollback undoes it.
      return (await pause(reason)) === 'rollback' ? 'rollback' : 'ok';
    }
    rollbackReason ??= reason;
    return 'rollback';
  }

  async function monitor(): Promise<'ok' | 'rollback'> {
    const interval = msToNumber(options.monitor.interval as Duration);
    const until = Date.now() + msToNumber(options.monitor.duration as Duration);
    await enterPhase('monitoring', `health checks every ${options.monitor.interval} for ${options.monitor.duration}`);
    while (Date.now() < until) {
      const wait = Math.min(interval, until - Date.now());
      if (await condition(() => rollbackReason !== undefined, wait, { summary: 'next health check' }))
        return 'rollback';
      const health = await quick.healthCheck.executeWithOptions({ summary: 'health checks' }, [
        { migrationId: s!.migration.id, workflowId },
      ]);
      if (!health.ok) {
        const failed = health.checks.filter((c) => !c.ok).map((c) => `${c.name}${c.detail ? ` (${c.detail})` : ''}`);
        rollbackReason ??= `health check failed: ${failed.join(', ')}`;
        return 'rollback';
      }
    }
    return rollbackReason !== undefined ? 'rollback' : 'ok';
  }

  /** Runs the rollback child until it succeeds, or the operator gives up on it. Never returns: ends the run. */
  async function rollback(): Promise<never> {
    const state = s!;
    for (;;) {
      const reason = rollbackReason ?? 'rollback requested';
      rollbackReason = undefined;
      state.rollbacks += 1;
      rollbackChildId = `${workflowId}/rollback-${state.rollbacks}`;
      await enterPhase('rolling-back', `${reason} (by ${state.rollbackMode})`, 'warning');
      const childInput: RollbackInput = {
        parentWorkflowId: workflowId,
        migration: state.migration,
        direction: options.direction,
        mode: state.rollbackMode,
        reason,
        snapshot: state.snapshot,
        exported: state.exported,
        steps: state.steps,
        batchSize: options.batchSize,
        ruBudget: options.ruBudget,
        concurrency: options.concurrency,
        maxFailures: options.maxFailures,
        verifySampleSize: options.verifySampleSize,
        requireRestoreApproval: options.approval.requiredForRestore,
        approvalTimeout: options.approval.timeout as Duration,
        tuning,
      };
      let result: RollbackResult;
      try {
        result = await CancellationScope.nonCancellable(() =>
          executeChild(rollbackRunbook, {
            workflowId: rollbackChildId!,
            args: [childInput],
            staticSummary: `rollback of ${state.migration.id} by ${state.rollbackMode}`,
          })
        );
      } catch (err) {
        const message = err instanceof ChildWorkflowFailure ? describe(err) : String(err);
        result = { mode: state.rollbackMode, ok: false, problems: [message], steps: [], counters: zeroCounters() };
      }
      rollbackStep = undefined;
      pending = undefined;
      state.rollback = { mode: result.mode, reason, ok: result.ok, problems: result.problems };
      if (result.approvedBy) state.approvals.push({ by: result.approvedBy, at: now(), for: 'restore' });
      if (result.ok) await finish('rolled-back', 'rolled-back', reason);
      state.lastError = `rollback by ${result.mode} failed: ${result.problems.join('; ')}`;
      pending = { kind: 'operator', signals: ['rollback', 'resume'], reason: state.lastError };
      resumeRequested = false;
      await enterPhase('rollback-failed', state.lastError, 'error');
      await condition(() => resumeRequested || rollbackReason !== undefined);
      pending = undefined;
      if (rollbackReason === undefined) {
        // The operator took over: the run ends, and says it did not succeed.
        await finish('rollback-failed', 'rollback-failed', `${state.lastError}; the operator took over (resume)`);
      }
    }
  }

  // ---- the runbook ---------------------------------------------------------------------------------------------------
  try {
    if (!carried) {
      await preflight();
      await awaitApproval();
    } else {
      keepLease();
      refreshDetails();
    }
    if (abortReason !== undefined && s!.phase !== 'migrating') {
      await finish('aborted', 'aborted', `aborted before any change: ${abortReason}`);
    }
    if ((await migrate()) === 'rollback') await rollback();
    if (options.dryRun) {
      await finish('completed', 'dry-run', `dry run: ${s!.counters.migrated} document(s) would change`);
    }
    if ((await verify()) === 'rollback') await rollback();
    if ((await monitor()) === 'rollback') await rollback();
    await finish('completed', 'completed');
    throw new Error('unreachable');
  } catch (err) {
    if (err instanceof RunEnded) {
      await releaseLease();
      await condition(allHandlersFinished);
      return err.report;
    }
    if (err instanceof PreflightFailed) {
      try {
        await finish('failed', 'failed', err.message);
      } catch (ended) {
        if (!(ended instanceof RunEnded)) throw ended;
      }
      await releaseLease();
      throw ApplicationFailure.nonRetryable(err.message, 'PreflightFailed');
    }
    await releaseLease();
    throw err;
  }
}

class PreflightFailed extends Error {
  override name = 'PreflightFailed';
}

/**
 * A rollback child's run: its input, the activity stubs, the result it builds, the steps it reports to its parent,
 * and the operator's decisions (approve/abort forwarded by the parent) at its gates.
 */
import { ApplicationFailure, condition, getExternalWorkflowHandle, setHandler } from '@temporalio/workflow';
import type { ContainerRef } from '../../common/activities';
import { zeroCounters } from '../../common/counters';
import { runbookActivities } from '../activities';
import { abortSignal, approveSignal, type ApproveArgs } from '../messages';
import type { RollbackInput, RollbackResult } from './runbook';
import {
  rollbackControlsAppliedSignal,
  rollbackControlsSignal,
  rollbackProgressSignal,
  type RollbackControls,
  type RollbackProgress,
} from './messages';

type Decision = { approved: ApproveArgs } | { aborted: string };

export class RollbackRun {
  readonly ref: ContainerRef;
  readonly where: string;
  readonly acts: ReturnType<typeof runbookActivities>;
  readonly result: RollbackResult;
  private decision?: Decision;
  /** A gate is open (decide() waits): only then is approve or abort taken. */
  private waiting = false;
  private readonly parent;
  /** The live controls the parent forwarded (absent: the input's). */
  private controls: RollbackControls = {};
  /** Bumped by each forwarded change: the range loop restarts its ranges with it. */
  controlsVersion = 0;
  /** The parent's last forwarded change, and the last one answered as in force. */
  private controlsSeq = 0;
  private controlsAnswered = 0;
  /** A range loop is running: a forwarded change is in force only once it restarts its ranges (rangesStart). */
  private rangesRunning = false;

  constructor(readonly input: RollbackInput) {
    const { migration } = input;
    this.ref = { database: migration.database, container: migration.container };
    this.where = `${this.ref.database}/${this.ref.container}`;
    this.acts = runbookActivities(input.tuning);
    this.result = { mode: input.mode, ok: false, problems: [], steps: [], counters: zeroCounters() };
    this.parent = getExternalWorkflowHandle(input.parentWorkflowId);
    // A decision counts only for the gate waiting when it arrives: a second approve (a double submit) is never kept
    // for the next gate, which may ask something else (accepting a restore that differs from T0).
    setHandler(approveSignal, (args) => {
      if (this.waiting) this.decision ??= { approved: args ?? {} };
    });
    setHandler(abortSignal, (args) => {
      if (this.waiting) this.decision ??= { aborted: args?.reason ?? 'aborted' };
    });
    setHandler(rollbackControlsSignal, (controls) => {
      const { seq, ...values } = controls;
      this.controls = { ...this.controls, ...values };
      this.controlsVersion += 1;
      if (seq !== undefined) this.controlsSeq = Math.max(this.controlsSeq, seq);
      // No range in flight (a restore, a gate, between steps): nothing runs under the old values, in force now.
      if (!this.rangesRunning) this.controlsInForce();
    });
  }

  /**
   * A range loop starts (or restarts) its ranges with the controls as they are now: every change forwarded so far is
   * in force from here. Call right before the loop starts its ranges; `rangesStop` after it returns.
   */
  rangesStart(): void {
    this.rangesRunning = true;
    this.controlsInForce();
  }

  rangesStop(): void {
    this.rangesRunning = false;
    this.controlsInForce();
  }

  /** Tells the parent the forwarded changes are in force (once per change; best effort, like step()). */
  private controlsInForce(): void {
    if (this.controlsSeq <= this.controlsAnswered) return;
    this.controlsAnswered = this.controlsSeq;
    this.parent.signal(rollbackControlsAppliedSignal, { seq: this.controlsSeq }).catch(() => undefined);
  }

  /** The rollback's total RU/s now (a live control may change it), shared by its ranges (budget-share.ts). */
  ruBudget(): number | undefined {
    const live = this.controls.ruBudget;
    return live === null ? undefined : (live ?? this.input.ruBudget);
  }

  /** Ranges in flight at most now. */
  concurrency(): number {
    return this.controls.concurrency ?? this.input.concurrency;
  }

  get hookArgs() {
    return { migrationId: this.input.migration.id, workflowId: this.input.parentWorkflowId };
  }

  /** A step done, in the result and (best effort: the child's own history is the record) in the parent's status. */
  async step(name: string, extra: Partial<RollbackProgress> = {}): Promise<void> {
    this.result.steps.push(name);
    // A step that opens a gate opens it before the parent hears of it: a decision forwarded at once is never dropped.
    if (
      extra.awaitingRestoreApproval ||
      extra.awaitingRestoreAcceptance ||
      extra.awaitingConflictAcceptance ||
      extra.awaitingContainerDelete
    ) {
      this.waiting = true;
    }
    await this.parent.signal(rollbackProgressSignal, { step: name, ...extra }).catch(() => undefined);
  }

  /**
   * Waits for the operator (approve or abort, forwarded by the parent) up to the approval timeout; returns who
   * approved, or throws non-retryable `type` when refused or not decided in time.
   */
  async decide(what: string, type: string): Promise<string | undefined> {
    this.waiting = true;
    const decided = await condition(() => this.decision !== undefined, this.input.approvalTimeout, {
      summary: `approval: ${what}`,
    });
    this.waiting = false;
    const decision = this.decision;
    this.decision = undefined; // one decision per gate
    if (!decided || !decision) {
      throw ApplicationFailure.nonRetryable(`${what}: not approved within ${this.input.approvalTimeout}`, type);
    }
    if ('aborted' in decision) throw ApplicationFailure.nonRetryable(`${what}: refused (${decision.aborted})`, type);
    return decision.approved.by;
  }

  /** The hooks as the run recorded them when it decided on them (describeHooks): runHook then insists on these. */
  recordedHooks?: { stopApp?: string; startApp?: string };

  async runHook(hook: 'stop-app' | 'start-app'): Promise<{ ran: boolean }> {
    const recorded = this.recordedHooks;
    const expected = recorded ? ((hook === 'stop-app' ? recorded.stopApp : recorded.startApp) ?? null) : undefined;
    return this.acts.long.runHook.executeWithOptions({ summary: `${hook} hook` }, [
      { hook, ...this.hookArgs, ...(expected !== undefined ? { expected } : {}) },
    ]);
  }
}

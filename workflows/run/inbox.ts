/**
 * What operators have said (the signals of workflows/messages.ts) and what the run is waiting for them to say. The
 * handlers are registered before anything else runs, so a signal sent early is never lost, and each signal means one
 * thing in every phase (docs/runbook.md, "Signals by phase"): one that cannot act where the run is, is refused with a
 * line in the timeline, never dropped silently.
 */
import { getExternalWorkflowHandle, log, setHandler } from '@temporalio/workflow';
import type { Phase } from '../../common/phases';
import type { PendingDecision } from '../../common/status';
import { abortSignal, approveSignal, cutoverSignal, resumeSignal, rollbackSignal, type ApproveArgs } from '../messages';
import { failureMessage } from '../../common/failure-message';
import {
  rollbackControlsAppliedSignal,
  rollbackControlsSignal,
  rollbackProgressSignal,
  type RollbackControls,
} from '../rollback/messages';

/** What the handlers need to know of the run, before and after preflight has loaded it. */
export interface InboxContext {
  phase(): Phase;
  dryRun(): boolean;
  /** How the run's catch-up ends (input `cutover`). */
  cutover(): 'auto' | 'signal';
  /** A line in the run's timeline (once the run exists), and the UI's details refreshed. */
  note(text: string): void;
  /** The UI's details refreshed. */
  changed(): void;
}

/** Phases before the first write: nothing to undo yet. */
const BEFORE_WRITES: readonly Phase[] = ['preflight', 'awaiting-approval'];

/** What is wrong with a signal's payload: absent, or an object of these optional string fields; undefined when fine. */
export function payloadProblem(args: unknown, fields: string[]): string | undefined {
  if (args === undefined || args === null) return undefined;
  const expected = `{ ${fields.map((f) => `${f}?: string`).join(', ')} }`;
  if (typeof args !== 'object' || Array.isArray(args)) {
    return `must be ${expected}, not ${Array.isArray(args) ? 'an array' : typeof args}`;
  }
  const record = args as Record<string, unknown>;
  const unknown = Object.keys(record).filter((key) => !fields.includes(key));
  if (unknown.length)
    return `has unknown field ${unknown.map((k) => JSON.stringify(k)).join(', ')} (expected ${expected})`;
  const wrong = fields.filter((f) => record[f] !== undefined && typeof record[f] !== 'string');
  if (wrong.length)
    return `has ${wrong.join(', ')} of type ${wrong.map((f) => typeof record[f]).join(', ')} (expected ${expected})`;
  return undefined;
}

/**
 * The operators' messages and the run's questions to them, behind intents (the style of temporalio/samples-typescript
 * message-passing: the signal handlers and the phases change this state only through the named methods below; they
 * read it through getters). Not carried across continue-as-new: what must outlive a run goes to RunState.
 */
export class Inbox {
  private approvalArgs?: ApproveArgs;
  private abortAsked?: string;
  private rollbackAsked?: string;
  private resumeAsked = false;
  private decision?: PendingDecision;
  private waiting?: string;
  private rollbackChildId?: string;
  private step?: string;
  private controls = 0;
  private rangesUnder?: number;
  /** Live controls forwarded to the rollback child, and the last of them it answered as in force. */
  private controlsForwarded = 0;
  private controlsAppliedByChild = 0;
  private pauseAsked?: string;
  private cutoverAskedBy?: string;

  /** The decision the run waits for, shown by the status query and the UI. */
  get pending(): PendingDecision | undefined {
    return this.decision;
  }
  /** A wait with no decision to take (the maintenance window), shown in the UI's details. */
  get waitingFor(): string | undefined {
    return this.waiting;
  }
  /** The approve taken for the migration's approval gate (at most one: a second is refused). */
  get approval(): ApproveArgs | undefined {
    return this.approvalArgs;
  }
  get abortReason(): string | undefined {
    return this.abortAsked;
  }
  /** A rollback was asked for and not yet taken (takeRollback). */
  get rollbackRequested(): boolean {
    return this.rollbackAsked !== undefined;
  }
  /** A pause asked for by the `pause` update, with its reason, until the run takes it (takePause). */
  get pauseRequested(): string | undefined {
    return this.pauseAsked;
  }
  /** `resume` (signal or update) answered the question the run asks (ask), not yet taken (takeResume). */
  get resumeRequested(): boolean {
    return this.resumeAsked;
  }
  /** Live controls: bumped at each budget or concurrency change (the ranges in flight restart on it). */
  get controlsVersion(): number {
    return this.controls;
  }
  /** Who sent `cutover` (the old writers are gone), once they did. */
  get cutoverBy(): string | undefined {
    return this.cutoverAskedBy;
  }
  /** The rollback child's current step, while it runs. */
  get rollbackStep(): string | undefined {
    return this.step;
  }

  /** The run asks the operator `decision`; a resume sent before the question is not an answer to it. */
  ask(decision: PendingDecision): void {
    this.decision = decision;
    if ((decision.signals as readonly string[]).includes('resume')) this.resumeAsked = false;
  }
  /** The question is settled (or, with `kind`, that question if it is the one open). */
  stopAsking(kind?: PendingDecision['kind']): void {
    if (kind === undefined || this.decision?.kind === kind) this.decision = undefined;
  }
  /** The run sleeps until `what` (no decision to take: any question is closed). */
  waitUntil(what: string): void {
    this.decision = undefined;
    this.waiting = what;
  }
  stopWaiting(): void {
    this.waiting = undefined;
  }

  /** `approve` for the migration's approval gate: open (or to come, in preflight), and not approved already. */
  approve(args: ApproveArgs, gateOpen: boolean): boolean {
    if (!gateOpen || this.approvalArgs !== undefined) return false;
    this.approvalArgs = args;
    return true;
  }
  /** An abort before any write (the first reason stands). */
  abort(reason: string): void {
    this.abortAsked ??= reason;
  }
  /** A rollback (the first reason stands until the run takes it). */
  requestRollback(reason: string): void {
    this.rollbackAsked ??= reason;
  }
  /** The rollback asked for, if any, taken (a later signal asks again). */
  takeRollback(): string | undefined {
    const reason = this.rollbackAsked;
    this.rollbackAsked = undefined;
    return reason;
  }
  requestPause(reason: string): void {
    this.pauseAsked = reason;
  }
  /** The pause asked for, if any, taken. */
  takePause(): string | undefined {
    const reason = this.pauseAsked;
    this.pauseAsked = undefined;
    return reason;
  }
  requestResume(): void {
    this.resumeAsked = true;
  }
  /** The resume, if any, taken. */
  takeResume(): boolean {
    const asked = this.resumeAsked;
    this.resumeAsked = false;
    return asked;
  }
  /** The old writers are gone (the first sender stands). */
  requestCutover(by: string): void {
    this.cutoverAskedBy ??= by;
  }

  /** A budget or concurrency change (or a finished range's share given to the others): the new version. */
  controlsChanged(): number {
    return ++this.controls;
  }
  /** Ranges were started under controls `version` (the range loop runs). */
  rangesStarted(version: number): void {
    this.rangesUnder = version;
  }
  /** No range is in flight any more: whatever the controls say now is in force. */
  rangesStopped(): void {
    this.rangesUnder = undefined;
  }
  /** No range started under controls older than `version` is in flight. */
  controlsInForce(version: number): boolean {
    return this.rangesUnder === undefined || this.rangesUnder >= version;
  }
  /** How many live controls went to the rollback child so far (0: none); the answer waits for the child's. */
  get controlsSentToRollback(): number {
    return this.controlsForwarded;
  }
  /** The rollback child answered the `seq`th forwarded control as in force (rollback/context.ts). */
  rollbackAppliedControls(seq: number): void {
    this.controlsAppliedByChild = Math.max(this.controlsAppliedByChild, seq);
  }
  /** The rollback child has the `seq`th forwarded control in force. */
  rollbackControlsInForce(seq: number): boolean {
    return this.controlsAppliedByChild >= seq;
  }

  /** A rollback child runs: its restore gates take approve/abort, and live controls follow it. */
  rollbackStarted(childId: string): void {
    this.rollbackChildId = childId;
  }
  /** The rollback child ended: its step and its gate's question are gone. */
  rollbackEnded(): void {
    this.step = undefined;
    this.decision = undefined;
  }

  /** Registers every signal handler. */
  register(run: InboxContext): void {
    // A payload of the wrong shape (a typo'd field, a number for a name) is refused with a note in the timeline, where
    // `migrate status` shows it, rather than taken half-understood.
    const refused = (signal: string, args: unknown, fields: string[]) => {
      const problem = payloadProblem(args, fields);
      if (problem === undefined) return false;
      run.note(`${signal} ignored: its payload ${problem}; nothing changed`);
      return true;
    };
    setHandler(approveSignal, (args) => {
      if (refused('approve', args, ['by', 'comment'])) return;
      if (this.forwardToRollback(approveSignal, args ?? {})) return;
      // Bound to the gate open when it arrives: an approve with none open (sent twice, retried by a CLI, or after the
      // gate passed) is refused in the timeline, never kept for a later gate it was not meant for. In preflight the
      // only gate to come is the migration's own approval, so an approve sent with the start is kept for it.
      const gateOpen = this.decision?.kind === 'approve' || run.phase() === 'preflight';
      if (!this.approve(args ?? {}, gateOpen)) {
        run.note(`approve ignored in phase ${run.phase()}: nothing is waiting for an approval`);
      }
    });
    setHandler(abortSignal, (args) => {
      if (refused('abort', args, ['reason'])) return;
      if (this.forwardToRollback(abortSignal, args ?? {})) return;
      const reason = args?.reason ?? 'aborted by signal';
      if (!BEFORE_WRITES.includes(run.phase())) {
        // Abort ends a run before anything changed; once writes began only a rollback undoes them.
        run.note(`abort (${reason}) refused in phase ${run.phase()}: writes have begun; send rollback to undo them`);
        return;
      }
      this.abort(reason);
    });
    setHandler(rollbackSignal, (args) => {
      if (refused('rollback', args, ['reason'])) return;
      const reason = args?.reason ?? 'rollback requested by signal';
      const phase = run.phase();
      if (run.dryRun()) {
        run.note(`rollback (${reason}) refused: a dry run writes nothing`);
        return;
      }
      if (BEFORE_WRITES.includes(phase)) {
        // Nothing was written: there is nothing to undo, and a rollback must not stop the application for nothing.
        run.note(`rollback (${reason}) before any write: the run ends aborted`);
        this.abort(`rollback requested before any write: ${reason}`);
        return;
      }
      if (phase === 'rolling-back') {
        run.note(`rollback (${reason}) ignored: a rollback is already running`);
        return;
      }
      this.requestRollback(reason);
    });
    setHandler(cutoverSignal, (args) => {
      if (refused('cutover', args, ['by'])) return;
      const phase = run.phase();
      // The old writers are gone: taken from the backfill on (it is what the catch-up waits for), refused otherwise.
      if (!['snapshot', 'migrating', 'catching-up', 'paused'].includes(phase)) {
        run.note(`cutover ignored in phase ${phase}: nothing is catching up`);
        return;
      }
      if (run.cutover() !== 'signal') {
        run.note('cutover ignored: this run cuts over by itself once the change feed is quiet (cutover "auto")');
        return;
      }
      this.requestCutover(args?.by ?? 'unknown');
    });
    setHandler(resumeSignal, () => {
      const phase = run.phase();
      if (phase !== 'paused' && phase !== 'rollback-failed') {
        run.note(`resume ignored in phase ${phase}: the run is not paused`);
        return;
      }
      this.requestResume();
    });
    setHandler(rollbackControlsAppliedSignal, ({ seq }) => {
      this.rollbackAppliedControls(seq);
    });
    setHandler(rollbackProgressSignal, (progress) => {
      this.step = progress.step;
      if (progress.awaitingRestoreApproval) {
        this.ask({
          kind: 'approve-restore',
          signals: ['approve', 'abort'],
          reason: progress.detail ?? 'the rollback will delete the container and restore it to T0',
          ...(progress.writesSinceT0 !== undefined ? { writesSinceT0: progress.writesSinceT0 } : {}),
          ...(progress.deletedSinceT0 !== undefined ? { deletedSinceT0: progress.deletedSinceT0 } : {}),
        });
      } else if (progress.awaitingRestoreAcceptance) {
        this.ask({ kind: 'accept-restore', signals: ['approve', 'abort'], reason: progress.detail ?? '' });
      } else if (progress.awaitingContainerDelete) {
        this.ask({
          kind: 'approve-delete-container',
          signals: ['approve', 'abort'],
          reason: progress.detail ?? '',
          ...progress.awaitingContainerDelete,
        });
      } else if (progress.awaitingConflictAcceptance) {
        this.ask({
          kind: 'accept-conflicts',
          signals: ['approve', 'abort'],
          reason: progress.detail ?? '',
          ...progress.awaitingConflictAcceptance,
        });
      } else if (this.atRollbackGate()) {
        this.stopAsking();
      }
      run.changed();
    });
  }

  /** The rollback child waits at one of its gates (restore consent, restore acceptance, conflicts). */
  private atRollbackGate(): boolean {
    const kind = this.decision?.kind;
    return (
      kind === 'approve-restore' ||
      kind === 'accept-restore' ||
      kind === 'accept-conflicts' ||
      kind === 'approve-delete-container'
    );
  }

  /** At the rollback's own gates, approve and abort go to the rollback child; a child that has closed is only logged. */
  private forwardToRollback(signal: typeof approveSignal | typeof abortSignal, args: object): boolean {
    if (!this.atRollbackGate() || this.rollbackChildId === undefined) return false;
    getExternalWorkflowHandle(this.rollbackChildId)
      .signal(signal.name, args)
      .catch((err) => log.warn('signal to the rollback child failed', { error: failureMessage(err) }));
    return true;
  }

  /** A live control changed while a rollback child runs: it follows it too (rollback/context.ts). */
  forwardControls(controls: RollbackControls): void {
    if (this.rollbackChildId === undefined) return;
    this.controlsForwarded += 1;
    getExternalWorkflowHandle(this.rollbackChildId)
      .signal(rollbackControlsSignal, { ...controls, seq: this.controlsForwarded })
      .catch((err) => log.warn('live controls to the rollback child failed', { error: failureMessage(err) }));
  }
}

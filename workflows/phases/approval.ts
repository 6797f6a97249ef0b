/**
 * The gates before any write: approval (approve or abort, with a timeout; timing out aborts) and the maintenance
 * window (a durable sleep until it opens, cut short by abort). A wait of days continues as new when the run's history
 * grows long (the lease is renewed all along), and the next run waits on with the same deadline.
 */
import type { Duration } from '@temporalio/common';
import { durationMs } from '../../common/duration';
import type { Run } from '../run/run';
import { aborted, type Transition } from '../run/transition';

export async function awaitApproval(run: Run): Promise<Transition> {
  const { state, inbox, options } = run;
  if (options.approval.required && state.gates.approvedBy === undefined) {
    const timeout = options.approval.timeout as Duration;
    const deadline = (state.gates.approvalDeadline ??= new Date(Date.now() + durationMs(timeout)).toISOString());
    inbox.ask({
      kind: 'approve',
      signals: ['approve', 'abort'],
      deadline,
      ...(state.rollback.plan ? { rollback: state.rollback.plan } : {}),
    });
    if (state.phase === 'awaiting-approval') run.refreshDetails();
    else await run.enterPhase('awaiting-approval', `waiting for approve or abort until ${deadline}`);
    const decided = () => inbox.approval !== undefined || inbox.abortReason !== undefined;
    const summary = `approval (times out after ${options.approval.timeout})`;
    const outcome = await run.waitFor(decided, Date.parse(deadline) - Date.now(), summary);
    if (outcome === 'continue-as-new') return { to: 'continue-as-new' };
    inbox.stopAsking();
    if (inbox.abortReason !== undefined) return aborted(`aborted before any change: ${inbox.abortReason}`);
    if (outcome === 'timeout') return aborted(`approval timed out after ${options.approval.timeout}`);
    const approval = inbox.approval;
    state.gates.approvedBy = approval?.by ?? 'unknown';
    state.gates.approvals.push({ ...approval, at: run.now(), for: 'migration' });
    run.note(
      `approved by ${state.gates.approvedBy}${approval?.comment ? `: ${approval.comment}` : ''}`,
      'awaiting-approval'
    );
  }
  const window = options.maintenanceWindow;
  if (window && Date.now() < Date.parse(window.start)) {
    if (!inbox.waitingFor) run.note(`sleeping until the maintenance window opens at ${window.start}`);
    inbox.waitUntil(`the maintenance window to open at ${window.start}`);
    run.refreshDetails();
    const abortedSignal = () => inbox.abortReason !== undefined;
    const summary = `maintenance window opens at ${window.start}`;
    const remaining = Date.parse(window.start) - Date.now();
    const outcome = await run.waitFor(abortedSignal, remaining, summary);
    if (outcome === 'continue-as-new') return { to: 'continue-as-new' };
    inbox.stopWaiting();
    if (outcome === 'done') return aborted(`aborted before any change: ${inbox.abortReason}`);
  }
  // An abort that came after the approval, before the first write, still stops the run.
  if (inbox.abortReason !== undefined) return aborted(`aborted before any change: ${inbox.abortReason}`);
  return { to: 'snapshot' };
}

/**
 * The gates before any write: approval (approve or abort, with a timeout; timing out aborts) and the maintenance
 * window (a durable sleep until it opens, cut short by abort).
 */
import type { Duration } from '@temporalio/common';
import { condition } from '@temporalio/workflow';
import { durationMs } from '../../common/duration';
import type { Run } from '../run/run';
import { aborted, type Transition } from '../run/transition';

export async function awaitApproval(run: Run): Promise<Transition> {
  const { state, inbox, options } = run;
  if (options.approval.required) {
    const timeout = options.approval.timeout as Duration;
    const deadline = new Date(Date.now() + durationMs(timeout)).toISOString();
    inbox.pending = { kind: 'approve', signals: ['approve', 'abort'], deadline };
    await run.enterPhase('awaiting-approval', `waiting for approve or abort until ${deadline}`);
    const decided = await condition(() => inbox.approval !== undefined || inbox.abortReason !== undefined, timeout, {
      summary: `approval (times out after ${options.approval.timeout})`,
    });
    inbox.pending = undefined;
    if (inbox.abortReason !== undefined) return aborted(`aborted before any change: ${inbox.abortReason}`);
    if (!decided) return aborted(`approval timed out after ${options.approval.timeout}`);
    const approval = inbox.approval;
    state.approvedBy = approval?.by ?? 'unknown';
    state.approvals.push({ ...approval, at: run.now(), for: 'migration' });
    run.note(`approved by ${state.approvedBy}${approval?.comment ? `: ${approval.comment}` : ''}`, 'awaiting-approval');
  }
  const window = options.maintenanceWindow;
  if (window && Date.now() < Date.parse(window.start)) {
    inbox.pending = undefined;
    run.note(`sleeping until the maintenance window opens at ${window.start}`);
    inbox.waitingFor = `the maintenance window to open at ${window.start}`;
    run.refreshDetails();
    const abortedFirst = await condition(() => inbox.abortReason !== undefined, Date.parse(window.start) - Date.now(), {
      summary: `maintenance window opens at ${window.start}`,
    });
    inbox.waitingFor = undefined;
    if (abortedFirst && inbox.abortReason !== undefined) {
      return aborted(`aborted before any change: ${inbox.abortReason}`);
    }
  }
  // An abort that came after the approval, before the first write, still stops the run.
  if (inbox.abortReason !== undefined) return aborted(`aborted before any change: ${inbox.abortReason}`);
  return { to: 'snapshot' };
}

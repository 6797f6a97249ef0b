/**
 * The inbox's intents (workflows/run/inbox.ts), without a worker: what each named method changes and what it leaves.
 * The signal handlers that call them are proved on the fake activities (signals, gate-decisions, controls).
 */
import type { PendingDecision } from '../../common/status';
import { Inbox } from '../../workflows/run/inbox';

test('a resume answers the question asked: one sent before a resume-or-rollback question is not taken for its answer', () => {
  const inbox = new Inbox();
  inbox.requestResume();
  inbox.ask({ kind: 'resume-or-rollback', signals: ['resume', 'rollback'], reason: 'paused' });
  expect(inbox.resumeRequested).toBe(false);
  inbox.requestResume();
  expect(inbox.resumeRequested).toBe(true);
  expect(inbox.takeResume()).toBe(true);
  expect(inbox.resumeRequested).toBe(false);
  // A question that does not take resume leaves a resume alone.
  inbox.requestResume();
  inbox.ask({ kind: 'cutover', signals: ['cutover', 'rollback'], reason: 'send cutover' });
  expect(inbox.resumeRequested).toBe(true);
});

test('stopAsking(kind) closes that question only; stopAsking() closes any; waitUntil closes the question and names the wait', () => {
  const inbox = new Inbox();
  const approve: PendingDecision = { kind: 'approve', signals: ['approve', 'abort'] };
  inbox.ask(approve);
  inbox.stopAsking('cutover');
  expect(inbox.pending).toEqual(approve);
  inbox.stopAsking('approve');
  expect(inbox.pending).toBeUndefined();
  inbox.ask(approve);
  inbox.waitUntil('the maintenance window to open at 2030-01-01T00:00:00Z');
  expect({ pending: inbox.pending, waitingFor: inbox.waitingFor }).toEqual({
    pending: undefined,
    waitingFor: 'the maintenance window to open at 2030-01-01T00:00:00Z',
  });
  inbox.stopWaiting();
  expect(inbox.waitingFor).toBeUndefined();
});

test('one approve per gate: refused with no gate open, and a second one refused once the first is taken', () => {
  const inbox = new Inbox();
  expect(inbox.approve({ by: 'early' }, false)).toBe(false);
  expect(inbox.approval).toBeUndefined();
  expect(inbox.approve({ by: 'alice', comment: 'ok' }, true)).toBe(true);
  expect(inbox.approve({ by: 'bob' }, true)).toBe(false);
  expect(inbox.approval).toEqual({ by: 'alice', comment: 'ok' });
});

test('the first abort, rollback and cutover reasons stand; rollback and pause are taken once', () => {
  const inbox = new Inbox();
  inbox.abort('first');
  inbox.abort('second');
  expect(inbox.abortReason).toBe('first');
  inbox.requestRollback('health check failed');
  inbox.requestRollback('operator');
  expect(inbox.rollbackRequested).toBe(true);
  expect(inbox.takeRollback()).toBe('health check failed');
  expect({ requested: inbox.rollbackRequested, again: inbox.takeRollback() }).toEqual({
    requested: false,
    again: undefined,
  });
  inbox.requestCutover('ops');
  inbox.requestCutover('someone else');
  expect(inbox.cutoverBy).toBe('ops');
  inbox.requestPause('paused by the operator: lunch');
  expect(inbox.pauseRequested).toBe('paused by the operator: lunch');
  expect(inbox.takePause()).toBe('paused by the operator: lunch');
  expect({ pause: inbox.pauseRequested, again: inbox.takePause() }).toEqual({ pause: undefined, again: undefined });
});

test('live controls are in force once no range started under an older version is in flight', () => {
  const inbox = new Inbox();
  // No range loop running: any change is in force at once.
  expect(inbox.controlsInForce(inbox.controlsChanged())).toBe(true);
  inbox.rangesStarted(inbox.controlsVersion);
  const next = inbox.controlsChanged();
  expect(next).toBe(2);
  expect(inbox.controlsInForce(next)).toBe(false);
  // The loop restarted its ranges under the new version.
  inbox.rangesStarted(next);
  expect(inbox.controlsInForce(next)).toBe(true);
  const later = inbox.controlsChanged();
  expect(inbox.controlsInForce(later)).toBe(false);
  inbox.rangesStopped();
  expect(inbox.controlsInForce(later)).toBe(true);
});

test('the rollback child ending clears its step and its gate question', () => {
  const inbox = new Inbox();
  inbox.rollbackStarted('wf/rollback-1');
  inbox.ask({ kind: 'accept-restore', signals: ['approve', 'abort'], reason: 'verify the restore' });
  inbox.rollbackEnded();
  expect({ step: inbox.rollbackStep, pending: inbox.pending }).toEqual({ step: undefined, pending: undefined });
});

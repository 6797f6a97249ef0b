/**
 * A run of the runbook once preflight has loaded its migration: the state (one object, owned here), the inbox of
 * signals, the lease, the activity stubs, and what every phase does alike: enter a phase, note, pause.
 */
import { condition, log, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Phase } from '../../common/phases';
import { COSMOS_CONTAINER, MIGRATION_ID, MIGRATION_PHASE } from '../../common/search-attributes';
import type { runbookActivities } from '../activities';
import { failureMessage } from '../../common/failure-message';
import { recordBudget, recordPhase } from '../metrics';
import { budgetOf, MAX_TIMELINE, type RunState } from '../state';
import type { Inbox } from './inbox';
import type { Lease } from './lease';
import { currentDetails } from './status';

export type Activities = ReturnType<typeof runbookActivities>;

export class Run {
  constructor(
    readonly state: RunState,
    readonly inbox: Inbox,
    readonly lease: Lease,
    readonly acts: Activities,
    readonly workflowId: string
  ) {}

  get options(): RunState['options'] {
    return this.state.options;
  }

  /** `database/container`, as messages name it. */
  get where(): string {
    return `${this.state.migration.database}/${this.state.migration.container}`;
  }

  now(): string {
    return new Date(Date.now()).toISOString();
  }

  refreshDetails(): void {
    setCurrentDetails(currentDetails(this.state, this.inbox.pending, Date.now(), this.inbox.waitingFor));
  }

  /** A line in the timeline, in the current phase. */
  note(note: string, phase: string = this.state.phase): void {
    this.state.timeline.push({ phase, at: this.now(), note });
  }

  /** A phase change: state, search attributes, UI details, timeline, notification (best effort). */
  async enterPhase(phase: Phase, note?: string, level: 'info' | 'warning' | 'error' = 'info'): Promise<void> {
    const { state } = this;
    const previous = state.phase;
    state.phase = phase;
    state.phaseSince = this.now();
    state.timeline.push({ phase, at: state.phaseSince, ...(note ? { note } : {}) });
    if (state.timeline.length > MAX_TIMELINE) state.timeline.splice(1, state.timeline.length - MAX_TIMELINE);
    upsertSearchAttributes([
      { key: MIGRATION_ID, value: state.migration.id },
      { key: MIGRATION_PHASE, value: phase },
      { key: COSMOS_CONTAINER, value: this.where },
    ]);
    this.refreshDetails();
    log.info('runbook phase', { migrationId: state.migration.id, phase, note });
    recordPhase(state.migration.id, phase, previous);
    recordBudget(state.migration.id, budgetOf(state));
    try {
      await this.acts.notify.notify.executeWithOptions({ summary: `notify: ${phase}` }, [
        {
          migrationId: state.migration.id,
          workflowId: this.workflowId,
          phase,
          ...(previous !== phase ? { previousPhase: previous } : {}),
          level,
          message: note ?? `phase ${phase}`,
        },
      ]);
    } catch (err) {
      // A webhook that is down never stops a migration.
      log.warn('notification failed', { phase, error: failureMessage(err) });
    }
  }

  /** This run's history is long enough to continue as new (the server says so, or our own threshold). */
  historyFull(): boolean {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength >= (this.state.tuning.continueAsNewAfterEvents ?? 5000);
  }

  /**
   * A wait that may last days: until `done`, the timeout (undefined: none), or the history is long enough to
   * continue as new (the caller does, and the next run waits on where this one stopped).
   */
  async waitFor(
    done: () => boolean,
    timeoutMs: number | undefined,
    summary: string
  ): Promise<'done' | 'timeout' | 'continue-as-new'> {
    const until = () => done() || this.historyFull();
    let inTime = true;
    if (timeoutMs === undefined) await condition(until);
    else inTime = timeoutMs > 0 && (await condition(until, timeoutMs, { summary }));
    if (done()) return 'done';
    return inTime ? 'continue-as-new' : 'timeout';
  }

  /**
   * Phase `paused` until the operator resumes or rolls back (or, on a long pause, the run continues as new and the
   * next one waits on). A resume accepts the failures so far.
   */
  async pause(
    reason: string,
    pausedIn: 'migrating' | 'verifying',
    because?: string
  ): Promise<'resume' | 'rollback' | 'continue-as-new'> {
    const { state, inbox } = this;
    state.lastError = reason;
    inbox.ask({ kind: 'resume-or-rollback', signals: ['resume', 'rollback'], reason });
    // A run continued as new while paused is already in the phase: no second notification.
    if (state.phase === 'paused') this.refreshDetails();
    else await this.enterPhase('paused', reason, 'warning');
    const decided = () => inbox.resumeRequested || inbox.rollbackRequested;
    state.migrating.pausedIn = pausedIn;
    state.migrating.pausedBecause = because;
    if ((await this.waitFor(decided, undefined, 'resume or rollback')) === 'continue-as-new') {
      return 'continue-as-new';
    }
    state.migrating.pausedIn = undefined;
    state.migrating.pausedBecause = undefined;
    inbox.stopAsking();
    if (inbox.rollbackRequested) return 'rollback';
    inbox.takeResume();
    // The operator accepted what failed so far: maxFailures more are tolerated.
    state.migrating.failureAllowance = state.migrating.counters.failed + this.options.maxFailures;
    state.lastError = undefined;
    if (this.lease.lost) {
      const lease = await this.lease.reacquire();
      if (!lease.acquired) {
        return this.pause(`container is held by workflow ${lease.holder} until ${lease.expiresAt}`, pausedIn, 'lease');
      }
    }
    return 'resume';
  }
}

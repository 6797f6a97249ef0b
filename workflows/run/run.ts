/**
 * A run of the runbook once preflight has loaded its migration: the state (one object, owned here), the inbox of
 * signals, the lease, the activity stubs, and what every phase does alike: enter a phase, note, pause.
 */
import { condition, log, setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import type { Phase } from '../../common/phases';
import { COSMOS_CONTAINER, MIGRATION_ID, MIGRATION_PHASE } from '../../common/search-attributes';
import type { runbookActivities } from '../activities';
import { describe } from '../rollback';
import { MAX_TIMELINE, type RunState } from '../state';
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
      log.warn('notification failed', { phase, error: describe(err) });
    }
  }

  /** Phase `paused` until the operator resumes or rolls back. A resume accepts the failures so far. */
  async pause(reason: string): Promise<'resume' | 'rollback'> {
    const { state, inbox } = this;
    state.lastError = reason;
    inbox.pending = { kind: 'resume-or-rollback', signals: ['resume', 'rollback'], reason };
    inbox.resumeRequested = false;
    await this.enterPhase('paused', reason, 'warning');
    await condition(() => inbox.resumeRequested || inbox.rollbackReason !== undefined);
    inbox.pending = undefined;
    if (inbox.rollbackReason !== undefined) return 'rollback';
    inbox.resumeRequested = false;
    // The operator accepted what failed so far: maxFailures more are tolerated.
    state.failureAllowance = state.counters.failed + this.options.maxFailures;
    state.lastError = undefined;
    if (this.lease.lost) {
      const lease = await this.lease.reacquire();
      if (!lease.acquired) return this.pause(`container is held by workflow ${lease.holder} until ${lease.expiresAt}`);
    }
    return 'resume';
  }
}

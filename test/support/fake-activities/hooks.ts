/**
 * The hooks in memory: notifications kept (phase by phase), stop-app/start-app recorded as run, health checks answered
 * from the script's sequence (the last answer repeats).
 */
import type { HookName, NotifyEvent, RunbookActivities } from '../../../common/activities';
import type { FakeScript } from './script';

export type HookActivities = Pick<RunbookActivities, 'notify' | 'runHook' | 'healthCheck' | 'describeHooks'>;

export interface HookRecords {
  notified: NotifyEvent[];
  ran: HookName[];
}

export function createHookActivities(script: FakeScript, records: HookRecords): HookActivities {
  const health = [...(script.health ?? [true])];
  const configured = (hook: HookName) =>
    ({
      'stop-app': script.hooks?.stopApp,
      'start-app': script.hooks?.startApp,
      cutover: script.hooks?.cutover,
      'rollback-cutover': script.hooks?.rollbackCutover,
    })[hook] === true;
  return {
    async notify(event) {
      records.notified.push(event);
    },
    async runHook({ hook }) {
      if (!configured(hook)) return { ran: false };
      records.ran.push(hook);
      return { ran: true };
    },
    async healthCheck() {
      const answer = (health.length > 1 ? health.shift() : health[0]) ?? true;
      const ok = answer === true;
      return { ok, checks: [{ name: 'scripted', ok, ...(ok ? {} : { detail: answer }) }] };
    },
    async describeHooks() {
      return { stopApp: script.hooks?.stopApp === true, startApp: script.hooks?.startApp === true, healthChecks: 1 };
    },
  };
}

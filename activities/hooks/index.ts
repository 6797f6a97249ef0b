/** The hooks activities: notify, stop-app/start-app, health checks; all configured by the worker's HOOKS_CONFIG. */
import type { RunbookActivities } from '../../common/activities';
import type { HooksConfig } from './config';
import { createRunHook, hookFingerprint } from './app';
import { createHealthCheck } from './health';
import { createNotify } from './notify';

export type HookActivities = Pick<RunbookActivities, 'notify' | 'runHook' | 'healthCheck' | 'describeHooks'>;

export function createHookActivities(hooks: HooksConfig): HookActivities {
  return {
    notify: createNotify(hooks),
    runHook: createRunHook(hooks),
    healthCheck: createHealthCheck(hooks),
    // Names only: which hooks exist, so a rollback knows before it asks for consent. Never commands or URLs.
    describeHooks: () =>
      Promise.resolve({
        stopApp: hooks.stopApp !== undefined,
        startApp: hooks.startApp !== undefined,
        healthChecks: hooks.healthChecks?.length ?? 0,
        fingerprints: {
          ...(hooks.stopApp ? { stopApp: hookFingerprint(hooks.stopApp) } : {}),
          ...(hooks.startApp ? { startApp: hookFingerprint(hooks.startApp) } : {}),
        },
      }),
  };
}

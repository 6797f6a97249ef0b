/**
 * Every activity the runbook calls, built from one `ActivityDeps` (the worker's, or a test's).
 * The engine (load, plan, migrate, verify, record) lives in ./engine; the runbook's own ARM steps, lease and hooks here.
 */
import type { RunbookActivities } from '../common/activities';
import { guardContainers } from './allowed-containers';
import type { ActivityDeps } from './deps';
import { createEngineActivities } from './engine';
import { createCopyActivities } from './copy';
import { createBackupActivities } from './arm/backup';
import { createRestoreActivities } from './arm/restore';
import { createLeaseActivities } from './cosmos/lease';
import { createStagingActivities } from './cosmos/staging';
import { createDrillActivities } from './drill';
import { createHookActivities } from './hooks';
import { createInputActivities } from './input';
import { keepAlive } from './cosmos/requests';
import { withRunbookMetrics } from './metrics';

export function createActivities(deps: ActivityDeps): RunbookActivities {
  // The allow-list around all of them: no activity reads or changes a container the worker's setting does not name.
  return guardContainers(withRunbookMetrics(buildActivities(deps)), deps.allowedContainers);
}

function buildActivities(deps: ActivityDeps): RunbookActivities {
  const activities: RunbookActivities = {
    ...createInputActivities(),
    ...createEngineActivities(deps),
    ...createCopyActivities(deps),
    ...createBackupActivities(deps),
    ...createRestoreActivities(deps),
    ...createLeaseActivities(deps),
    ...createStagingActivities(deps),
    ...createDrillActivities(deps),
    ...createHookActivities(deps.hooks),
  };
  // The ARM steps run with a heartbeat timeout (workflows/activities.ts `arm`): they heartbeat while they wait.
  return {
    ...activities,
    ensurePreimagesContainer: (input) => keepAlive(() => activities.ensurePreimagesContainer(input)),
    applyContainerSteps: (input) => keepAlive(() => activities.applyContainerSteps(input)),
    deleteContainer: (input) => keepAlive(() => activities.deleteContainer(input)),
    prepareCopyTarget: (input) => keepAlive(() => activities.prepareCopyTarget(input)),
    setCopyTargetThroughput: (input) => keepAlive(() => activities.setCopyTargetThroughput(input)),
    reapplyContainerProperties: (input) => keepAlive(() => activities.reapplyContainerProperties(input)),
  };
}

/**
 * The copy mode's activities (docs/migrations.md "Copy mode"), built from the one ActivityDeps like the engine's and
 * composed into createActivities (activities/index.ts).
 */
import type { CopyActivities } from '../../common/copy';
import type { ActivityDeps } from '../deps';
import { copyRange } from './backfill';
import { prepareCopyTarget } from './prepare-target';
import { markCopyStart, reverseSyncRange, syncCopyRange } from './sync';
import { verifyCopy } from './verify';
import { findDeletedCopies, findDeletedSources } from './reconcile';
import { setCopyTargetThroughput } from './throughput';
import { checkTargetCopies } from './target-copies';

export function createCopyActivities(deps: ActivityDeps): CopyActivities {
  return {
    prepareCopyTarget: (input) => prepareCopyTarget(deps, input),
    markCopyStart: (input) => markCopyStart(deps, input),
    copyRange: (input) => copyRange(deps, input),
    syncCopyRange: (input) => syncCopyRange(deps, input),
    reverseSyncRange: (input) => reverseSyncRange(deps, input),
    verifyCopy: (input) => verifyCopy(deps, input),
    findDeletedCopies: (input) => findDeletedCopies(deps, input),
    findDeletedSources: (input) => findDeletedSources(deps, input),
    setCopyTargetThroughput: (input) => setCopyTargetThroughput(deps, input),
    checkTargetCopies: (input) => checkTargetCopies(deps, input),
  };
}

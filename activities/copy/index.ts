/**
 * The copy mode's activities (docs/migrations.md "Copy mode"), built from the one ActivityDeps like the engine's and
 * composed into createActivities (activities/index.ts).
 */
import type {
  CopyRangeInput,
  CopyRangeResult,
  CopyStartInput,
  CopyStartResult,
  PrepareTargetInput,
  PrepareTargetResult,
  SyncCopyInput,
  SyncCopyResult,
} from '../../common/copy';
import type { ActivityDeps } from '../deps';
import { copyRange } from './backfill';
import { prepareCopyTarget } from './prepare-target';
import { markCopyStart, reverseSyncRange, syncCopyRange } from './sync';

export interface CopyActivities {
  /** Preflight: creates the target through ARM with the declared properties; refuses one not this run's. */
  prepareCopyTarget(input: PrepareTargetInput): Promise<PrepareTargetResult>;
  /** The start point of one source range's change feed, taken before its backfill. */
  markCopyStart(input: CopyStartInput): Promise<CopyStartResult>;
  /** The backfill of one source range into the target, through up(). */
  copyRange(input: CopyRangeInput): Promise<CopyRangeResult>;
  /** The catch-up of one source range from its change feed into the target, deletes included. */
  syncCopyRange(input: SyncCopyInput): Promise<SyncCopyResult>;
  /** After the cutover: one target range's change feed written back to the source through down(), deletes included. */
  reverseSyncRange(input: SyncCopyInput): Promise<SyncCopyResult>;
}

export function createCopyActivities(deps: ActivityDeps): CopyActivities {
  return {
    prepareCopyTarget: (input) => prepareCopyTarget(deps, input),
    markCopyStart: (input) => markCopyStart(deps, input),
    copyRange: (input) => copyRange(deps, input),
    syncCopyRange: (input) => syncCopyRange(deps, input),
    reverseSyncRange: (input) => reverseSyncRange(deps, input),
  };
}

/**
 * Every replay patch of the workflows, in one registry (as the TypeScript SDK keeps its own in
 * packages/workflow/src/flags.ts): what it guards and when it can go. Workflow code calls `isPatched(id)`, never the
 * SDK's `patched` directly (a lint rule holds that), so each id in a history is one of these.
 *
 * Before 1.0 there is no production run to keep replaying: the patches of 0.x were squashed (their legacy paths removed
 * and test/histories/ recorded again). From 1.0 on, a change that alters the commands an open run replays goes behind
 * an entry here, with a replay test of a history recorded before it and one after; docs/production.md says how they
 * are retired (deprecatePatch, then removal once no run started before the change is open).
 */
import { patched } from '@temporalio/workflow';

export interface PatchEntry {
  /** The behaviour new runs get; runs recorded before it replay the old path. */
  guards: string;
  /** When the old path can be removed. */
  removableWhen: string;
}

/** id → what it guards. Empty: the 0.x patches were squashed (see above). */
export const PATCHES = {} as const satisfies Record<string, PatchEntry>;

export type PatchId = keyof typeof PATCHES;

/** The SDK's `patched`, for a registered id only. */
export function isPatched(id: PatchId): boolean {
  return patched(id);
}

/**
 * The copy mode's activities in the fake kit: not scripted yet (no phase calls them yet; the copy mode's activities
 * are proved on the local stack in test/engine/copy.test.ts). A phase that calls one fails loudly here.
 */
import type { CopyActivities } from '../../../common/copy';

function notScripted(name: string): () => Promise<never> {
  return () => Promise.reject(new Error(`${name}: the copy mode is not scripted in the fake-activities kit`));
}

export function createCopyActivities(): CopyActivities {
  return {
    prepareCopyTarget: notScripted('prepareCopyTarget'),
    markCopyStart: notScripted('markCopyStart'),
    copyRange: notScripted('copyRange'),
    syncCopyRange: notScripted('syncCopyRange'),
    reverseSyncRange: notScripted('reverseSyncRange'),
    verifyCopy: notScripted('verifyCopy'),
    findDeletedCopies: notScripted('findDeletedCopies'),
  };
}

/**
 * Rollback by `down`: the module's reverse transform over every feed range, verified, then the container steps
 * undone (a container the run created is deleted; changed properties are put back). It concludes on a settled count:
 * documents at the version down() reads that the verification did not see get another pass (at most 3), else the
 * rollback fails and says how many.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { Direction } from '../../common/activities';
import { addCounters, versionKey, zeroCounters } from '../../common/counters';
import { failureMessage } from '../../common/failure-message';
import { migrateAllRanges } from '../ranges';
import type { RollbackRun } from './context';
import { ErrorType } from '../../common/errors';

export async function undoContainerSteps(r: RollbackRun): Promise<void> {
  const steps = r.input.steps;
  if (!steps?.applied.length) return;
  if (steps.previous === null) {
    await deleteCreatedContainer(r);
  } else {
    await r.step('put back the container properties the migration changed');
    await r.acts.arm.reapplyContainerProperties.executeWithOptions({ summary: `restore properties of ${r.where}` }, [
      { exported: steps.previous },
    ]);
  }
}

/**
 * A container the migration created is deleted when it is empty. When it holds documents (the application wrote into
 * it), the operator is asked first with their count: approve deletes it with them (the delete refuses if more came
 * since), abort or no answer keeps it, and the report says so. No restore brings such a container back.
 */
async function deleteCreatedContainer(r: RollbackRun): Promise<void> {
  const { ref, where, result } = r;
  const { total } = await r.acts.scan.countVersions.executeWithOptions({ summary: `count the documents in ${where}` }, [
    // Settled: a lagging replica may not show what the application wrote a moment ago (settled-count.ts).
    { ...ref, versionField: r.input.migration.versionField, settled: true },
  ]);
  if (total > 0) {
    const detail =
      `${where} was created by the migration and holds ${total} document(s) now; approve deletes it with them, ` +
      'abort keeps it';
    await r.step(`waiting for the operator: ${detail}`, { awaitingContainerDelete: { documents: total }, detail });
    try {
      const by = await r.decide(`delete ${where} with its ${total} document(s)`, ErrorType.ContainerDeleteNotApproved);
      await r.step(`deleting ${where} with its ${total} document(s) approved by ${by ?? 'unknown'}`);
    } catch (err) {
      if (!(err instanceof ApplicationFailure) || err.type !== ErrorType.ContainerDeleteNotApproved) throw err;
      result.keptContainer = { documents: total, reason: err.message };
      await r.step(`kept ${where} (created by the migration) with its ${total} document(s): ${err.message}`);
      return;
    }
  }
  await r.step(`delete container ${where} (created by the migration)`);
  await r.acts.arm.deleteContainer.executeWithOptions({ summary: `delete ${where} (created by the migration)` }, [
    { ...ref, ...(total > 0 ? { documentsApproved: total } : {}) },
  ]);
}

/** Passes of down() over the ranges at most (workflows/rollback/preimages.ts says why a pass misses documents). */
const MAX_DOWN_PASSES = 3;

export async function rollbackByDown(r: RollbackRun): Promise<void> {
  const { input, where, result } = r;
  const { migration } = input;
  const reverse: Direction = input.direction === 'up' ? 'down' : 'up';
  const createdByRun = input.steps?.previous === null;
  if (migration.migratesDocuments && !createdByRun) {
    const hasReverse = reverse === 'down' ? migration.hasDown : migration.hasUp;
    if (!hasReverse) {
      throw ApplicationFailure.nonRetryable(
        `migration ${migration.id} has no ${reverse}()`,
        ErrorType.RollbackImpossible
      );
    }
    // The version the reverse transform takes documents from: what must not be left unseen.
    const from = versionKey(reverse === 'down' ? migration.toVersion : migration.fromVersion);
    for (let pass = 1; ; pass++) {
      await r.step(pass === 1 ? `migrate documents ${reverse}` : `migrate documents ${reverse} again (pass ${pass})`);
      await reversePass(r, reverse);
      await r.step(`verify documents are back at ${reverse === 'down' ? 'fromVersion' : 'toVersion'}`);
      const verification = await r.acts.scan.verifyMigration.executeWithOptions(
        { summary: `verify ${reverse} of ${where}` },
        [
          {
            ...r.ref,
            migration: migration.id,
            checksum: migration.checksum,
            direction: reverse,
            sampleSize: input.verifySampleSize,
          },
        ]
      );
      if (!verification.ok) {
        result.problems.push(...verification.problems);
        break;
      }
      // The verification's scan may not have seen what the application wrote just before it stopped (a replica that
      // lags, Session consistency): a settled count at that version concludes, and more than it saw is another pass.
      const seen = verification.countsByVersion[from] ?? 0;
      const counted = await r.acts.scan.countVersions.executeWithOptions({ summary: `count ${where} by version` }, [
        { ...r.ref, versionField: migration.versionField, settled: true, settledOn: from },
      ]);
      const left = counted.countsByVersion[from] ?? 0;
      if (left <= seen) break;
      if (pass >= MAX_DOWN_PASSES) {
        result.problems.push(
          `${left - seen} document(s) of ${where} at version ${from} were not seen by ${MAX_DOWN_PASSES} passes of ` +
            `${reverse}() and its verification (written since, or a replica lags); rollback again to take them back`
        );
        break;
      }
    }
  }
  await undoContainerSteps(r);
}

/** down() (or up()) over every feed range, at the live budget and concurrency (forwarded by the parent). */
async function reversePass(r: RollbackRun, reverse: Direction): Promise<void> {
  const { input, ref, where, result } = r;
  const { migration } = input;
  const { quick, range } = r.acts;
  const listRanges = () => quick.listFeedRanges.executeWithOptions({ summary: `list feed ranges of ${where}` }, [ref]);
  const ranges = (await listRanges()).map((feedRange) => ({ feedRange, done: false, counters: zeroCounters() }));
  // A change of the live controls restarts the ranges in flight with it.
  for (;;) {
    const seen = r.controlsVersion;
    const changed = () => (r.controlsVersion !== seen ? 'controls' : undefined);
    r.rangesStart();
    const outcome = await migrateAllRanges({
      range,
      ranges,
      base: {
        ...ref,
        migration: migration.id,
        checksum: migration.checksum,
        direction: reverse,
        batchSize: input.batchSize,
        dryRun: false,
        maxPages: input.tuning.maxPagesPerActivity,
      },
      priorityBased: input.priorityBased,
      ruBudget: () => r.ruBudget(),
      concurrency: () => r.concurrency(),
      failureAllowance: () => input.maxFailures - result.counters.failed,
      onResult: (c) => (result.counters = addCounters(result.counters, c)),
      shouldStop: changed,
      interruptWhen: () => changed() !== undefined,
      listRanges,
    });
    r.rangesStop();
    if (outcome.error) throw outcome.error instanceof Error ? outcome.error : new Error(failureMessage(outcome.error));
    if (outcome.finished) return;
  }
}

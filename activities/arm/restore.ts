/**
 * Rollback by point-in-time restore (docs/architecture.md §5 and §8): Azure restores a container in place only after it
 * is deleted. proveRestorable (nothing is deleted that Azure cannot restore) and countWritesSince (what the restore
 * discards, for the consent) → deleteContainer → restoreContainer(T0, the export) (a long-running ARM operation,
 * resumable after a worker restart from the poller state kept in heartbeats, retried anew after a failed restore) →
 * verifyRestore against the state at T0 and the exported definition (TTL still off) → reapplyContainerProperties
 * (TTL back on).
 */
import { ErrorType } from '../../common/errors';
import { ApplicationFailure } from '@temporalio/common';
import { activityInfo, heartbeat, sleep } from '@temporalio/activity';
import type { DatabaseAccountGetResults, SqlContainerGetResults } from '@azure/arm-cosmosdb';
import type {
  ContainerExport,
  ContainerRef,
  CountWritesSinceInput,
  DeleteContainerInput,
  ProveRestorableInput,
  RestoreInput,
  RestoreResult,
  RestoreVerification,
  Snapshot,
} from '../../common/activities';
import { countByVersion, countWhere } from '../cosmos/counts';
import { settledCount } from '../cosmos/settled-count';
import { changesSince } from '../cosmos/changes-since';
import { PROGRESS_NOT_REPORTED, waitForIndexRebuild } from '../cosmos/index-progress';
import { exportScripts, missingScripts, recreateScripts } from '../cosmos/scripts';
import { countWritesSince } from '../cosmos/writes-since';
import { proveRestorable } from './prove-restorable';
import type { ActivityDeps } from '../deps';
import { findRestoreSource, getAccount } from './backup';
import { applyThroughput, deleteContainerIfExists, putContainerResource } from './ensure-container';
import { describeThroughput, isNotFound, readThroughputSetting, sameThroughput } from './export';
import { failureMessage } from '../../common/failure-message';

type RestoreDeps = Pick<ActivityDeps, 'arm' | 'cosmos' | 'account' | 'armPollIntervalMs'>;

/** How often the index rebuild after a restore is polled. */
const INDEX_POLL_MS = 2000;

/** Resource fields that are the server's bookkeeping, not the container's definition (the SDK maps `_rid` to `rid`). */
const NOT_DEFINITION = new Set([
  'id',
  'rid',
  'ts',
  'etag',
  'self',
  'restoreParameters',
  'createMode',
  'statistics',
  'backupPolicy',
  'geospatialConfig',
]);
/** Fields a PUT may change on an existing container; the rest (partition key, unique keys) are fixed at creation. */
const MUTABLE = [
  'indexingPolicy',
  'defaultTtl',
  'conflictResolutionPolicy',
  'computedProperties',
  'analyticalStorageTtl',
];

/** JSON with sorted keys, so two definitions compare equal whatever order ARM returned the fields in. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v
  );
}

export function definitionOf(resource: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(resource).filter(
      ([key, value]) => !key.startsWith('_') && !NOT_DEFINITION.has(key) && value !== undefined
    )
  );
}

/** Names of the definition fields that differ between the export and the container as it is now. */
export function differences(exported: Record<string, unknown>, current: Record<string, unknown>): string[] {
  const want = definitionOf(exported);
  const have = definitionOf(current);
  const keys = [...new Set([...Object.keys(want), ...Object.keys(have)])].sort();
  return keys.filter((key) => canonical(want[key]) !== canonical(have[key]));
}

export function createRestoreActivities(deps: RestoreDeps) {
  const { arm, cosmos, account: ref } = deps;
  const poll = { updateIntervalInMs: deps.armPollIntervalMs };

  async function getContainer(input: ContainerRef): Promise<SqlContainerGetResults | undefined> {
    try {
      return await arm.sqlResources.getSqlContainer(ref.resourceGroup, ref.name, input.database, input.container);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * Deletes the container; with `restorableAt`, only after proving that Azure can restore it at that time (the
   * proof runs right before the delete, so it holds for this moment, not for when the workflow last checked).
   */
  async function deleteContainer(input: DeleteContainerInput): Promise<void> {
    const target = { database: input.database, container: input.container };
    if (input.restorableAt !== undefined) {
      // Already gone (a retry after the delete succeeded): nothing to delete, nothing to prove.
      if (!(await getContainer(target))) return;
      const proof = await proveRestorable(deps, { ...target, t0: input.restorableAt, exported: input.exported });
      const accountBusy = proof.checks.find((c) => c.name === 'account-state' && !c.ok);
      if (accountBusy) {
        throw ApplicationFailure.nonRetryable(
          `${input.database}/${input.container} was not deleted: ${accountBusy.detail}`,
          ErrorType.AccountOperationInProgress,
          proof
        );
      }
      if (!proof.ok) {
        throw ApplicationFailure.nonRetryable(
          `${input.database}/${input.container} was not deleted: Azure could not restore it to ${input.restorableAt} now: ` +
            proof.problems.join('; '),
          ErrorType.RestoreImpossible,
          proof
        );
      }
    } else {
      // A container the migration created holds what the application wrote into it: never deleted unseen.
      const container = deps.cosmos.database(input.database).container(input.container);
      // Settled, as the workflow's count: a replica that lags must not make it look empty (settled-count.ts).
      const exists = (await getContainer(target)) !== undefined;
      if (exists && input.unchangedSince !== undefined) {
        const changed = await changesSince(container, input.unchangedSince);
        if (changed > 0) {
          throw ApplicationFailure.nonRetryable(
            `${input.database}/${input.container} was not deleted: ${changed} document(s) were created or replaced in it after it was checked`,
            ErrorType.ContainerInUse,
            { changedSinceCheck: changed }
          );
        }
      }
      const holds = exists ? await settledCount(async () => (await countWhere(container)).count) : 0;
      const approved = input.documentsApproved ?? 0;
      if (holds > approved) {
        throw ApplicationFailure.nonRetryable(
          `${input.database}/${input.container} was not deleted: it holds ${holds} document(s), ` +
            (approved > 0 ? `more than the ${approved} approved` : 'and deleting them was not approved'),
          ErrorType.ContainerInUse,
          { documents: holds }
        );
      }
    }
    // Already gone (e.g. a retry after the delete succeeded) is what we wanted.
    await deleteContainerIfExists(deps, target);
  }

  /**
   * Restores the deleted container to `input.timestamp` in place. Everything comes from the input and from ARM's
   * restorable resources, never from the container (it is gone): the restore source is the account's restorable
   * account, and the container must be listed among the restorable resources at T0. TTL is disabled on the restored
   * container when the export had one (reapplyContainerProperties turns it back on once the restore is verified).
   *
   * The ARM operation's poller state is heartbeated, so a new worker resumes the same operation. When the resumed
   * operation turns out to have failed (the previous attempt threw because it failed), a new restore is started: a
   * failed restore leaves no container, so a retry is a new PUT. A refusal is non-retryable when no retry can help
   * (RestoreImpossible, ContainerExists) and retryable when it is about other restores in progress (RestoreBusy).
   */
  async function restoreContainer(input: RestoreInput): Promise<RestoreResult> {
    const where = `${input.database}/${input.container}`;
    const at = new Date(input.timestamp);
    if (Number.isNaN(at.getTime())) {
      throw ApplicationFailure.nonRetryable(
        `restore of ${where}: timestamp ${input.timestamp} is not ISO`,
        ErrorType.InvalidInput
      );
    }
    const exportedTtl = input.exported?.resource.defaultTtl;
    const withTtlDisabled = input.withTtlDisabled ?? (exportedTtl !== undefined && exportedTtl !== null);
    const account = await getAccount(deps);
    const source = await restoreSourceFor(input, account, at);
    const parameters = {
      resource: {
        id: input.container,
        createMode: 'Restore' as const,
        restoreParameters: {
          restoreSource: source.id,
          restoreTimestampInUtc: at,
          ...(withTtlDisabled ? { restoreWithTtlDisabled: true } : {}),
        },
      },
      options: {},
    };
    let resumeFrom = (activityInfo().heartbeatDetails as { pollerState?: string } | undefined)?.pollerState;
    for (;;) {
      let poller;
      if (resumeFrom) {
        try {
          poller = await arm.sqlResources.beginCreateUpdateSqlContainer(
            ref.resourceGroup,
            ref.name,
            input.database,
            input.container,
            parameters,
            { ...poll, resumeFrom }
          );
          await pollToEnd(poller);
        } catch (err) {
          // A transport error or a 5xx: the operation may well be running; the next attempt resumes it.
          const rest = err as { name?: string; statusCode?: number };
          if (rest.name === 'RestError' && rest.statusCode !== 404) throw err;
          // The operation we were following failed (or ARM forgot it, 404): a failed restore leaves nothing, start anew.
          resumeFrom = undefined;
          heartbeat({ previousAttempt: failureMessage(err) });
          continue;
        }
      } else {
        try {
          poller = await arm.sqlResources.beginCreateUpdateSqlContainer(
            ref.resourceGroup,
            ref.name,
            input.database,
            input.container,
            parameters,
            poll
          );
        } catch (err) {
          const done = await refusal(err, input, at);
          if (done) return done;
          throw err;
        }
        try {
          await pollToEnd(poller);
        } catch (err) {
          // Retryable: the next attempt sees this failed operation in the heartbeat and starts a new restore.
          throw ApplicationFailure.retryable(
            `the restore of ${where} to ${at.toISOString()} failed after the container was deleted: ${failureMessage(err)}`,
            'RestoreFailed'
          );
        }
      }
      const result = poller.getResult();
      const restoredTo = result?.resource?.restoreParameters?.restoreTimestampInUtc;
      return {
        restoredTo: (restoredTo ? new Date(restoredTo) : at).toISOString(),
        ttlDisabled: withTtlDisabled,
        started: true,
      };
    }
  }

  async function pollToEnd(poller: { isDone(): boolean; poll(): Promise<void>; toString(): string }): Promise<void> {
    // Poll by hand so each poll heartbeats the poller state: a new worker resumes the same operation.
    while (!poller.isDone()) {
      heartbeat({ pollerState: poller.toString() });
      await sleep(deps.armPollIntervalMs);
      await poller.poll();
    }
  }

  /** The restore source, and a clear refusal when ARM's restorable resources say the restore cannot work. */
  async function restoreSourceFor(input: RestoreInput, account: DatabaseAccountGetResults, at: Date) {
    const where = `${input.database}/${input.container}`;
    let source;
    try {
      source = await findRestoreSource(arm, account);
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 403) {
        throw ApplicationFailure.nonRetryable(
          `cannot restore ${where}: the identity lacks the restore permission (${failureMessage(err)})`,
          ErrorType.RestoreImpossible
        );
      }
      throw err;
    }
    if (!source) {
      throw ApplicationFailure.nonRetryable(
        `account ${ref.name} has no restorable account in ARM: continuous backup is off, a restore is impossible`,
        ErrorType.RestoreImpossible
      );
    }
    let existed = false;
    for await (const entry of arm.restorableSqlResources.list(source.location, source.instanceId, {
      restoreLocation: source.location,
      restoreTimestampInUtc: at.toISOString(),
    })) {
      if (entry.databaseName === input.database && (entry.collectionNames ?? []).includes(input.container))
        existed = true;
    }
    if (!existed) {
      throw ApplicationFailure.nonRetryable(
        `cannot restore ${where} to ${at.toISOString()}: ARM's restorable resources at that time do not list it`,
        ErrorType.RestoreImpossible
      );
    }
    return source;
  }

  /**
   * What a refused restore PUT means. A 409 is either the container existing (done already, when it was restored
   * to this very time by an earlier attempt; else ContainerExists) or other restores in progress (RestoreBusy,
   * retryable). 400/403/404 cannot be fixed by retrying. Returns the result when the restore was already done.
   */
  async function refusal(err: unknown, input: RestoreInput, at: Date): Promise<RestoreResult | undefined> {
    const where = `${input.database}/${input.container}`;
    const status = (err as { statusCode?: number }).statusCode;
    if (status === 409) {
      const existing = await getContainer(input);
      if (!existing) {
        throw ApplicationFailure.retryable(`the restore of ${where} must wait: ${failureMessage(err)}`, 'RestoreBusy');
      }
      const restoredAt = existing.resource?.restoreParameters?.restoreTimestampInUtc;
      if (restoredAt && Math.abs(new Date(restoredAt).getTime() - at.getTime()) < 1000) {
        const ttlOff = existing.resource?.restoreParameters?.restoreWithTtlDisabled;
        return { restoredTo: new Date(restoredAt).toISOString(), ttlDisabled: ttlOff === true, started: false };
      }
      throw ApplicationFailure.nonRetryable(
        `container ${where} exists: Azure restores a container in place only after it is deleted`,
        ErrorType.ContainerExists
      );
    }
    if (status === 400 || status === 403 || status === 404) {
      throw ApplicationFailure.nonRetryable(
        `Azure refused to restore ${where} to ${at.toISOString()} (${status}): ${failureMessage(err)}`,
        ErrorType.RestoreImpossible
      );
    }
    return undefined;
  }

  /**
   * Gives the restored container back what the restore did not: the exported definition's mutable fields, its
   * throughput in its own mode (autoscale stays autoscale: applyThroughput), and its stored procedures, triggers and
   * UDFs, which Azure does not restore (https://learn.microsoft.com/azure/cosmos-db/continuous-backup-restore-introduction).
   * With `keepTtlOff` (before verification) TTL stays off, so no document of T0 expires before it is counted; the
   * call after verification turns it back on.
   */
  async function reapplyContainerProperties(input: {
    exported: ContainerExport;
    keepTtlOff?: boolean;
  }): Promise<{ changed: string[] }> {
    const { exported } = input;
    const current = await getContainer(exported);
    if (!current?.resource) throw new Error(`container ${exported.database}/${exported.container} does not exist`);
    const changed = differences(exported.resource, current.resource as unknown as Record<string, unknown>).filter(
      (key) => MUTABLE.includes(key) && !(input.keepTtlOff && key === 'defaultTtl')
    );
    if (changed.length) {
      const definition = definitionOf(exported.resource);
      const ttl = current.resource.defaultTtl;
      const wanted = input.keepTtlOff
        ? {
            ...Object.fromEntries(Object.entries(definition).filter(([key]) => key !== 'defaultTtl')),
            ...(ttl !== undefined ? { defaultTtl: ttl } : {}),
          }
        : definition;
      await putContainerResource(deps, exported, wanted);
    }
    if (await applyThroughput(deps, exported, exported)) changed.push('throughput');
    if (exported.scripts) changed.push(...(await recreateScripts(deps, exported, exported.scripts)));
    return { changed };
  }

  /**
   * The restored container against the state at T0, once its index is rebuilt (counts before that may miss
   * documents): its definition against the export (TTL may still be off), its throughput in its mode, its scripts, and
   * its documents by version and in all against the snapshot. Azure's restore IS the state at T0; the snapshot was
   * counted just after T0 while the application could still write, so with `changedSinceT0` = k documents created
   * or changed between T0 and the count, the state at T0 held between `documentCount − k` and `documentCount`
   * documents, and each version between its count − k and its count + k (a changed document may have left or joined
   * it). With k = 0 every figure must be equal. Documents deleted in that short interval are invisible to any count;
   * they show as a mismatch for the operator to judge, never a silent pass. A mismatch is returned, not thrown.
   */
  async function verifyRestore(input: {
    snapshot: Snapshot;
    exported: ContainerExport;
    versionField?: string;
  }): Promise<RestoreVerification> {
    const { snapshot, exported } = input;
    const where = `${exported.database}/${exported.container}`;
    const problems: string[] = [];
    const current = await getContainer(exported);
    if (!current?.resource) return { ok: false, problems: [`container ${where} does not exist`], documentCount: 0 };
    const container = cosmos.database(exported.database).container(exported.container);
    // Azure rebuilds a restored container's index; counts before it ends may miss documents.
    const indexProgress = await waitForIndexRebuild(container, where, INDEX_POLL_MS);
    // Restored with TTL disabled and not yet given its TTL back by reapplyContainerProperties.
    const ttlDisabled =
      current.resource.restoreParameters?.restoreWithTtlDisabled === true && current.resource.defaultTtl === undefined;
    for (const field of differences(exported.resource, current.resource as unknown as Record<string, unknown>)) {
      // TTL stays off until reapplyContainerProperties, after this verification.
      if (field === 'defaultTtl' && ttlDisabled) continue;
      problems.push(`${field} of ${where} differs from the exported definition`);
    }
    const throughput = await readThroughputSetting(deps, exported);
    if (!sameThroughput(exported, throughput)) {
      problems.push(
        `throughput of ${where} is ${describeThroughput(throughput)}; it was ${describeThroughput(exported)}`
      );
    }
    if (exported.scripts) {
      const missing = missingScripts(exported.scripts, await exportScripts(deps, exported));
      if (missing.length) problems.push(`${where} lacks the exported ${missing.join(', ')}`);
    }
    const changed = snapshot.changedSinceT0 ?? 0;
    const expected = { min: Math.max(0, snapshot.documentCount - changed), max: snapshot.documentCount };
    let documentCount: number;
    let countsByVersion: Record<string, number> | undefined;
    if (input.versionField !== undefined) {
      // Per feed range, heartbeating (counts.ts perRange): a range that splits is counted again as its children.
      const counted = await countByVersion(container, input.versionField);
      documentCount = counted.total;
      countsByVersion = counted.counts;
    } else {
      documentCount = (await countWhere(container)).count;
    }
    const because = changed > 0 ? ` (the snapshot counted after T0, ${changed} document(s) written between)` : '';
    let mismatch: RestoreVerification['mismatch'];
    if (documentCount < expected.min || documentCount > expected.max) {
      mismatch = { expectedMin: expected.min, expectedMax: expected.max, found: documentCount };
      const range = expected.min === expected.max ? `${expected.max}` : `between ${expected.min} and ${expected.max}`;
      problems.push(
        `${where} holds ${documentCount} documents after the restore; the state at T0 ${snapshot.t0} held ${range}` +
          (changed > 0 ? ` (the snapshot counted ${snapshot.documentCount}, ${changed} of them written after T0)` : '')
      );
    }
    const versionMismatches: NonNullable<RestoreVerification['versionMismatches']> = [];
    if (countsByVersion) {
      const versions = [...new Set([...Object.keys(snapshot.countsByVersion), ...Object.keys(countsByVersion)])].sort();
      for (const version of versions) {
        const atT0 = snapshot.countsByVersion[version] ?? 0;
        const found = countsByVersion[version] ?? 0;
        const min = Math.max(0, atT0 - changed);
        const max = atT0 + changed;
        if (found >= min && found <= max) continue;
        versionMismatches.push({ version, expectedMin: min, expectedMax: max, found });
        const range = min === max ? `${max}` : `between ${min} and ${max}`;
        problems.push(
          `${where} holds ${found} document(s) at version ${version} after the restore; the state at T0 held ${range}${because}`
        );
      }
    }
    return {
      ok: problems.length === 0,
      problems,
      documentCount,
      expected,
      ...(countsByVersion ? { countsByVersion } : {}),
      ...(versionMismatches.length ? { versionMismatches } : {}),
      ...(mismatch ? { mismatch } : {}),
      ...(ttlDisabled ? { ttlDisabled } : {}),
      ...(indexProgress !== PROGRESS_NOT_REPORTED ? { indexProgress } : {}),
    };
  }

  return {
    deleteContainer,
    restoreContainer,
    reapplyContainerProperties,
    verifyRestore,
    proveRestorable: (input: ProveRestorableInput) => proveRestorable(deps, input),
    countWritesSince: (input: CountWritesSinceInput) => countWritesSince(deps, input),
  };
}

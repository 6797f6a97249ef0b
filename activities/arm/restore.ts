/**
 * Rollback by point-in-time restore (docs/architecture.md §5 and §8): Azure restores a container in place only after it
 * is deleted. deleteContainer → restoreContainer(T0) (a long-running ARM operation, resumable after a worker restart
 * from the poller state kept in heartbeats) → reapplyContainerProperties → verifyRestore against the snapshot and the
 * exported definition.
 */
import { ErrorType } from '../../common/errors';
import { ApplicationFailure } from '@temporalio/common';
import { activityInfo, heartbeat, sleep } from '@temporalio/activity';
import type { SqlContainerGetResults } from '@azure/arm-cosmosdb';
import type {
  ContainerExport,
  ContainerRef,
  RestoreInput,
  RestoreVerification,
  Snapshot,
} from '../../common/activities';
import type { ActivityDeps } from '../deps';
import { findRestoreSource, getAccount } from './backup';
import { deleteContainerIfExists, putContainerResource, setThroughput } from './ensure-container';
import { isNotFound, readContainerThroughput } from './export';

type RestoreDeps = Pick<ActivityDeps, 'arm' | 'cosmos' | 'account' | 'armPollIntervalMs'>;

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

  async function deleteContainer(input: ContainerRef): Promise<void> {
    // Already gone (e.g. a retry after the delete succeeded) is what we wanted.
    await deleteContainerIfExists(deps, input);
  }

  async function restoreContainer(input: RestoreInput): Promise<void> {
    const where = `${input.database}/${input.container}`;
    const resumeFrom = (activityInfo().heartbeatDetails as { pollerState?: string } | undefined)?.pollerState;
    if (!resumeFrom) {
      const existing = await getContainer(input);
      if (existing) {
        const restoredAt = existing.resource?.restoreParameters?.restoreTimestampInUtc;
        // A retry after the restore finished: nothing to do.
        if (restoredAt && Math.abs(restoredAt.getTime() - Date.parse(input.timestamp)) < 1000) return;
        throw ApplicationFailure.nonRetryable(
          `container ${where} exists: Azure restores a container in place only after it is deleted`,
          ErrorType.ContainerExists
        );
      }
    }
    const account = await getAccount(deps);
    const source = await findRestoreSource(arm, account);
    if (!source) {
      throw ApplicationFailure.nonRetryable(
        `account ${ref.name} has no restorable account in ARM: continuous backup is off, a restore is impossible`,
        ErrorType.RestoreImpossible
      );
    }
    const poller = await arm.sqlResources.beginCreateUpdateSqlContainer(
      ref.resourceGroup,
      ref.name,
      input.database,
      input.container,
      {
        resource: {
          id: input.container,
          createMode: 'Restore',
          restoreParameters: { restoreSource: source.id, restoreTimestampInUtc: new Date(input.timestamp) },
        },
        options: {},
      },
      { ...poll, ...(resumeFrom ? { resumeFrom } : {}) }
    );
    // Poll by hand so each poll heartbeats the poller state: a new worker resumes the same operation.
    while (!poller.isDone()) {
      heartbeat({ pollerState: poller.toString() });
      await sleep(deps.armPollIntervalMs);
      await poller.poll();
    }
    const result = poller.getResult();
    if (poller.getOperationState().status !== 'succeeded' || !result) {
      throw new Error(
        `restore of ${where} to ${input.timestamp} did not succeed (${poller.getOperationState().status})`
      );
    }
  }

  async function reapplyContainerProperties(input: { exported: ContainerExport }): Promise<{ changed: string[] }> {
    const { exported } = input;
    const current = await getContainer(exported);
    if (!current?.resource) throw new Error(`container ${exported.database}/${exported.container} does not exist`);
    const changed = differences(exported.resource, current.resource as unknown as Record<string, unknown>).filter(
      (key) => MUTABLE.includes(key)
    );
    if (changed.length) {
      await putContainerResource(deps, exported, definitionOf(exported.resource));
    }
    if (exported.throughput !== undefined && (await readContainerThroughput(deps, exported)) !== exported.throughput) {
      await setThroughput(deps, exported, exported.throughput);
      changed.push('throughput');
    }
    return { changed };
  }

  async function verifyRestore(input: { snapshot: Snapshot; exported: ContainerExport }): Promise<RestoreVerification> {
    const { snapshot, exported } = input;
    const where = `${exported.database}/${exported.container}`;
    const problems: string[] = [];
    const current = await getContainer(exported);
    if (!current?.resource) return { ok: false, problems: [`container ${where} does not exist`], documentCount: 0 };
    for (const field of differences(exported.resource, current.resource as unknown as Record<string, unknown>)) {
      problems.push(`${field} of ${where} differs from the exported definition`);
    }
    const throughput = await readContainerThroughput(deps, exported);
    if (exported.throughput !== undefined && throughput !== exported.throughput) {
      problems.push(`throughput of ${where} is ${throughput ?? 'shared'} RU/s; it was ${exported.throughput} RU/s`);
    }
    const { resources } = await cosmos
      .database(exported.database)
      .container(exported.container)
      .items.query<number>('SELECT VALUE COUNT(1) FROM c')
      .fetchAll();
    const documentCount = resources[0] ?? 0;
    if (documentCount !== snapshot.documentCount) {
      problems.push(
        `${where} holds ${documentCount} documents; the snapshot at ${snapshot.t0} had ${snapshot.documentCount}`
      );
    }
    return { ok: problems.length === 0, problems, documentCount };
  }

  return { deleteContainer, restoreContainer, reapplyContainerProperties, verifyRestore };
}

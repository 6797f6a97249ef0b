/**
 * In-account point-in-time restore of a deleted container (Microsoft.DocumentDB REST API): `PUT {container}` with
 * `resource.createMode: "Restore"` and `restoreParameters {restoreSource, restoreTimestampInUtc}`. What Azure
 * requires is checked before the 202 (deleted container, continuous account, known source, time inside the window,
 * the container existed then, it has throughput of its own rather than its database's, the account's limit of
 * concurrent restores); the long-running operation then (after `restoreDurationMs`, possibly failing when a failure
 * is injected) rebuilds the container from the backup log.
 */
import { randomUUID } from 'node:crypto';
import { accepted, type RequestContext } from './context';
import { containerKey } from './busy';
import { isRecord, rpError, type Reply } from './http';
import { containerExistedAt } from './events';
import { regionCompact } from './ids';
import { containerBody, containerId, omit } from './resource-body';
import type { AccountState } from './state';
import { requireRestoreAction } from './permission';

export async function startContainerRestore(
  ctx: RequestContext,
  database: string,
  container: string,
  resource: Record<string, unknown>
): Promise<Reply> {
  const { state } = ctx;
  const where = `container '${container}' in database '${database}'`;
  if (await state.cosmos.admin.readContainer(database, container)) {
    throw rpError(
      409,
      'Conflict',
      `Cannot restore ${where}: it already exists. Only deleted resources can be restored within same account.`
    );
  }
  requireRestoreAction(state);
  if (!state.isContinuous()) {
    throw rpError(
      400,
      'BadRequest',
      `Cannot restore ${where}: account '${state.account}' uses periodic backup; in-account point-in-time restore needs continuous backup.`
    );
  }
  const parameters = resource.restoreParameters;
  if (!isRecord(parameters)) {
    throw rpError(
      400,
      'BadRequest',
      `Cannot restore ${where}: createMode Restore needs resource.restoreParameters {restoreSource, restoreTimestampInUtc}.`
    );
  }
  const source = parameters.restoreSource;
  if (typeof source !== 'string' || !namesThisAccount(state, source)) {
    throw rpError(
      400,
      'BadRequest',
      `Cannot restore ${where}: restoreSource '${String(source)}' is not a restorable database account of this subscription ` +
        `(this account's is '${state.restorableAccountId}').`
    );
  }
  const at = new Date(String(parameters.restoreTimestampInUtc));
  if (typeof parameters.restoreTimestampInUtc !== 'string' || Number.isNaN(at.getTime())) {
    throw rpError(
      400,
      'BadRequest',
      `Cannot restore ${where}: restoreTimestampInUtc '${String(parameters.restoreTimestampInUtc)}' is not a valid UTC date-time.`
    );
  }
  const window = state.restoreWindow();
  if (at < window.oldest || at > window.latest) {
    throw rpError(
      400,
      'BadRequest',
      `Cannot restore ${where}: restoreTimestampInUtc ${at.toISOString()} is outside the restore window of account ` +
        `'${state.account}' [${window.oldest.toISOString()}, ${window.latest.toISOString()}].`
    );
  }
  if (!containerExistedAt(state.cosmos.backup, database, container, at)) {
    throw rpError(
      400,
      'BadRequest',
      `Cannot restore ${where}: it did not exist at ${at.toISOString()}. ` +
        'Choose a time between its Create and Delete events (restorableSqlContainers lists them).'
    );
  }
  // A container without throughput of its own in a database that has throughput shares the database's: Azure
  // restores such a container only with its whole database.
  const databaseThroughput = state.databaseThroughputOf(database);
  if (databaseThroughput && !state.throughputAt(database, container, at)) {
    throw rpError(
      400,
      'BadRequest',
      `Cannot restore ${where}: it uses the shared throughput of database '${database}'. ` +
        'A container in a shared throughput database cannot be restored on its own; restore the database instead.'
    );
  }
  if (state.restoring.size >= state.maxConcurrentRestores) {
    throw rpError(
      409,
      'Conflict',
      `Cannot restore ${where}: account '${state.account}' already has ${state.restoring.size} restore operations in progress ` +
        `(${[...state.restoring.keys()].join(', ')}); at most ${state.maxConcurrentRestores} can run at once. Retry after one completes.`
    );
  }
  const restoreSource: string = source;
  const withTtlDisabled =
    typeof parameters.restoreWithTtlDisabled === 'boolean' ? parameters.restoreWithTtlDisabled : undefined;

  const restoreKey = `${database}/${container}`;
  state.restoring.set(restoreKey, {
    database,
    container,
    restoreSource,
    restoreTimestampInUtc: at.toISOString(),
    ...(withTtlDisabled !== undefined ? { restoreWithTtlDisabled: withTtlDisabled } : {}),
    startTime: new Date(),
  });
  // As long as a restore of that many documents takes (AccountState.restoreDuration).
  const documents = state.cosmos.backup.containerAt(database, container, at).documents.length;
  const operation = ctx.operations.start(
    containerKey(database, container),
    state.restoreDuration(documents),
    async () => {
      try {
        return await runRestore();
      } finally {
        state.restoring.delete(restoreKey);
      }
    }
  );
  return accepted(ctx, operation, containerId(state, database, container));

  async function runRestore(): Promise<Reply> {
    const failure = state.takeRestoreFailure();
    if (failure) {
      // Nothing is created: the container stays deleted, as after a real failed restore.
      throw rpError(
        500,
        failure.code ?? 'InternalServerError',
        failure.message ??
          `The restore of ${where} to ${at.toISOString()} failed (failure injected by the local ARM imitation).`
      );
    }
    const admin = state.cosmos.admin;
    await admin.rebuildContainer(database, container, at);
    let record = await admin.readContainer(database, container);
    if (!record) throw rpError(500, 'InternalServerError', `The restored ${where} is missing after the rebuild.`);
    if (withTtlDisabled && record.defaultTtl !== undefined) {
      record = await admin.replaceContainer(database, omit(record, ['defaultTtl']));
    }
    const throughput = state.throughputAt(database, container, at);
    if (throughput) state.setThroughput(database, container, throughput);
    state.markRestored(database, container, {
      restoreSource,
      restoreTimestampInUtc: at.toISOString(),
      ...(withTtlDisabled !== undefined ? { restoreWithTtlDisabled: withTtlDisabled } : {}),
      instanceId: randomUUID(),
    });
    return { status: 200, body: containerBody(state, database, record) };
  }
}

/** The full restorable-account ARM id (as the az CLI sends it) or the bare instance id (as ARM templates do). */
export function namesThisAccount(state: AccountState, source: string): boolean {
  const instanceId = state.instanceId.toLowerCase();
  if (source.toLowerCase() === instanceId) return true;
  const match =
    /^\/subscriptions\/([^/]+)\/providers\/Microsoft\.DocumentDB\/locations\/([^/]+)\/restorableDatabaseAccounts\/([^/]+)$/i.exec(
      source
    );
  return (
    match !== null &&
    match[1]?.toLowerCase() === state.subscriptionId.toLowerCase() &&
    regionCompact(decodeURIComponent(match[2] ?? '')) === state.region &&
    match[3]?.toLowerCase() === instanceId
  );
}

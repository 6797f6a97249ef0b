/**
 * In-account point-in-time restore of a deleted container (contract §8): `PUT {container}` with
 * `resource.createMode: "Restore"` and `restoreParameters {restoreSource, restoreTimestampInUtc}`. What Azure
 * requires is checked before the 202 (deleted container, continuous account, known source, time inside the window,
 * the container existed then); the long-running operation then rebuilds the container from the backup log.
 */
import { randomUUID } from 'node:crypto';
import { accepted, type RequestContext } from './context';
import { containerKey } from './busy';
import { isRecord, rpError, type Reply } from './http';
import { containerExistedAt } from './events';
import { regionCompact } from './ids';
import { containerBody, containerId, omit } from './resource-body';
import type { AccountState } from './state';

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
  const restoreSource = parameters.restoreSource;
  if (typeof restoreSource !== 'string' || !namesThisAccount(state, restoreSource)) {
    throw rpError(
      400,
      'BadRequest',
      `Cannot restore ${where}: restoreSource '${String(restoreSource)}' is not a restorable database account of this subscription ` +
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
  const withTtlDisabled =
    typeof parameters.restoreWithTtlDisabled === 'boolean' ? parameters.restoreWithTtlDisabled : undefined;

  const operation = ctx.operations.start(containerKey(database, container), state.operationDelayMs, async () => {
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
  });
  return accepted(ctx, operation, containerId(state, database, container));
}

/** The full restorable-account ARM id (as the az CLI sends it) or the bare instance id (as ARM templates do). */
function namesThisAccount(state: AccountState, source: string): boolean {
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

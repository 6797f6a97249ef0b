/**
 * Restore into a new account (Microsoft.DocumentDB REST API): `PUT databaseAccounts/{new}` with `properties.createMode: "Restore"` and
 * `restoreParameters {restoreMode, restoreSource, restoreTimestampInUtc, databasesToRestore}`. This is how Azure
 * restores a container that is still live (an in-account restore only brings back deleted ones, §8), so it is what a
 * restore drill uses. The imitation checks what Azure checks before answering (a new name, a continuous source, the
 * time inside the window, each database and container existing then), answers 200 with the account `Creating` and
 * the LRO headers (as recorded, §9), and after the restore duration starts a new emulator (its own endpoint and data
 * folder) holding the named containers as they were at the time, read from this account's backup log.
 *
 * The new account has only a data plane here (GET, listKeys, DELETE on the account itself; its sqlDatabases are
 * not served), and it does not survive a restart of the stack (docs: local/README.md).
 */
import { networkRulesOf, type NetworkRules } from './network';
import { randomUUID } from 'node:crypto';
import { accepted, param, type RequestContext } from './context';
import { accountBody } from './account';
import { containerExistedAt, resourcesAt } from './events';
import { armError, isRecord, rpError, type Reply } from './http';
import { accountKey } from './busy';
import { namesThisAccount } from './restore';
import type { AccountState } from './state';
import type { RestoredAccountHost } from './types';
import { requireRestoreAction } from './permission';

export interface RestoredAccount {
  name: string;
  instanceId: string;
  createdAt: Date;
  provisioningState: 'Creating' | 'Succeeded' | 'Deleting' | 'Failed';
  restoreParameters: Record<string, unknown>;
  /** What the creation request asked for: a restore does not bring the source's back. */
  network: NetworkRules;
  /** The running emulator of the account, once the restore has made it. */
  host?: RestoredAccountHost;
}

/** Azure's rule for account names: 3–44 characters, lower-case letters, digits and hyphens, not starting with one. */
const ACCOUNT_NAME = /^[a-z0-9][a-z0-9-]{2,43}$/;

function restoredOrNotFound(ctx: RequestContext, name: string): RestoredAccount {
  const restored = ctx.state.restoredAccounts.get(name.toLowerCase());
  if (!restored) {
    // ARM itself answers for an account that does not exist: its envelope, not the RP's shape.
    throw armError(
      404,
      'ResourceNotFound',
      `The Resource 'Microsoft.DocumentDB/databaseAccounts/${name}' under resource group '${ctx.state.resourceGroup}' was not found.`
    );
  }
  return restored;
}

/** GET of the imitation's own account or of one it restored. */
export async function getAccount(ctx: RequestContext): Promise<Reply> {
  const name = param(ctx, 'account');
  if (name.toLowerCase() === ctx.state.account.toLowerCase()) return { status: 200, body: accountBody(ctx.state) };
  return { status: 200, body: accountBody(ctx.state, restoredOrNotFound(ctx, name)) };
}

/** `POST .../listKeys`: the account keys (the emulators accept the well-known emulator key). */
export async function listKeys(ctx: RequestContext): Promise<Reply> {
  const name = param(ctx, 'account');
  let key: string | undefined;
  if (name.toLowerCase() === ctx.state.account.toLowerCase()) key = ctx.state.cosmos.key;
  else key = restoredOrNotFound(ctx, name).host?.cosmos.key;
  if (!key) throw rpError(409, 'Conflict', `Database account '${name}' is still being created; its keys come after.`);
  return {
    status: 200,
    body: {
      primaryMasterKey: key,
      secondaryMasterKey: key,
      primaryReadonlyMasterKey: key,
      secondaryReadonlyMasterKey: key,
    },
  };
}

/** `PUT databaseAccounts/{name}`: only a restore into a new account is imitated. */
export async function putAccount(ctx: RequestContext): Promise<Reply> {
  const { state } = ctx;
  const name = param(ctx, 'account');
  const refuse = (status: number, code: string, why: string) =>
    rpError(status, code, `Cannot create account '${name}': ${why}`);
  if (name.toLowerCase() === state.account.toLowerCase() || state.restoredAccounts.has(name.toLowerCase())) {
    throw refuse(409, 'Conflict', 'an account of that name exists (the local ARM imitation does not update accounts).');
  }
  if (!ACCOUNT_NAME.test(name)) {
    throw refuse(
      400,
      'BadRequest',
      'an account name has 3 to 44 characters: lower-case letters, digits and hyphens, starting with a letter or digit.'
    );
  }
  const body = isRecord(ctx.body) ? ctx.body : {};
  const properties = isRecord(body.properties) ? body.properties : {};
  if (properties.createMode !== 'Restore') {
    throw refuse(
      400,
      'BadRequest',
      'the local ARM imitation creates accounts only by restore (properties.createMode "Restore").'
    );
  }
  requireRestoreAction(state);
  const parameters = isRecord(properties.restoreParameters) ? properties.restoreParameters : undefined;
  const source = parameters?.restoreSource;
  if (typeof source !== 'string' || !namesThisAccount(state, source)) {
    throw refuse(
      400,
      'BadRequest',
      `restoreSource '${String(source)}' is not a restorable database account of this subscription ` +
        `(account '${state.account}' is '${state.restorableAccountId}').`
    );
  }
  if (!state.isContinuous()) {
    throw refuse(
      400,
      'BadRequest',
      `account '${state.account}' uses periodic backup; point-in-time restore needs continuous backup.`
    );
  }
  const at = new Date(String(parameters?.restoreTimestampInUtc));
  if (typeof parameters?.restoreTimestampInUtc !== 'string' || Number.isNaN(at.getTime())) {
    throw refuse(
      400,
      'BadRequest',
      `restoreTimestampInUtc '${String(parameters?.restoreTimestampInUtc)}' is not a valid UTC date-time.`
    );
  }
  const window = state.restoreWindow();
  if (at < window.oldest || at > window.latest) {
    throw refuse(
      400,
      'BadRequest',
      `restoreTimestampInUtc ${at.toISOString()} is outside the restore window of account '${state.account}' ` +
        `[${window.oldest.toISOString()}, ${window.latest.toISOString()}].`
    );
  }
  const selection = databasesToRestore(state, parameters?.databasesToRestore, at, refuse);
  if (!state.startRestoredAccount) {
    throw refuse(400, 'BadRequest', 'this ARM imitation was started without a way to run restored accounts.');
  }
  const startAccount = state.startRestoredAccount;
  const withTtlDisabled = parameters?.restoreWithTtlDisabled === true;
  const restored: RestoredAccount = {
    name,
    instanceId: randomUUID(),
    createdAt: new Date(),
    provisioningState: 'Creating',
    network: networkRulesOf(properties),
    restoreParameters: {
      restoreMode: 'PointInTime',
      restoreSource: source,
      restoreTimestampInUtc: at.toISOString(),
      restoreWithTtlDisabled: withTtlDisabled,
      databasesToRestore: selection.map(([databaseName, collectionNames]) => ({ databaseName, collectionNames })),
    },
  };
  state.restoredAccounts.set(name.toLowerCase(), restored);
  // As long as a restore of that many documents takes (AccountState.restoreDuration).
  const documents = selection.reduce(
    (n, [database, containers]) =>
      n + containers.reduce((m, c) => m + state.cosmos.backup.containerAt(database, c, at).documents.length, 0),
    0
  );
  const operation = ctx.operations.start(accountKey(name), state.restoreDuration(documents), async () => {
    try {
      const failure = state.takeRestoreFailure();
      if (failure) {
        throw rpError(
          500,
          failure.code ?? 'InternalServerError',
          failure.message ?? `The restore into account '${name}' failed (failure injected by the local ARM imitation).`
        );
      }
      const host = await startAccount(name);
      restored.host = host;
      for (const [database, containers] of selection) {
        await host.cosmos.admin.createDatabase(database);
        for (const container of containers) {
          const then = state.cosmos.backup.containerAt(database, container, at);
          await host.cosmos.admin.loadContainer(database, then, { withTtlDisabled });
          const throughput = state.throughputAt(database, container, at);
          const ru = throughput?.throughput ?? throughput?.autoscaleMaxThroughput;
          if (ru !== undefined) host.cosmos.control.setThroughput(database, container, ru);
        }
      }
      restored.provisioningState = 'Succeeded';
      return { status: 200, body: accountBody(state, restored) };
    } catch (err) {
      restored.provisioningState = 'Failed';
      throw err;
    }
  });
  const reply = accepted(
    ctx,
    operation,
    `/subscriptions/${state.subscriptionId}/resourceGroups/${state.resourceGroup}/providers/Microsoft.DocumentDB/databaseAccounts/${name}`
  );
  // An account create answers 200 with the account Creating, plus the same LRO headers (Microsoft.DocumentDB REST API).
  return { status: 200, body: accountBody(state, restored), headers: reply.headers };
}

/** `DELETE databaseAccounts/{name}`: only accounts the imitation restored; the emulator and its data go with it. */
export async function deleteAccount(ctx: RequestContext): Promise<Reply> {
  const { state } = ctx;
  const name = param(ctx, 'account');
  if (name.toLowerCase() === state.account.toLowerCase()) {
    throw rpError(400, 'BadRequest', `The local ARM imitation does not delete its own account '${state.account}'.`);
  }
  const restored = restoredOrNotFound(ctx, name);
  const running = ctx.operations.inProgress(accountKey(name));
  if (running) {
    throw rpError(
      409,
      'Conflict',
      `Another operation (${running.id}) is in progress on account '${name}'; retry after it completes.`
    );
  }
  restored.provisioningState = 'Deleting';
  const operation = ctx.operations.start(accountKey(name), state.operationDelayMs, async () => {
    await restored.host?.dispose();
    state.restoredAccounts.delete(name.toLowerCase());
    return undefined;
  });
  return accepted(
    ctx,
    operation,
    `/subscriptions/${state.subscriptionId}/resourceGroups/${state.resourceGroup}/providers/Microsoft.DocumentDB/databaseAccounts/${name}`
  );
}

/**
 * `databasesToRestore` as [database, containers][]; empty or absent restores every database alive at `at`. Each
 * named database and container must have existed then.
 */
function databasesToRestore(
  state: AccountState,
  given: unknown,
  at: Date,
  refuse: (status: number, code: string, why: string) => Error
): [string, string[]][] {
  const alive = resourcesAt(state.cosmos.backup, at);
  if (given === undefined || (Array.isArray(given) && given.length === 0)) return [...alive];
  if (!Array.isArray(given)) throw refuse(400, 'BadRequest', 'databasesToRestore must be an array.');
  return given.map((entry: unknown): [string, string[]] => {
    const databaseName = isRecord(entry) ? entry.databaseName : undefined;
    if (typeof databaseName !== 'string' || !alive.has(databaseName)) {
      throw refuse(400, 'BadRequest', `database '${String(databaseName)}' did not exist at ${at.toISOString()}.`);
    }
    const names = isRecord(entry) && Array.isArray(entry.collectionNames) ? entry.collectionNames : [];
    const containers = names.length > 0 ? names.map(String) : (alive.get(databaseName) ?? []);
    for (const container of containers) {
      if (!containerExistedAt(state.cosmos.backup, databaseName, container, at)) {
        throw refuse(
          400,
          'BadRequest',
          `container '${container}' of database '${databaseName}' did not exist at ${at.toISOString()}.`
        );
      }
    }
    return [databaseName, containers];
  });
}

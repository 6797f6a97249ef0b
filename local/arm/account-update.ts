/**
 * `PATCH databaseAccounts/{name}` (DatabaseAccounts_Update, @azure/arm-cosmosdb `databaseAccounts.beginUpdate`): a
 * long-running operation like every Cosmos RP write. The imitation models one account property that matters to a
 * migration, `enablePriorityBasedExecution` (the emulator's RU model throttles Low-priority requests first only while
 * it is on); a body naming anything else is refused with a 400 that says so, rather than half-applied. The switch
 * lives in the running emulator: a restarted stack starts with it off again (Azure's default), unless
 * `LOCAL_COSMOS_PRIORITY_BASED_EXECUTION` says otherwise.
 */
import { accountBody } from './account';
import { accepted, param, type RequestContext } from './context';
import { armError, isRecord, rpError, type Reply } from './http';
import { accountKey, refuseWhileBusy } from './busy';

const MODELLED = new Set(['enablePriorityBasedExecution']);

export async function patchAccount(ctx: RequestContext): Promise<Reply> {
  const { state } = ctx;
  const name = param(ctx, 'account');
  if (name.toLowerCase() !== state.account.toLowerCase()) {
    if (!state.restoredAccounts.has(name.toLowerCase())) {
      // ARM itself answers for an account that does not exist: its envelope, not the RP's shape.
      throw armError(
        404,
        'ResourceNotFound',
        `The Resource 'Microsoft.DocumentDB/databaseAccounts/${name}' under resource group '${state.resourceGroup}' was not found.`
      );
    }
    throw rpError(
      400,
      'BadRequest',
      `Cannot update account '${name}': the local ARM imitation updates only its own account '${state.account}'.`
    );
  }
  const topLevel = isRecord(ctx.body) ? Object.keys(ctx.body).filter((key) => key !== 'properties') : [];
  if (topLevel.length > 0) {
    throw rpError(
      400,
      'BadRequest',
      `Cannot update account '${name}': the local ARM imitation models only properties.enablePriorityBasedExecution, not ${topLevel.join(', ')}.`
    );
  }
  const properties = isRecord(ctx.body) && isRecord(ctx.body.properties) ? ctx.body.properties : {};
  const others = Object.keys(properties).filter((key) => !MODELLED.has(key));
  if (others.length > 0) {
    throw rpError(
      400,
      'BadRequest',
      `Cannot update account '${name}': the local ARM imitation models only ${[...MODELLED].join(', ')}, not ${others.join(', ')}.`
    );
  }
  const pbe = properties.enablePriorityBasedExecution;
  if (pbe !== undefined && typeof pbe !== 'boolean') {
    throw rpError(400, 'BadRequest', 'properties.enablePriorityBasedExecution must be true or false.');
  }
  const key = accountKey(state.account);
  refuseWhileBusy(ctx, key, `account '${state.account}'`);
  // While the update runs ARM reports the account `Updating` (DatabaseAccountGetResults.provisioningState in
  // @azure/arm-cosmosdb dist/commonjs/models/index.d.ts), unless a test set another operation.
  const updating = state.accountOperation === undefined;
  if (updating) state.accountOperation = 'Updating';
  const operation = ctx.operations.start(key, state.operationDelayMs, async () => {
    if (updating) state.accountOperation = undefined;
    if (pbe !== undefined) state.cosmos.control.setPriorityBasedExecution(pbe);
    return { status: 200, body: accountBody(state) };
  });
  return accepted(ctx, operation, accountBody(state).id as string);
}

/**
 * `PATCH databaseAccounts/{name}` (DatabaseAccounts_Update, @azure/arm-cosmosdb `databaseAccounts.beginUpdate`): a
 * long-running operation like every Cosmos RP write. The imitation models one account property that matters to a
 * migration, `enablePriorityBasedExecution` (the emulator's RU model throttles Low-priority requests first only while
 * it is on); a body naming any other property is refused with a 400 that says so, rather than half-applied.
 */
import { accountBody } from './account';
import { accepted, param, type RequestContext } from './context';
import { isRecord, rpError, type Reply } from './http';

const MODELLED = new Set(['enablePriorityBasedExecution']);

export async function patchAccount(ctx: RequestContext): Promise<Reply> {
  const { state } = ctx;
  const name = param(ctx, 'account');
  if (name.toLowerCase() !== state.account.toLowerCase()) {
    throw rpError(
      400,
      'BadRequest',
      `Cannot update account '${name}': the local ARM imitation updates only its own account '${state.account}'.`
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
  const operation = ctx.operations.start(`account/${name}`, state.operationDelayMs, async () => {
    if (pbe !== undefined) state.cosmos.control.setPriorityBasedExecution(pbe);
    return { status: 200, body: accountBody(state) };
  });
  return accepted(ctx, operation, accountBody(state).id as string);
}

/**
 * The two URLs of a long-running operation: `operationsStatus/{id}` (Azure-AsyncOperation, what the SDK polls) and
 * `.../operationResults/{id}` (Location: 202 while running, then the operation's result or its error).
 */
import { param, type RequestContext } from './context';
import { armError, type Reply } from './http';
import type { Operation } from './operations';

function find(ctx: RequestContext): Operation {
  const id = param(ctx, 'operationId');
  const operation = ctx.operations.get(id);
  if (!operation) throw armError(404, 'NotFound', `Operation '${id}' was not found.`);
  return operation;
}

export async function getOperationStatus(ctx: RequestContext): Promise<Reply> {
  const operation = find(ctx);
  return {
    status: 200,
    body: {
      id: `/subscriptions/${ctx.state.subscriptionId}/providers/Microsoft.DocumentDB/locations/${ctx.state.region}/operationsStatus/${operation.id}`,
      name: operation.id,
      status: operation.status,
      startTime: operation.startTime.toISOString(),
      ...(operation.endTime ? { endTime: operation.endTime.toISOString() } : {}),
      ...(operation.error ? { error: { code: operation.error.code, message: operation.error.message } } : {}),
    },
  };
}

export async function getOperationResult(ctx: RequestContext): Promise<Reply> {
  const operation = find(ctx);
  if (operation.status === 'Failed' && operation.error) {
    throw armError(operation.error.httpStatus, operation.error.code, operation.error.message);
  }
  if (operation.status !== 'Succeeded') return { status: 202, headers: { location: ctx.url } };
  return operation.result ?? { status: 204 };
}

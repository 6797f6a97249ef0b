/**
 * `POST {container}/retrieveContinuousBackupInformation` (Microsoft.DocumentDB REST API): a long-running operation whose result is read
 * from the Location URL (final-state-via location). The latest restorable time is now minus the configured backup lag:
 * the emulator logs every write synchronously, so everything written before it can be restored.
 */
import { randomUUID } from 'node:crypto';
import { accepted, param, type RequestContext } from './context';
import { isRecord, rpError, type Reply } from './http';
import { readContainerOrThrow } from './containers';
import { containerId } from './resource-body';
import { regionCompact } from './ids';

export async function retrieveContinuousBackupInformation(ctx: RequestContext): Promise<Reply> {
  const { state } = ctx;
  const database = param(ctx, 'db');
  const container = param(ctx, 'container');
  await readContainerOrThrow(ctx, database, container);
  if (!state.isContinuous()) {
    throw rpError(
      400,
      'BadRequest',
      `Continuous backup information is not available: account '${state.account}' uses periodic backup.`
    );
  }
  const location = isRecord(ctx.body) && typeof ctx.body.location === 'string' ? ctx.body.location : undefined;
  if (location !== undefined && regionCompact(location) !== state.region) {
    throw rpError(
      400,
      'BadRequest',
      `Location '${location}' is not a region of account '${state.account}' (${state.location}).`
    );
  }
  // Reads of backup information do not block changes to the container: a key of its own.
  const operation = ctx.operations.start(`backup-info:${randomUUID()}`, state.operationDelayMs, async () => ({
    status: 200,
    body: {
      continuousBackupInformation: { latestRestorableTimestamp: state.restoreWindow().latest.toISOString() },
    },
  }));
  return accepted(ctx, operation, `${containerId(state, database, container)}/retrieveContinuousBackupInformation`);
}

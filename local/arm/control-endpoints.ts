/**
 * The ARM imitation's restore switches over HTTPS, for use from outside the process (the stack runs as a daemon):
 * `GET /_local/restores` and `PUT /_local/restores`. Like every ARM request they need the bearer token
 * (LOCAL_ARM_TOKEN); they need no api-version.
 */
import { z } from 'zod';
import { armError, type Reply } from './http';
import type { ArmControl } from './types';
import type { AccountState } from './state';

export const ARM_CONTROL_PREFIX = '/_local/';

const restoresBody = z
  .object({
    durationMs: z.number().int().min(0).nullable().optional(),
    msPerDocument: z.number().min(0).optional(),
    maxConcurrent: z.number().int().min(1).optional(),
    permission: z.boolean().optional(),
    failure: z
      .object({
        times: z.number().int().min(1).optional(),
        code: z.string().min(1).optional(),
        message: z.string().min(1).optional(),
      })
      .strict()
      .nullable()
      .optional(),
  })
  .strict();

function settings(state: AccountState) {
  const failure = state.restoreFailure;
  return {
    durationMs: state.restoreDurationMs ?? null,
    effectiveDurationMs: state.restoreDuration(),
    msPerDocument: state.restoreMsPerDocument,
    maxConcurrent: state.maxConcurrentRestores,
    permission: state.restorePermission,
    failure: failure
      ? {
          times: failure.left,
          ...(failure.code ? { code: failure.code } : {}),
          ...(failure.message ? { message: failure.message } : {}),
        }
      : null,
    inProgress: [...state.restoring.keys()],
    restoredAccounts: [...state.restoredAccounts.values()].map((a) => ({
      name: a.name,
      provisioningState: a.provisioningState,
    })),
  };
}

export function handleArmControl(
  method: string,
  path: string,
  body: unknown,
  state: AccountState,
  control: ArmControl
): Reply {
  const where = path.replace(/\/+$/, '');
  if (where !== '/_local/restores') {
    throw armError(404, 'NotFound', `${method} ${where} is not a control endpoint (GET/PUT /_local/restores)`);
  }
  if (method === 'GET') return { status: 200, body: settings(state) };
  if (method !== 'PUT') throw armError(405, 'MethodNotAllowed', `${method} ${where}: use GET or PUT`);
  const parsed = restoresBody.safeParse(body);
  if (!parsed.success) throw armError(400, 'BadRequest', `${where}: ${z.prettifyError(parsed.error)}`);
  const { durationMs, msPerDocument, maxConcurrent, permission, failure } = parsed.data;
  if (durationMs !== undefined) control.setRestoreDuration(durationMs ?? undefined);
  if (msPerDocument !== undefined) control.setRestoreMsPerDocument(msPerDocument);
  if (maxConcurrent !== undefined) control.setMaxConcurrentRestores(maxConcurrent);
  if (permission !== undefined) control.setRestorePermission(permission);
  if (failure !== undefined) control.setRestoreFailure(failure ?? undefined);
  return { status: 200, body: settings(state) };
}

/**
 * The emulator's switches over HTTPS, for use from outside the process (the stack runs as a daemon):
 * GET/PUT /_local/ru, GET/PUT /_local/faults, GET /_local/stats. They require the account key in `x-local-key`.
 */
import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { RawRequest, RawResponse } from './dispatch';
import type { EmulatorControl } from './types';
import type { RuModel } from './ru-model';
import type { FaultInjector } from './faults';

export const CONTROL_PREFIX = '/_local/';

const ruBody = z
  .object({
    enabled: z.boolean(),
    defaultThroughput: z.number().positive().optional(),
    throughput: z
      .record(z.string().regex(/^[^/]+\/[^/]+$/, 'keys are "database/container"'), z.number().positive())
      .optional(),
  })
  .strict();

const probability = z.number().min(0).max(1).optional();
const ms = z.number().min(0).optional();
const faultsBody = z.array(
  z
    .object({
      kinds: z.array(z.enum(['read', 'write', 'query', 'batch', 'metadata'])).optional(),
      throttleProbability: probability,
      unavailableProbability: probability,
      timeoutProbability: probability,
      latencyMs: ms,
      retryAfterMs: ms,
      timeoutHangMs: ms,
    })
    .strict()
);

const json = (status: number, body: unknown): RawResponse => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

function sameKey(given: string | undefined, key: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(key);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function handleControl(
  request: RawRequest,
  key: string,
  deps: { ru: RuModel; faults: FaultInjector; control: EmulatorControl }
): RawResponse {
  if (!sameKey(request.headers['x-local-key'], key)) {
    return json(401, { code: 'Unauthorized', message: 'The x-local-key header must carry the account key.' });
  }
  const path = new URL(request.url, 'https://emulator').pathname.replace(/\/+$/, '');
  const method = request.method.toUpperCase();
  let parsed: unknown;
  if (method === 'PUT') {
    try {
      parsed = JSON.parse(request.body);
    } catch {
      return json(400, { code: 'BadRequest', message: `${path}: the body is not JSON` });
    }
  }
  const invalid = (error: z.ZodError) =>
    json(400, { code: 'BadRequest', message: `${path}: ${z.prettifyError(error)}` });
  switch (`${method} ${path}`) {
    case 'GET /_local/ru':
      return json(200, deps.ru.settings());
    case 'PUT /_local/ru': {
      const body = ruBody.safeParse(parsed);
      if (!body.success) return invalid(body.error);
      const { enabled, defaultThroughput, throughput } = body.data;
      deps.control.setRuModel(enabled, defaultThroughput === undefined ? {} : { defaultThroughput });
      for (const [name, ruPerSecond] of Object.entries(throughput ?? {})) {
        const [database, container] = name.split('/') as [string, string];
        deps.control.setThroughput(database, container, ruPerSecond);
      }
      return json(200, deps.ru.settings());
    }
    case 'GET /_local/faults':
      return json(200, deps.faults.get());
    case 'PUT /_local/faults': {
      const body = faultsBody.safeParse(parsed);
      if (!body.success) return invalid(body.error);
      deps.control.setFaults(body.data);
      return json(200, deps.faults.get());
    }
    case 'GET /_local/stats':
      return json(200, deps.control.stats());
    default:
      return json(404, {
        code: 'NotFound',
        message: `${method} ${path} is not a control endpoint (GET/PUT /_local/ru, GET/PUT /_local/faults, GET /_local/stats)`,
      });
  }
}

/**
 * The emulator's switches over HTTPS, for use from outside the process (the stack runs as a daemon):
 * GET/PUT /_local/ru, GET/PUT /_local/faults, GET /_local/stats, GET/PUT /_local/partitions,
 * POST /_local/partitions/split, GET/PUT /_local/session. They require the account key in `x-local-key`.
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
    partialBulkThrottling: z.boolean().optional(),
    priorityModel: z.enum(['azure', 'reserve']).optional(),
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
      dropProbability: probability,
      dropResponseProbability: probability,
      bulkOperationFaultProbability: probability,
      bulkOperationStatus: z.number().int().min(400).max(599).optional(),
      shortPageProbability: probability,
      latencyMs: ms,
      retryAfterMs: ms,
      timeoutHangMs: ms,
    })
    .strict()
);

const sessionBody = z.object({ lagMs: z.number().min(0) }).strict();

const containerName = { database: z.string().min(1), container: z.string().min(1) };
const partitionsBody = z.object({ ...containerName, count: z.number().int().min(1).max(1024) }).strict();
const splitBody = z.object({ ...containerName, rangeId: z.string().min(1) }).strict();

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

export async function handleControl(
  request: RawRequest,
  key: string,
  deps: { ru: RuModel; faults: FaultInjector; control: EmulatorControl }
): Promise<RawResponse> {
  if (!sameKey(request.headers['x-local-key'], key)) {
    return json(401, { code: 'Unauthorized', message: 'The x-local-key header must carry the account key.' });
  }
  const path = new URL(request.url, 'https://emulator').pathname.replace(/\/+$/, '');
  const method = request.method.toUpperCase();
  let parsed: unknown;
  if (method === 'PUT' || method === 'POST') {
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
      const { enabled, defaultThroughput, throughput, partialBulkThrottling, priorityModel } = body.data;
      if (priorityModel !== undefined) deps.control.setPriorityModel(priorityModel);
      deps.control.setRuModel(enabled, defaultThroughput === undefined ? {} : { defaultThroughput });
      if (partialBulkThrottling !== undefined) deps.control.setPartialBulkThrottling(partialBulkThrottling);
      for (const [name, ruPerSecond] of Object.entries(throughput ?? {})) {
        const [database, container] = name.split('/') as [string, string];
        deps.control.setThroughput(database, container, ruPerSecond);
      }
      return json(200, deps.ru.settings());
    }
    case 'GET /_local/faults':
      return withSeed(json(200, deps.faults.get()), deps.faults.seed);
    case 'PUT /_local/faults': {
      const body = faultsBody.safeParse(parsed);
      if (!body.success) return invalid(body.error);
      const seed = faultSeed(new URL(request.url, 'https://emulator').searchParams.get('seed'));
      if (seed instanceof Error) return json(400, { code: 'BadRequest', message: `${path}: ${seed.message}` });
      deps.control.setFaults(body.data, seed);
      return withSeed(json(200, deps.faults.get()), deps.faults.seed);
    }
    case 'GET /_local/session':
      return json(200, { lagMs: deps.control.sessionLag() });
    case 'PUT /_local/session': {
      const body = sessionBody.safeParse(parsed);
      if (!body.success) return invalid(body.error);
      deps.control.setSessionLag(body.data.lagMs);
      return json(200, { lagMs: deps.control.sessionLag() });
    }
    case 'GET /_local/stats':
      return json(200, deps.control.stats());
    case 'GET /_local/partitions': {
      const query = new URL(request.url, 'https://emulator').searchParams;
      const database = query.get('database');
      const container = query.get('container');
      if (!database || !container) {
        return json(400, { code: 'BadRequest', message: `${path}: ?database=...&container=... are required` });
      }
      return partitionCall(() => deps.control.partitions(database, container));
    }
    case 'PUT /_local/partitions': {
      const body = partitionsBody.safeParse(parsed);
      if (!body.success) return invalid(body.error);
      const { database, container, count } = body.data;
      return partitionCall(() => deps.control.setPartitionCount(database, container, count));
    }
    case 'POST /_local/partitions/split': {
      const body = splitBody.safeParse(parsed);
      if (!body.success) return invalid(body.error);
      const { database, container, rangeId } = body.data;
      return partitionCall(() => deps.control.splitPartition(database, container, rangeId));
    }
    default:
      return json(404, {
        code: 'NotFound',
        message: `${method} ${path} is not a control endpoint (GET/PUT /_local/ru, GET/PUT /_local/faults, GET /_local/stats, GET/PUT /_local/partitions, POST /_local/partitions/split, GET/PUT /_local/session)`,
      });
  }
}

/** `?seed=N` of `PUT /_local/faults`: a non-negative integer, or absent. */
function faultSeed(raw: string | null): number | undefined | Error {
  if (raw === null || raw === '') return undefined;
  const seed = Number(raw);
  return Number.isSafeInteger(seed) && seed >= 0
    ? seed
    : new Error(`seed must be a non-negative integer, got "${raw}"`);
}

/** The fault answers name the seed of the draws in force, so a failing run can be replayed. */
function withSeed(response: RawResponse, seed: number): RawResponse {
  return { ...response, headers: { ...response.headers, 'x-local-fault-seed': String(seed) } };
}

async function partitionCall(call: () => Promise<unknown>): Promise<RawResponse> {
  try {
    return json(200, await call());
  } catch (err) {
    const message = (err as Error).message;
    return json(/does not exist|no live partition key range/.test(message) ? 404 : 400, {
      code: /does not exist|no live/.test(message) ? 'NotFound' : 'BadRequest',
      message,
    });
  }
}
